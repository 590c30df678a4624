"""Who may do what, in the Python implementation: describe, opens refused by authorisation, and a protocol
version the listener does not serve."""
from __future__ import annotations

from typing import Any

from .context import Ctx


async def describe_listener(ctx: Ctx, peer: Any) -> dict[str, Any]:
    from spikewire.codec.jsonmap import message_to_json
    node = peer.node
    remote = await node.connect(ctx.peer_addr)
    description = await node.describe(remote)
    # The PeerId the connection authenticated (Noise), not the one the address names.
    conns = node.host.get_network().get_connections(remote) if hasattr(node.host.get_network(), "get_connections") else []
    authenticated = str(conns[0].muxed_conn.peer_id) if conns else str(remote)
    return {"description": message_to_json(description), "peer": authenticated}


async def try_unknown_version(ctx: Ctx, peer: Any) -> dict[str, Any]:
    """Propose only the unknown version (negotiation must fail), then [unknown, 1.0.0] and open on it."""
    from spikewire.codec.messages import Accept, Close, DecodeContext, MessageType, Mode, Open
    from spikewire.net.host import open_stream
    from spikewire.wire.stream import FramedStream
    from .context import PROTOCOLS

    node = peer.node
    unknown = ctx.param("unknown", str)
    remote = await node.connect(ctx.peer_addr)
    refused = False
    error = ""
    try:
        s = await open_stream(node.host, remote, [unknown], timeout=5)
        await s.reset()
    except Exception as err:  # noqa: BLE001 - the refusal is the expected outcome
        refused = True
        error = type(err).__name__
    s = await open_stream(node.host, remote, [unknown, PROTOCOLS["events"]], timeout=5)
    fs = FramedStream(s)
    port = ctx.param("port", str)
    await fs.write(Open(Mode.SUBSCRIBE, port))
    context = DecodeContext.make(expected=[MessageType.ACCEPT, MessageType.REJECT, MessageType.CLOSE], port=port)
    answer = await fs.read_message(context, timeout=5)
    if not isinstance(answer, Close):
        await fs.close("normal")
    return {"unknown_refused": refused, "unknown_error": error,
            "fallback_protocol": str(s.get_protocol()), "fallback_accepted": isinstance(answer, Accept)}
