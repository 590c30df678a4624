"""The Python side of each measure, on the library's public API."""
from __future__ import annotations

import time
from typing import Any

import numpy as np
import trio


class NotBuilt(Exception):
    """A library part this measure needs is not there yet."""


CHANNELS = 1024
STREAM_PEER = "bench/stream-peer.ts"


def channel_table() -> np.ndarray:
    """65,536 pseudo-random channels below 1024 read in turn (the same LCG as bench/stream-roles.ts)."""
    x = 1
    out = np.empty(65536, dtype=np.uint32)
    for i in range(65536):
        x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
        out[i] = x >> 22
    return out


def _node() -> Any:
    try:
        from spikewire.node import Node
    except ImportError as err:
        raise NotBuilt(f"spikewire.node does not import: {err}") from err
    return Node


class Tally:
    """What a Python subscriber received: events, batches, first and last arrival (now_us), latencies."""

    def __init__(self, latency: bool) -> None:
        self.events = 0
        self.batches = 0
        self.first_us = 0.0
        self.last_us = 0.0
        self.latencies: list[np.ndarray] | None = [] if latency else None
        self.cpu0 = time.process_time()

    def add(self, times: np.ndarray) -> None:
        now = time.time_ns() / 1000
        if self.batches == 0:
            self.first_us = now
            self.cpu0 = time.process_time()
        self.last_us = now
        self.batches += 1
        self.events += len(times)
        if self.latencies is not None:
            self.latencies.append(now - times.astype(np.float64))

    def rate(self) -> float:
        span = (self.last_us - self.first_us) / 1e6
        return self.events / span if span > 0 else 0.0


async def _subscribe_py(node: Any, addr: str, batch: int, tally: Tally, nursery: trio.Nursery) -> Any:
    sub = node.events.subscribe(addr, "spikes", reconnect=False, max_events=batch)

    async def read() -> None:
        async for b in sub:
            tally.add(b.times)

    nursery.start_soon(read)
    with trio.fail_after(20):
        while sub.stats.connects == 0:
            if sub.error is not None:
                raise sub.error
            await trio.sleep(0.005)
    return sub


async def _collect(sub: Any, expect: int, stall_s: float = 3.0) -> None:
    """Wait until the subscription accounted for `expect` events (or `stall_s` without progress)."""
    last, since = -1, time.monotonic()
    while True:
        seen = sub.stats.events + sub.stats.lost_events + sub.stats.gap_events
        if seen >= expect:
            return
        if seen != last:
            last, since = seen, time.monotonic()
        elif time.monotonic() - since > stall_s:
            return
        await trio.sleep(0.002)


async def ts_to_py_throughput(root: Any, nursery: trio.Nursery, seconds: float, batch: int) -> dict[str, Any]:
    """TypeScript publisher (as fast as the stream takes it, no queue overflow) → Python subscriber."""
    from .tsrpc import TsChild
    Node = _node()
    pub = TsChild(root, STREAM_PEER, seconds + 60)
    await pub.start(nursery)
    try:
        addr = (await pub.call("pub.start", maxBatchEvents=batch))["addr"]
        async with Node(listen=["/ip4/127.0.0.1/tcp/0"], name="bench-py-sub") as node, trio.open_nursery() as inner:
            tally = Tally(False)
            sub = await _subscribe_py(node, addr, batch, tally, inner)
            await pub.call("pub.wait", subscribers=1)
            produced = await pub.call("pub.runMax", seconds=seconds, chunk=batch, queueLimit=0)
            await _collect(sub, produced["emitted"])
            cpu = time.process_time() - tally.cpu0
            stats = sub.stats
            inner.cancel_scope.cancel()
        await pub.call("pub.stop")
    finally:
        await pub.close()
    return {"spikesPerSec": tally.rate(), "emitted": produced["emitted"], "received": tally.events,
            "lost": produced["emitted"] - tally.events, "gapEvents": stats.gap_events,
            "lossNoticeEvents": stats.lost_events, "pyCpuNsPerSpike": round(cpu * 1e9 / max(1, tally.events), 1)}


def _senders(port: Any) -> list[Any]:
    return list(getattr(port, "_senders", {}).keys())


