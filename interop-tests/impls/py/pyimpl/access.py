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
