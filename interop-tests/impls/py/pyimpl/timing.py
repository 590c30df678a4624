"""Timing scenarios of the Python implementation: the clock estimate against an injected offset (dialer)
and a clock server whose clock runs with the injected offset and drift (listener)."""
from __future__ import annotations

from typing import Any

import trio

from .context import Ctx


async def estimate_clock(ctx: Ctx, peer: Any) -> dict[str, Any]:
    """Dialer: run the clock client against the listener for params.duration_ms, report the estimate."""
    from spikewire.net.host import dial, open_stream
    from spikewire.protocols.clock import PROTOCOL, ClockClient
    from spikewire.wire.stream import FramedStream

    duration_s = min(float(ctx.param("duration_ms", (int, float))), ctx.remaining_ms()) / 1000
    remote = await dial(peer.host, ctx.peer_addr)
    client = ClockClient(FramedStream(await open_stream(peer.host, remote, [PROTOCOL])), clock=peer.clock)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(client.run)
        await trio.sleep(duration_s)
        at = peer.clock()
        e = client.estimate(at)
        nursery.cancel_scope.cancel()
    if e is None:
        raise RuntimeError(f"no clock estimate after {duration_s:g} s ({client.stats})")
    return {
        "offset_us": e.offset_us,
        "uncertainty_us": e.uncertainty_us if e.uncertainty_us == e.uncertainty_us and e.uncertainty_us != float("inf") else -1,
        "rtt_us": e.delay_min_us,
        "at_us": at,
        "samples": e.samples_used,
        "converged": e.converged,
        "probes": client.stats.probes,
        "answers": client.stats.answers,
    }