async def _produce_max(node: Any, port: Any, seconds: float, chunk: int, queue_limit: int) -> dict[str, Any]:
    """Emit chunks as fast as the streams take them: before each chunk, wait while a stream's sender holds
    more than `queue_limit` queued events, so no queue overflows (as bench/stream-roles.ts runMax)."""
    table = channel_table()
    k = 0
    t = int(node.now())
    waits = 0
    cpu0 = time.process_time()
    start = time.monotonic()
    end = start + seconds
    while time.monotonic() < end:
        if any(s.queued_events > queue_limit for s in _senders(port)):
            waits += 1
            await trio.sleep(0)
            continue
        now = int(node.now())
        if now > t:
            t = now
        idx = (np.arange(k, k + chunk) & 0xFFFF)
        k += chunk
        times = t + (np.arange(chunk, dtype=np.int64) >> 6)
        port.emit(table[idx], times)
        port.flush()
        t += chunk >> 6
        await trio.sleep(0)
    # Settle: wait (bounded) until every stream sent what it holds.
    with trio.move_on_after(5):
        while any(s.queued_events > 0 for s in _senders(port)):
            await trio.sleep(0.001)
    dropped = sum(sum(s.dropped.values()) for s in _senders(port))
    return {"emitted": port.stats.emitted, "refused": port.stats.refused, "dropped": dropped, "waits": waits,
            "seconds": time.monotonic() - start, "cpuSeconds": time.process_time() - cpu0}


async def py_to_ts_throughput(root: Any, nursery: trio.Nursery, seconds: float, batch: int) -> dict[str, Any]:
    """Python publisher (as fast as the stream takes it, no queue overflow) → TypeScript subscriber."""
    from .tsrpc import TsChild
    Node = _node()
    sub = TsChild(root, STREAM_PEER, seconds + 60)
    await sub.start(nursery)
    try:
        async with Node(listen=["/ip4/127.0.0.1/tcp/0"], name="bench-py-pub") as node:
            port = node.events.add_out_port("spikes", channels=CHANNELS, max_batch_events=batch)
            await sub.call("sub.start", addr=node.addrs[0], count=1, maxEvents=batch, latency=False)
            with trio.fail_after(20):
                while port.streams < 1:
                    await trio.sleep(0.005)
            produced = await _produce_max(node, port, seconds, batch, 0)
            [r] = await sub.call("sub.collect", expect=produced["emitted"])
        await sub.call("sub.stop")
    finally:
        await sub.close()
    span = (r["lastUs"] - r["firstUs"]) / 1e6
    rate = r["events"] / span if span > 0 else 0.0
    return {"spikesPerSec": rate, "emitted": produced["emitted"], "received": r["events"],
            "lost": produced["emitted"] - r["events"], "gapEvents": r["gapEvents"], "lossNoticeEvents": r["lostEvents"],
            "pyDropped": produced["dropped"], "pyProducerWaits": produced["waits"],
            "pyCpuNsPerSpike": round(produced["cpuSeconds"] * 1e9 / max(1, produced["emitted"]), 1)}


async def ts_to_py_latency(root: Any, nursery: trio.Nursery, seconds: float,
                           rate_hz: int) -> tuple[list[float], dict[str, Any]]:
    """TypeScript publisher at rate_hz (timer-driven) → Python subscriber; latencies corrected by the
    processes' clock bases; the first 250 ms are a warm-up."""
    from .tsrpc import TsChild, clock_base_us
    Node = _node()
    pub = TsChild(root, STREAM_PEER, seconds + 60)
    await pub.start(nursery)
    try:
        pub_base = (await pub.call("clock"))["baseUs"]
        our_base = clock_base_us()
        addr = (await pub.call("pub.start", maxBatchEvents=4096))["addr"]
        async with Node(listen=["/ip4/127.0.0.1/tcp/0"], name="bench-py-sub") as node, trio.open_nursery() as inner:
            tally = Tally(True)
            sub = await _subscribe_py(node, addr, 4096, tally, inner)
            await pub.call("pub.wait", subscribers=1)
            produced = await pub.call("pub.runPaced", seconds=seconds, rateHz=rate_hz)
            await _collect(sub, produced["emitted"])
            inner.cancel_scope.cancel()
        await pub.call("pub.stop")
    finally:
        await pub.close()
    lat = np.concatenate(tally.latencies) if tally.latencies else np.zeros(0)
    warm = round(rate_hz * 0.25)
    out = sorted((lat[warm:] - (our_base - pub_base)).tolist())
    return out, {"lost": produced["emitted"] - tally.events, "clockBaseOffsetUs": round(our_base - pub_base, 2)}


