"""`python -m spikewire.bench [--json] [--only throughput,latency,clock] [--seconds S]`

One JSON line per measure (with --json; a readable line otherwise), each with its TypeScript baseline
measured in the same run:

- py-stream-throughput (ts→py and py→ts): sustained spikes/s over one events stream on loopback with zero
  loss; the producer emits as fast as the stream takes it (it waits while the sender holds queued events,
  as bench/stream.ts does). Baseline: the same between two TypeScript processes. Target ≥ 1M spikes/s.
- py-stream-latency (ts→py, and py→ts when the Python publisher exists): one event per ms; one-way latency
  from the event's time (the publisher's clock) to its delivery to the subscriber's code, corrected by the
  two processes' clock bases. Baseline: ts→ts. Target p50 ≤ 1 ms.
- py-clock (loopback): the Python clock client against the TypeScript clock server (offset +1.5 s, drift
  +100 ppm); |estimate − truth| every 50 ms after convergence, and the coverage of the reported
  uncertainty. Baseline: bench/clock.ts --only loopback (TypeScript client) in the same run. Targets
  p99 ≤ 100 µs, coverage ≥ 0.99.
- paced: spikewire.events.bench's lines, a Poisson source offered at 1M spikes/s each way (the
  TypeScript `spikewire tap` as subscriber of a Python node, the Python subscription of a TypeScript
  node), with the TS ← TS baseline at the same rate.
- codec and timing: the lines of spikewire.codec.bench and spikewire.timing.bench (decode/encode events/s
  against a per-event Python loop; merge events/s and playout lateness, each with its own baseline).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import trio

from . import pyside
from .tsrpc import ChildError, TsChild, node_binary, quantile, repo_root

STREAM_PEER = "bench/stream-peer.ts"
TIMING_PEER = "bench/timing-peer.ts"


def _round(x: float, digits: int = 0) -> float:
    if x != x:  # NaN
        return x
    return round(x, digits) if digits else float(round(x))


class Printer:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def __call__(self, line: dict[str, Any]) -> None:
        if self.as_json:
            sys.stdout.write(json.dumps(line, allow_nan=True, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(" ".join(f"{k}={v}" for k, v in line.items()) + "\n")
        sys.stdout.flush()


def rate_of(r: dict[str, Any]) -> float:
    """Spikes/s at the receiver: events over first-to-last arrival (as bench/stream.ts)."""
    span = (r["lastUs"] - r["firstUs"]) / 1e6
    return r["events"] / span if span > 0 else 0.0


async def ts_throughput(root: Any, nursery: trio.Nursery, seconds: float, batch: int) -> dict[str, Any]:
    """ts → ts: publisher and subscriber each in a TypeScript child."""
    pub = TsChild(root, STREAM_PEER, seconds + 60)
    sub = TsChild(root, STREAM_PEER, seconds + 60)
    await pub.start(nursery)
    await sub.start(nursery)
    try:
        addr = (await pub.call("pub.start", maxBatchEvents=batch))["addr"]
        await sub.call("sub.start", addr=addr, count=1, maxEvents=batch, latency=False)
        await pub.call("pub.wait", subscribers=1)
        produced = await pub.call("pub.runMax", seconds=seconds, chunk=batch, queueLimit=0)
        [r] = await sub.call("sub.collect", expect=produced["emitted"])
        await sub.call("sub.stop")
        await pub.call("pub.stop")
        return {"spikesPerSec": rate_of(r), "emitted": produced["emitted"], "received": r["events"],
                "lost": produced["emitted"] - r["events"], "gapEvents": r["gapEvents"],
                "lossNoticeEvents": r["lostEvents"]}
    finally:
        await pub.close()
        await sub.close()


async def ts_latency(root: Any, nursery: trio.Nursery, seconds: float, rate_hz: int) -> list[float]:
    """ts → ts at rate_hz: corrected one-way latencies (µs) after a 250 ms warm-up."""
    pub = TsChild(root, STREAM_PEER, seconds + 60)
    sub = TsChild(root, STREAM_PEER, seconds + 60)
    await pub.start(nursery)
    await sub.start(nursery)
    try:
        pub_base = (await pub.call("clock"))["baseUs"]
        sub_base = (await sub.call("clock"))["baseUs"]
        addr = (await pub.call("pub.start", maxBatchEvents=4096))["addr"]
        await sub.call("sub.start", addr=addr, count=1, maxEvents=4096, latency=True)
        await pub.call("pub.wait", subscribers=1)
        produced = await pub.call("pub.runPaced", seconds=seconds, rateHz=rate_hz)
        [r] = await sub.call("sub.collect", expect=produced["emitted"])
        await sub.call("sub.stop")
        await pub.call("pub.stop")
        warm = round(rate_hz * 0.25)
        return sorted(x - (sub_base - pub_base) for x in r["latencies"][warm:])
    finally:
        await pub.close()
        await sub.close()


async def throughput(root: Any, nursery: trio.Nursery, args: argparse.Namespace, out: Printer) -> None:
    batch = args.batch
    base = await ts_throughput(root, nursery, args.seconds, batch)
    target = 1e6
    for direction, run in (("ts→py", pyside.ts_to_py_throughput), ("py→ts", pyside.py_to_ts_throughput)):
        line: dict[str, Any] = {"bench": "py-stream-throughput", "direction": direction}
        try:
            r = await run(root, nursery, args.seconds, batch)
        except (pyside.NotBuilt, ChildError, Exception) as err:  # noqa: BLE001 - reported in the line
            line.update({"error": f"{type(err).__name__}: {err}",
                         "baselineTsTsSpikesPerSec": _round(base["spikesPerSec"]),
                         "targetSpikesPerSec": target, "met": False})
            out(line)
            continue
        line.update({
            "spikesPerSec": _round(r["spikesPerSec"]),
            "lost": r["lost"],
            "gapEvents": r.get("gapEvents"),
            "lossNoticeEvents": r.get("lossNoticeEvents"),
            "emitted": r["emitted"],
            "received": r["received"],
            "batchEvents": batch,
            "seconds": args.seconds,
            "baselineTsTsSpikesPerSec": _round(base["spikesPerSec"]),
            "baselineTsTsLost": base["lost"],
            "ratio": _round(r["spikesPerSec"] / base["spikesPerSec"], 3) if base["spikesPerSec"] else None,
            "targetSpikesPerSec": target,
            "met": r["spikesPerSec"] >= target and r["lost"] == 0,
            **{k: v for k, v in r.items() if k.startswith("py")},
        })
        out(line)


async def latency(root: Any, nursery: trio.Nursery, args: argparse.Namespace, out: Printer) -> None:
    rate_hz = 1000
    base = await ts_latency(root, nursery, args.latency_seconds, rate_hz)
    for direction, run in (("ts→py", pyside.ts_to_py_latency), ("py→ts", pyside.py_to_ts_latency)):
        line: dict[str, Any] = {"bench": "py-stream-latency", "direction": direction, "rateHz": rate_hz}
        try:
            lat, extra = await run(root, nursery, args.latency_seconds, rate_hz)
        except Exception as err:  # noqa: BLE001 - reported in the line
            line.update({"error": f"{type(err).__name__}: {err}",
                         "baselineTsTsP50Us": _round(quantile(base, 0.5), 1), "targetP50Us": 1000, "met": False})
            out(line)
            continue
        p50 = quantile(lat, 0.5)
        line.update({
            "p50Us": _round(p50, 1), "p99Us": _round(quantile(lat, 0.99), 1),
            "maxUs": _round(lat[-1], 1) if lat else None, "samples": len(lat),
            "baselineTsTsP50Us": _round(quantile(base, 0.5), 1), "baselineTsTsP99Us": _round(quantile(base, 0.99), 1),
            "baselineSamples": len(base), **extra,
            "targetP50Us": 1000, "met": bool(lat) and p50 <= 1000,
        })
        out(line)


async def ts_clock_baseline(root: Any, seconds: float) -> dict[str, Any]:
    """bench/clock.ts --only loopback: the TypeScript client's figures in this run."""
    cmd = [node_binary(root), str(root / "bench" / "clock.ts"), "--json", "--only", "loopback",
           "--seconds", str(seconds)]
    with trio.fail_after(seconds + 90):
        r = await trio.run_process(cmd, cwd=str(root), capture_stdout=True, check=False)
    for line in r.stdout.decode().splitlines():
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if m.get("bench") == "clock" and m.get("scenario") == "loopback":
            return m
    raise ChildError(f"bench/clock.ts printed no loopback line (exit {r.returncode})")


