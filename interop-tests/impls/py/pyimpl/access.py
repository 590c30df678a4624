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
    network = node.host.get_network()
    conns = network.get_connections(remote) if hasattr(network, "get_connections") else []
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


async def try_refused(ctx: Ctx, peer: Any) -> dict[str, Any]:
    """Subscribe to (and push into) ports closed to this peer; then a control subscription."""
    import trio
    from spikewire.errors import RejectedError

    node = peer.node
    results: list[dict[str, Any]] = []
    for a in ctx.param("attempts", list):
        outcome: dict[str, Any]
        if a["mode"] == "push":
            if "drive" not in peer.out_ports:
                peer.out_ports["drive"] = node.events.add_out_port("drive", channels=1)
            link = node.events.push(peer.out_ports["drive"], ctx.peer_addr, a["port"])
            with trio.move_on_after(5):
                while not link.open.is_set() and link.error is None:
                    await trio.sleep(0.005)
            if link.open.is_set():
                outcome = {"outcome": "accepted"}
            elif isinstance(link.error, RejectedError):
                outcome = {"outcome": "rejected", "code": link.error.code}
            else:
                outcome = {"outcome": "failed", "code": str(link.error)}
            link.stop()
        else:
            sub = node.events.subscribe(ctx.peer_addr, a["port"], reconnect=False)
            outcome = await _attempt(sub)
        results.append({**a, **outcome})
    control = await _attempt(node.events.subscribe(ctx.peer_addr, ctx.param("control", str), reconnect=False))
    return {"attempts": results, "control": control["outcome"]}


async def _attempt(sub: Any) -> dict[str, Any]:
    """Open a subscription: accepted (then closed), rejected with a code, or failed."""
    import trio
    from spikewire.errors import RejectedError

    out: dict[str, Any] = {"outcome": "failed"}
    finished = trio.Event()

    async def first() -> None:
        try:
            await sub.__anext__()
        except RejectedError as err:
            out.update(outcome="rejected", code=err.code)
        except StopAsyncIteration:
            pass
        except Exception as err:  # noqa: BLE001
            out.update(outcome="failed", code=f"{type(err).__name__}: {err}")
        finished.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(first)
        with trio.move_on_after(5):
            while sub.stats.connects == 0 and not finished.is_set():
                await trio.sleep(0.005)
        if sub.stats.connects > 0:
            out = {"outcome": "accepted"}
        nursery.cancel_scope.cancel()
    with trio.move_on_after(3):
        await sub.aclose()
    return out
