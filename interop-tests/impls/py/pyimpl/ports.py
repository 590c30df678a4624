"""The listener's ports from SW_PORTS ("dialer" in `allow` resolves to the dialer's PeerId) and the limits
of SW_PARAMS.limits that concern a listener."""
from __future__ import annotations

from typing import Any

from .context import Ctx


def allow_list(allow: str | None, by_default: str, dialer_peer: str) -> str | list[str]:
    a = allow or by_default
    return "*" if a == "any" else [dialer_peer] if a == "dialer" else []


def apply_limits(node: Any, ctx: Ctx) -> None:
    """SW_PARAMS.limits: max_events (the per-batch receive limit announced), max_frame_bytes, queue_events
    (per-stream sender queue). Set before the ports and streams exist: the events service reads them."""
    lim = node.events.limits
    for key in ("max_events", "max_frame_bytes", "queue_events"):
        v = ctx.limits.get(key)
        if isinstance(v, int) and not isinstance(v, bool):
            setattr(lim, key, v)


def out_port_options(ctx: Ctx) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if isinstance(ctx.limits.get("lateness_us"), int):
        opts["lateness_us"] = ctx.limits["lateness_us"]
    if isinstance(ctx.limits.get("watermark_interval_ms"), int):
        opts["watermark_interval_ms"] = ctx.limits["watermark_interval_ms"]
    return opts


def add_ports(peer: Any, ctx: Ctx, dialer_peer: str) -> None:
    node = peer.node
    apply_limits(node, ctx)
    for p in ctx.ports:
        name, kind, channels = p["name"], p.get("kind", "spike"), int(p["channels"])
        if p["direction"] == "out":
            peer.out_ports[name] = node.events.add_out_port(
                name, channels=channels, kind=kind, subscribe=allow_list(p.get("allow"), "any", dialer_peer),
                **out_port_options(ctx))
        else:
            peer.in_ports[name] = node.events.add_in_port(
                name, channels=channels, kind=kind, push=allow_list(p.get("allow"), "none", dialer_peer))