async def clock(root: Any, nursery: trio.Nursery, args: argparse.Namespace, out: Printer) -> None:
    line: dict[str, Any] = {"bench": "py-clock", "scenario": "loopback"}
    try:
        r = await pyside.clock_loopback(root, nursery, args.clock_seconds)
        line.update(r)
    except Exception as err:  # noqa: BLE001 - reported in the line
        line["error"] = f"{type(err).__name__}: {err}"
    try:
        b = await ts_clock_baseline(root, args.clock_seconds)
        line.update({"baselineTsErrP50Us": b.get("errP50Us"), "baselineTsErrP99Us": b.get("errP99Us"),
                     "baselineTsCoverage": b.get("coverage")})
    except Exception as err:  # noqa: BLE001
        line["baselineError"] = f"{type(err).__name__}: {err}"
    line.update({"targetErrP99Us": 100, "targetCoverage": 0.99})
    line["met"] = "errP99Us" in line and line["errP99Us"] <= 100 and line.get("coverage", 0) >= 0.99
    out(line)


def library_benches(only: set[str], out: Printer, seconds: float) -> None:
    """The measures the library's parts keep beside their code (codec, timing), each with its own baseline."""
    if "codec" in only:
        try:
            from spikewire.codec.bench import bench_codec
            for line in bench_codec():
                out(line)
        except Exception as err:  # noqa: BLE001 - reported in a line
            out({"bench": "py-codec", "error": f"{type(err).__name__}: {err}"})
    if "paced" in only:
        # py-events' view of the same target: a Poisson source in a node config offered at 1M spikes/s,
        # received by the other language's subscriber (the TypeScript tap CLI, or the Python subscription),
        # with its TS ← TS baseline at the same rate.
        try:
            from spikewire.events.bench import DIRECTIONS, measure
            for d in DIRECTIONS:
                out(measure(d, 1_000_000, seconds))
        except Exception as err:  # noqa: BLE001
            out({"bench": "events-paced", "error": f"{type(err).__name__}: {err}"})
    if "timing" in only:
        try:
            from spikewire.timing.bench import run_all
            for line in run_all(seconds):
                out(line)
        except Exception as err:  # noqa: BLE001
            out({"bench": "py-timing", "error": f"{type(err).__name__}: {err}"})


