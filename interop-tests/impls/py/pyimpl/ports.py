"""The listener's ports from SW_PORTS; "dialer" in `allow` resolves to the dialer's PeerId."""
from __future__ import annotations

from typing import Any

from .context import Ctx


def allow_list(allow: str | None, by_default: str, dialer_peer: str) -> str | list[str]:
    a = allow or by_default
    return "*" if a == "any" else [dialer_peer] if a == "dialer" else []


def add_ports(node: Any, ctx: Ctx, dialer_peer: str) -> None:
    from spikewire.codec.messages import Port
    from spikewire.node import DIRECTIONS, KINDS
    for p in ctx.ports:
        node.add_port(Port(p["name"], DIRECTIONS[p["direction"]], KINDS[p.get("kind", "spike")], int(p["channels"])))