async def py_to_ts_latency(root: Any, nursery: trio.Nursery, seconds: float,
                           rate_hz: int) -> tuple[list[float], dict[str, Any]]:
    """Python publisher at rate_hz (one event per tick, flushed at once) → TypeScript subscriber."""
    from .tsrpc import TsChild, clock_base_us
    Node = _node()
    sub = TsChild(root, STREAM_PEER, seconds + 60)
    await sub.start(nursery)
    try:
        sub_base = (await sub.call("clock"))["baseUs"]
        our_base = clock_base_us()
        async with Node(listen=["/ip4/127.0.0.1/tcp/0"], name="bench-py-pub") as node:
            port = node.events.add_out_port("spikes", channels=CHANNELS)
            await sub.call("sub.start", addr=node.addrs[0], count=1, maxEvents=4096, latency=True)
            with trio.fail_after(20):
                while port.streams < 1:
                    await trio.sleep(0.005)
            period = 1 / rate_hz
            start = time.monotonic()
            n = 0
            x = 2
            while True:
                elapsed = time.monotonic() - start
                if elapsed >= seconds:
                    break
                while elapsed >= n * period:
                    x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
                    port.emit(np.array([x >> 22], dtype=np.uint32), np.array([int(node.now())], dtype=np.int64))
                    port.flush()
                    n += 1
                await trio.sleep(max(0.0, start + n * period - time.monotonic()))
            emitted = port.stats.emitted
            [r] = await sub.call("sub.collect", expect=emitted)
        await sub.call("sub.stop")
    finally:
        await sub.close()
    warm = round(rate_hz * 0.25)
    out = sorted(x - (sub_base - our_base) for x in r["latencies"][warm:])
    return out, {"lost": emitted - r["events"], "clockBaseOffsetUs": round(sub_base - our_base, 2)}


def true_offset(info: dict[str, Any], our_base_us: float, local_us: float) -> float:
    """The true θ (server clock − our clock) at our reading `local_us` (bench/timing-peer.ts trueOffset):
    the server's base clock reads local_us + Δ at that instant, Δ = its base − ours; its skewed clock
    reads that plus its offset, which drifts linearly from its reference reading."""
    delta = info["baseUs"] - our_base_us
    b = local_us + delta
    return delta + info["offsetAtRefUs"] + (b - info["refBaseUs"]) * info["driftPpm"] * 1e-6


async def clock_loopback(root: Any, nursery: trio.Nursery, seconds: float,
                         offset_us: int = 1_500_000, drift_ppm: float = 100, sample_ms: float = 50,
                         converge_timeout_s: float = 30) -> dict[str, Any]:
    """The Python clock client against the TypeScript clock server (bench/timing-peer.ts) on loopback."""
    from spikewire.protocols.clock import now_us
    from .tsrpc import TsChild, clock_base_us, quantile
    Node = _node()

    server = TsChild(root, "bench/timing-peer.ts", seconds + converge_timeout_s + 60)
    await server.start(nursery)
    try:
        info = await server.call("server.start", offsetUs=offset_us, driftPpm=drift_ppm)
        our_base = clock_base_us()
        async with Node(listen=["/ip4/127.0.0.1/tcp/0"], name="bench-py-clock") as node:
            t0 = now_us()
            pc = node.clock_for(info["addr"])
            give_up = t0 + converge_timeout_s * 1e6
            while True:
                e = pc.estimate()
                if e is not None and e.converged:
                    break
                if now_us() > give_up:
                    raise TimeoutError(f"the clock estimate did not converge within {converge_timeout_s:g} s "
                                       f"({pc.error})")
                await trio.sleep(0.005)
            converge_ms = (now_us() - t0) / 1000
            errs: list[float] = []
            signed: list[float] = []
            uncs: list[float] = []
            covered = 0
            end = now_us() + seconds * 1e6
            while now_us() < end:
                now = now_us()
                e = pc.estimate(now)
                if e is not None:
                    err = e.offset_us - true_offset(info, our_base, now)
                    signed.append(err)
                    errs.append(abs(err))
                    uncs.append(e.uncertainty_us)
                    if abs(err) <= e.uncertainty_us:
                        covered += 1
                await trio.sleep(sample_ms / 1000)
            last = pc.estimate()
            client_stats = pc.client.stats if pc.client is not None else None
        errs.sort()
        signed.sort()
        uncs.sort()
        return {
            "errP50Us": round(quantile(errs, 0.5), 1),
            "errP99Us": round(quantile(errs, 0.99), 1),
            "errMaxUs": round(errs[-1], 1) if errs else None,
            "coverage": round(covered / len(errs), 4) if errs else 0,
            "convergeMs": round(converge_ms, 1),
            "uncertaintyP50Us": round(quantile(uncs, 0.5), 1),
            "samples": len(errs),
            "seconds": seconds,
            "biasUs": round(quantile(signed, 0.5), 1),
            "rttUs": round(last.rtt_us, 1) if last is not None else None,
            "driftErrPpm": round(last.drift_ppm - drift_ppm, 3) if last is not None else None,
            "bursts": client_stats.bursts if client_stats else 0,
            "probes": client_stats.probes if client_stats else 0,
            "clockBaseOffsetUs": round(info["baseUs"] - our_base, 2),
        }
    finally:
        await server.close()