async def main(args: argparse.Namespace) -> None:
    root = repo_root()
    out = Printer(args.json)
    only = set(args.only.split(","))
    async with trio.open_nursery() as nursery:
        if "throughput" in only:
            await throughput(root, nursery, args, out)
        if "latency" in only:
            await latency(root, nursery, args, out)
        if "clock" in only:
            await clock(root, nursery, args, out)
        nursery.cancel_scope.cancel()


def cli(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m spikewire.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--only", default="throughput,latency,clock,paced,codec,timing",
                   help="comma-separated: throughput, latency, clock, paced (against TypeScript), codec, timing")
    p.add_argument("--seconds", type=float, default=5.0, help="throughput run length, s")
    p.add_argument("--latency-seconds", type=float, default=5.0)
    p.add_argument("--clock-seconds", type=float, default=10.0)
    p.add_argument("--batch", type=int, default=16384, help="events per batch (max-events of the subscriber)")
    args = p.parse_args(argv)
    t0 = time.monotonic()
    trio.run(main, args)
    # These run their own event loops (trio.run inside), so they come after ours.
    library_benches(set(args.only.split(",")), Printer(args.json), min(3.0, args.latency_seconds))
    sys.stderr.write(f"bench: done in {time.monotonic() - t0:.1f} s\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    cli()
