"""loss-notice in the Python implementation. The dialer stops reading its subscription (it does not ask
for the next batch), so the stream's receive window fills and the listener's per-stream queue overflows
into loss notices; then it reads everything that is left."""
from __future__ import annotations

import time
from typing import Any

import trio

from .context import Ctx, wait_until
from .events import emit_all
from .generator import EventChecker, spec_from_params

PAUSED = "paused"


async def burst_when_paused(ctx: Ctx, peer: Any) -> dict[str, Any]:
    port = peer.out_ports[ctx.param("port", str)]
    await ctx.ready()
    await wait_until(lambda: port.streams > 0, ctx.remaining_ms(), "a subscriber")
    await ctx.rv.get(PAUSED, ctx.remaining_ms())
    sent = await emit_all(port, spec_from_params(ctx.params), int(peer.node.now()))
    await ctx.done.wait()
    return {"sent": sent}


async def paused_subscriber(ctx: Ctx, peer: Any) -> dict[str, Any]:
    spec = spec_from_params(ctx.params)
    checker = EventChecker(spec)
    sub = peer.node.events.subscribe(ctx.peer_addr, ctx.param("port", str), reconnect=False, max_events=4096)
    end = time.monotonic() + ctx.wait_ms(10_000) / 1000
    consumed = 0

    def take(batch: Any) -> None:
        nonlocal consumed
        checker.check(batch.seq, batch.channels, batch.times, batch.values)
        consumed += len(batch)

    def accounted() -> int:
        return sub.stats.events + sub.stats.lost_events + sub.stats.gap_events

    first: list[Any] = []

    async def first_batch() -> None:
        first.append(await sub.__anext__())

    async with trio.open_nursery() as nursery:
        # The first request connects and waits for the first batch; once the subscription is accepted the
        # listener may burst. No further batch is asked for until the pause is over.
        nursery.start_soon(first_batch)
        await wait_until(lambda: sub.stats.connects > 0 or sub.error is not None, ctx.remaining_ms(), "the accept")
        if sub.error is not None:
            raise sub.error
        await ctx.rv.put(PAUSED, True)
        with trio.move_on_after(max(0.0, end - time.monotonic())):
            while not first:
                await trio.sleep(0.005)
        nursery.cancel_scope.cancel()
    if first:
        take(first[0])
    await trio.sleep(float(ctx.param("pause_ms", (int, float))) / 1000)
    with trio.move_on_after(max(0.0, end - time.monotonic())):
        while accounted() < spec.n:
            try:
                batch = await sub.__anext__()
            except StopAsyncIteration:
                break
            take(batch)
    fields = {"received": consumed, "lost": sub.stats.lost_events, "gap": sub.stats.gap_events,
              "loss_notices": sub.stats.loss_notices, "mismatches": checker.mismatches, "examples": checker.examples}
    with trio.move_on_after(3):
        await sub.aclose()
    return fields
