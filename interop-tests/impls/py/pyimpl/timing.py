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


def trains(ctx: Ctx) -> list[tuple[str, Any, float]]:
    """(port, generator spec, clump_ms) of each train: params.ports/seeds/clump_ms lists, or one port."""
    from .generator import spec_from_params
    if isinstance(ctx.params.get("ports"), list):
        ports = ctx.param("ports", list)
        seeds = ctx.param("seeds", list)
        clumps = ctx.param("clump_ms", list)
        return [(p, spec_from_params(ctx.params, seed=int(seeds[i])), float(clumps[i])) for i, p in enumerate(ports)]
    return [(ctx.param("port", str), spec_from_params(ctx.params), float(ctx.param("clump_ms", (int, float))))]


async def emit_clumped(ctx: Ctx, peer: Any) -> dict[str, Any]:
    """Listener: once every port has a subscriber (and the dialer put go_key, if any), emit each train in
    real time, released every clump_ms."""
    from .context import wait_until
    from .generator import generate
    ts = trains(ctx)
    ports = [peer.out_ports[name] for name, _, _ in ts]
    await ctx.ready()
    await wait_until(lambda: all(p.streams > 0 for p in ports), ctx.remaining_ms(), "subscribers")
    if isinstance(ctx.params.get("go_key"), str):
        await ctx.rv.get(ctx.params["go_key"], ctx.remaining_ms())
    now = peer.node.now
    t0 = int(now()) + 50_000
    gens = [generate(spec) for _, spec, _ in ts]
    nxt = [0] * len(ts)
    released = [0] * len(ts)
    sent = 0
    while any(nxt[i] < ts[i][1].n for i in range(len(ts))):
        await trio.sleep(0.002)
        t = now()
        for i, (_, spec, clump_ms) in enumerate(ts):
            if t - released[i] < clump_ms * 1000:
                continue
            released[i] = t
            k0 = nxt[i]
            k1 = k0
            while k1 < spec.n and t0 + int(gens[i].offsets[k1]) <= t:
                k1 += 1
            if k1 > k0:
                nxt[i] = k1
                sent += ports[i].emit(gens[i].channels[k0:k1], t0 + gens[i].offsets[k0:k1])
            ports[i].flush()
    await ctx.done.wait()
    return {"sent": sent, "t0": t0}


def interval_errors(xs: list[tuple[float, float]]) -> tuple[float, float]:
    """|observed interval − true interval| over consecutive (true time, observed time): p90 and max, µs."""
    e = sorted(abs((xs[i][1] - xs[i - 1][1]) - (xs[i][0] - xs[i - 1][0])) for i in range(1, len(xs)))
    if not e:
        return float("nan"), float("nan")
    return float(round(e[max(0, math.ceil(0.9 * len(e)) - 1)])), float(round(e[-1]))


async def usable_estimate(ctx: Ctx, pc: Any, bound_us: float = 2000, wait_s: float = 3) -> Any:
    """The clock estimate of the peer once its uncertainty is below `bound_us` (or the last one after
    `wait_s`)."""
    with trio.move_on_after(min(wait_s, ctx.remaining_ms() / 1000)):
        while True:
            e = pc.estimate()
            if e is not None and e.uncertainty_us < bound_us:
                return e
            await trio.sleep(0.01)
    ctx.log(f"clock estimate not below {bound_us} µs: {pc.estimate()}")
    return pc.estimate()


