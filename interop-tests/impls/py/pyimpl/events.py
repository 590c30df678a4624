"""Event scenarios of the Python implementation: emitting and checking generated events over subscribe
and push (subscribe-receive-n, weighted-events, push-into-in-port), watermarks on an idle port, and the
generic listener that only serves its ports."""
from __future__ import annotations

import time
from typing import Any

import trio

from .context import Ctx, wait_until
from .generator import EventChecker, GeneratorSpec, generate, spec_from_params


def lost_of(stats_lost: Any) -> int:
    return int(sum(stats_lost.values())) if isinstance(stats_lost, dict) else int(stats_lost or 0)


async def emit_all(port: Any, spec: GeneratorSpec, t0: int, chunk: int = 4096) -> int:
    """Emit every generated event into `port` from t0 on, in chunks (yielding between them)."""
    g = generate(spec)
    sent = 0
    for i in range(0, spec.n, chunk):
        ch = g.channels[i:i + chunk]
        times = t0 + g.offsets[i:i + chunk]
        values = None if g.values is None else g.values[i:i + chunk]
        sent += port.emit(ch, times, values)
        await trio.sleep(0)
    port.flush()
    return sent


async def emit_on_subscribe(ctx: Ctx, peer: Any) -> dict[str, Any]:
    """Listener: wait for a subscriber on params.port, emit the generated events, report sent and t0."""
    port = peer.out_ports[ctx.param("port", str)]
    await ctx.ready()
    await wait_until(lambda: port.streams > 0, ctx.remaining_ms(), "a subscriber")
    t0 = int(peer.node.now())
    sent = await emit_all(port, spec_from_params(ctx.params), t0)
    await ctx.done.wait()
    return {"sent": sent, "t0": t0}


async def receive_and_check(ctx: Ctx, peer: Any) -> dict[str, Any]:
    """Dialer: subscribe to params.port and check every event against the generator."""
    spec = spec_from_params(ctx.params)
    checker = EventChecker(spec)
    sub = peer.node.events.subscribe(ctx.peer_addr, ctx.param("port", str), reconnect=False)
    received = 0
    with trio.move_on_after(ctx.wait_ms(8000) / 1000):
        async for batch in sub:
            checker.check(batch.seq, batch.channels, batch.times, batch.values)
            received += len(batch)
            if received >= spec.n:
                break
    fields = {"received": received, "mismatches": checker.mismatches, "examples": checker.examples,
              "gap": sub.stats.gap_events, "lost": sub.stats.lost_events, "t0": checker.t0}
    await sub.aclose()
    return fields


async def push_generated(ctx: Ctx, peer: Any) -> dict[str, Any]:
    """Dialer: push the generated events from a local port named params.source into params.port."""
    spec = spec_from_params(ctx.params)
    source = ctx.param("source", str)
    node = peer.node
    port = node.events.add_out_port(source, channels=spec.channels, kind="weighted" if spec.weighted else "spike")
    link = node.events.push(port, ctx.peer_addr, ctx.param("port", str))
    with trio.fail_after(ctx.remaining_ms() / 1000):
        while not link.open.is_set():
            if link.error is not None and link.stats.connects == 0 and link.stats.attempts > 0:
                raise RuntimeError(f"the push link was not accepted: {link.error}")
            await trio.sleep(0.005)
    t0 = int(node.now())
    sent = await emit_all(port, spec, t0)
    link.stop()
    with trio.move_on_after(min(10, ctx.remaining_ms() / 1000)):
        await link.wait_done()
    return {"sent": sent, "t0": t0}


async def receive_pushed(ctx: Ctx, peer: Any) -> dict[str, Any]:
    """Listener: check what is pushed into params.port until `done`."""
    port = peer.in_ports[ctx.param("port", str)]
    checker = EventChecker(spec_from_params(ctx.params))
    state: dict[str, Any] = {"received": 0, "peer": None, "source": None, "gap": 0}

    async def read() -> None:
        async for batch in port:
            state["peer"] = batch.peer
            state["source"] = batch.source
            state["gap"] += batch.gap
            checker.check(batch.seq, batch.channels, batch.times, batch.values)
            state["received"] += len(batch)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(read)
        await ctx.ready()
        await ctx.done.wait()
        nursery.cancel_scope.cancel()
    out = {"received": state["received"], "mismatches": checker.mismatches, "examples": checker.examples,
           "gap": state["gap"], "lost": lost_of(port.stats.lost), "t0": checker.t0, "peer": state["peer"]}
    if state["source"] is not None:
        out["source"] = state["source"]
    return out


async def record_watermarks(ctx: Ctx, peer: Any) -> dict[str, Any]:
    """Dialer: record the watermarks of an idle port for params.duration_ms (their times and arrivals)."""
    from spikewire.events import WatermarkItem

    marks: list[tuple[int, float]] = []
    duration = min(float(ctx.param("duration_ms", (int, float))), ctx.remaining_ms()) / 1000
    # The recording lasts `duration` from the moment the stream is open (connecting on a busy machine can
    # take most of it), and not so long that unsubscribing (bounded at 3 s) would pass the run's deadline.
    scope = trio.CancelScope(deadline=trio.current_time() + max(duration, ctx.remaining_ms() / 1000 - 3))

    def on_status(ev: dict[str, Any]) -> None:
        if ev.get("state") == "open":
            scope.deadline = min(scope.deadline, trio.current_time() + duration)

    sub = peer.node.events.subscribe(ctx.peer_addr, ctx.param("port", str), reconnect=False, watermarks=True,
                                     on_status=on_status)
    with scope:
        async for item in sub:
            if isinstance(item, WatermarkItem):
                marks.append((item.time, time.monotonic()))
    await sub.aclose()
    max_interval = 0.0
    monotonic = True
    for i in range(1, len(marks)):
        max_interval = max(max_interval, marks[i][1] - marks[i - 1][1])
        if marks[i][0] < marks[i - 1][0]:
            monotonic = False
    many = len(marks) > 1
    return {
        "watermarks": len(marks),
        "monotonic": monotonic,
        "max_interval_ms": round(max_interval * 1000),
        "advanced_us": marks[-1][0] - marks[0][0] if many else 0,
        "elapsed_us": round((marks[-1][1] - marks[0][1]) * 1e6) if many else 0,
    }


async def serve(ctx: Ctx, peer: Any) -> dict[str, Any]:
    """Listener that only serves its ports; reports what its in ports received."""
    await ctx.ready()
    await ctx.done.wait()
    in_ports = {name: {"events": p.stats.received, "gap": p.stats.gaps, "lost": lost_of(p.stats.lost)}
                for name, p in getattr(peer, "in_ports", {}).items()}
    return {"in_ports": in_ports, "refused_opens": getattr(getattr(peer, "node", None), "refused", 0)}
