"""Timing scenarios of the Python implementation: the clock estimate against an injected offset (dialer);
the listener is a node whose clock runs with the injected offset and drift (handlers.NodePeer)."""
from __future__ import annotations

import math
from typing import Any

import trio

from .context import Ctx


async def estimate_clock(ctx: Ctx, peer: Any) -> dict[str, Any]:
    """Dialer: the node's clock client for the listener runs for params.duration_ms; report its estimate."""
    node = peer.node
    duration_s = min(float(ctx.param("duration_ms", (int, float))), ctx.remaining_ms()) / 1000
    pc = node.clock_for(ctx.peer_addr)
    await trio.sleep(duration_s)
    at = node.now()
    e = pc.estimate(at)
    if e is None:
        raise RuntimeError(f"no clock estimate after {duration_s:g} s ({pc.error})")
    stats = pc.client.stats if pc.client is not None else None
    return {
        "offset_us": e.offset_us,
        "uncertainty_us": e.uncertainty_us if math.isfinite(e.uncertainty_us) else -1,
        "rtt_us": e.delay_min_us,
        "at_us": at,
        "samples": e.samples_used,
        "converged": e.converged,
        "probes": stats.probes if stats else 0,
        "answers": stats.answers if stats else 0,
    }