async def playout_train(ctx: Ctx, peer: Any) -> dict[str, Any]:
    """Dialer: real-time playout of params.port with a fixed delay; delivered and arrival intervals."""
    import threading
    from spikewire.timing.playout import PlayoutThread
    from .generator import EventChecker, spec_from_params

    node = peer.node
    spec = spec_from_params(ctx.params)
    delay_us = int(ctx.param("delay_us", int))
    delivered: list[tuple[int, int, int, bool]] = []  # channel, time, at_us, late
    lock = threading.Lock()

    def on_delivery(d: Any) -> None:
        with lock:
            for i in range(len(d)):
                delivered.append((int(d.channels[i]), int(d.times[i]), int(d.at_us), bool(d.late[i])))

    sub = node.events.subscribe(ctx.peer_addr, ctx.param("port", str), reconnect=False)
    arrivals: list[tuple[float, float]] = []
    pc = node.clock_for(ctx.peer_addr)
    playout = PlayoutThread(on_delivery, delay_us, clock=node.now, switch_interval_s=0.0005)
    playout.start()
    try:
        async with trio.open_nursery() as nursery:
            async def receive() -> None:
                async for batch in sub:
                    at = node.now()
                    arrivals.extend((float(t), float(at)) for t in batch.times)
                    playout.push(batch.channels, batch.times)

            nursery.start_soon(receive)
            from .context import wait_until
            await wait_until(lambda: sub.stats.connects > 0, ctx.remaining_ms(), "the accept")
            if isinstance(ctx.params.get("go_key"), str):
                # Map with an estimate that holds still for the whole train.
                playout.set_mapper(await usable_estimate(ctx, pc))
                await ctx.rv.put(ctx.params["go_key"], True)
            with trio.move_on_after(ctx.wait_ms(6000) / 1000):
                while len(delivered) < spec.n:
                    await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
    finally:
        stats = playout.stop()
    with trio.move_on_after(3):
        await sub.aclose()
    checker = EventChecker(spec)
    with lock:
        got = list(delivered)
    for k, (ch, t, _, _) in enumerate(got):
        checker.check(k, [ch], [t])
    p90, mx = interval_errors([(float(t), float(at)) for _, t, at, _ in got])
    a90, amx = interval_errors(arrivals)
    return {
        "delivered": len(got), "late": sum(1 for x in got if x[3]), "mismatches": checker.mismatches,
        "examples": checker.examples, "isi_error_p90_us": p90, "isi_error_max_us": mx,
        "arrival_isi_error_p90_us": a90, "arrival_isi_error_max_us": amx,
        "stats": {k: v for k, v in stats.items() if isinstance(v, (int, float)) and math.isfinite(v)},
    }


async def merge_trains(ctx: Ctx, peer: Any) -> dict[str, Any]:
    """Dialer: subscribe to every port of params.ports and merge them in time order by their watermarks."""
    import numpy as np
    from spikewire.events import WatermarkItem
    from spikewire.timing.merge import WatermarkMerge, map_remote

    node = peer.node
    ts = trains(ctx)
    total = sum(spec.n for _, spec, _ in ts)
    released: list[tuple[int, int, bool]] = []  # local time, input, late

    def on_release(r: Any) -> None:
        for i in range(len(r)):
            released.append((int(r.times[i]), int(r.inputs[i]), bool(r.late)))

    merge = WatermarkMerge(on_release, clock=node.now, stall_after_us=3_000_000)
    inputs = [merge.add_input(name) for name, _, _ in ts]
    subs = [node.events.subscribe(ctx.peer_addr, name, reconnect=False, watermarks=True) for name, _, _ in ts]
    pc = node.clock_for(ctx.peer_addr)
    state = {"max_arrived": -math.inf, "inversions": 0, "mapper": None}

    async def receive(i: int) -> None:
        # Batches and watermarks in stream order (the subscription yields both with watermarks=True).
        async for item in subs[i]:
            if isinstance(item, WatermarkItem):
                merge.watermark(inputs[i], int(map_remote(np.array([item.time]), state["mapper"])[0]))
                merge.poll()
                continue
            for t in item.times.tolist():
                if t < state["max_arrived"]:
                    state["inversions"] += 1
                state["max_arrived"] = max(state["max_arrived"], t)
            merge.push(inputs[i], item.channels, map_remote(item.times, state["mapper"]))

    async def poll() -> None:
        # Releases that are due by time alone (a stalled input) need a timer.
        while True:
            merge.poll()
            await trio.sleep(0.002)

    async with trio.open_nursery() as nursery:
        state["mapper"] = await usable_estimate(ctx, pc, wait_s=2)
        nursery.start_soon(poll)
        for i in range(len(ts)):
            nursery.start_soon(receive, i)
        with trio.move_on_after(ctx.wait_ms(6000) / 1000):
            while len(released) < total:
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    for s in subs:
        with trio.move_on_after(2):
            await s.aclose()
    in_order = all(released[i][0] >= released[i - 1][0] for i in range(1, len(released)))
    per_port: dict[str, int] = {}
    for _, inp, _ in released:
        per_port[ts[inp][0]] = per_port.get(ts[inp][0], 0) + 1
    return {"delivered": len(released), "late": sum(1 for x in released if x[2]), "in_order": in_order,
            "arrival_inversions": state["inversions"], "per_port": per_port}
