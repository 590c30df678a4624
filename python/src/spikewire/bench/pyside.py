"""The Python side of each measure, on the library's public API."""
from __future__ import annotations

from typing import Any

import trio


class NotBuilt(Exception):
    """A library part this measure needs is not there yet."""


async def ts_to_py_throughput(root: Any, nursery: trio.Nursery, seconds: float, batch: int) -> dict[str, Any]:
    raise NotBuilt("the Python subscriber (spikewire.Node.subscribe) is not built yet")


async def py_to_ts_throughput(root: Any, nursery: trio.Nursery, seconds: float, batch: int) -> dict[str, Any]:
    raise NotBuilt("the Python out port (spikewire.Node.add_out_port) is not built yet")


async def ts_to_py_latency(root: Any, nursery: trio.Nursery, seconds: float, rate_hz: int) -> tuple[list[float], dict[str, Any]]:
    raise NotBuilt("the Python subscriber is not built yet")


async def py_to_ts_latency(root: Any, nursery: trio.Nursery, seconds: float, rate_hz: int) -> tuple[list[float], dict[str, Any]]:
    raise NotBuilt("the Python out port is not built yet")


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
    try:
        from spikewire.net.host import dial, open_host, open_stream
        from spikewire.protocols.clock import PROTOCOL, ClockClient, now_us
        from spikewire.wire.stream import FramedStream
    except ImportError as err:
        raise NotBuilt(f"the Python clock client does not import: {err}") from err
    from .tsrpc import TsChild, clock_base_us, quantile

    server = TsChild(root, "bench/timing-peer.ts", seconds + converge_timeout_s + 60)
    await server.start(nursery)
    try:
        info = await server.call("server.start", offsetUs=offset_us, driftPpm=drift_ppm)
        our_base = clock_base_us()
        async with open_host() as host, trio.open_nursery() as inner:
            t0 = now_us()
            peer = await dial(host, info["addr"])
            client = ClockClient(FramedStream(await open_stream(host, peer, [PROTOCOL])))
            inner.start_soon(client.run)
            give_up = t0 + converge_timeout_s * 1e6
            while True:
                e = client.estimate()
                if e is not None and e.converged:
                    break
                if now_us() > give_up:
                    raise TimeoutError(f"the clock estimate did not converge within {converge_timeout_s:g} s")
                await trio.sleep(0.005)
            converge_ms = (now_us() - t0) / 1000
            errs: list[float] = []
            signed: list[float] = []
            uncs: list[float] = []
            covered = 0
            end = now_us() + seconds * 1e6
            while now_us() < end:
                now = now_us()
                e = client.estimate(now)
                if e is not None:
                    err = e.offset_us - true_offset(info, our_base, now)
                    signed.append(err)
                    errs.append(abs(err))
                    uncs.append(e.uncertainty_us)
                    if abs(err) <= e.uncertainty_us:
                        covered += 1
                await trio.sleep(sample_ms / 1000)
            last = client.estimate()
            inner.cancel_scope.cancel()
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
            "bursts": client.stats.bursts,
            "probes": client.stats.probes,
            "clockBaseOffsetUs": round(info["baseUs"] - our_base, 2),
        }
    finally:
        await server.close()
