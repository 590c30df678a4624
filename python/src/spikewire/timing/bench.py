"""Microbenchmarks of the timing layer, each with a baseline measured in the same run.

- ``bench_merge``: events/s through ``WatermarkMerge`` (several inputs, batches and watermarks interleaved
  as they arrive from streams). Baseline: a one-shot stable sort of the same events (``np.lexsort``), the
  lower bound of any time-ordered merge, which needs every event in hand first.
- ``bench_playout``: lateness (actual minus due delivery time) of ``PlayoutThread`` at a given event rate
  (1,000 events/s by default), events arriving in 10 ms batches and played out at time + D. Baseline: the
  same thread without its busy wait (``spin_us=0``: sleep only), run right after with the same schedule.

- ``bench_playout_contended``: the same while another Python thread computes (the interpreter lock is shared
  with it, as with trio's network code), with ``switch_interval_s`` = 0.5 ms; baseline: the interpreter's
  default switch interval (5 ms).

``python -m spikewire.timing.bench [--json] [--seconds S]`` prints one line per measure; ``run_all`` returns
them for ``spikewire.bench``.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any

import numpy as np

from spikewire.timing.localclock import MonotonicClock
from spikewire.timing.merge import MergeRelease, WatermarkMerge
from spikewire.timing.playout import PlayoutDelivery, PlayoutThread

__all__ = ["bench_merge", "bench_playout", "bench_playout_contended", "run_all"]


def _merge_input(streams: int, events: int, batch: int, seed: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Per stream, Poisson-like increasing times; returned as arrival order: (input, channels, times)."""
    rng = np.random.default_rng(seed)
    per = events // streams
    t0 = 1_767_225_600_000_000
    arrivals = []
    for s in range(streams):
        times = t0 + np.cumsum(rng.integers(0, 2 * streams + 1, size=per)).astype(np.int64)
        chans = rng.integers(0, 1024, size=per).astype(np.uint32)
        for i in range(0, per, batch):
            arrivals.append((s, chans[i:i + batch], times[i:i + batch]))
    # Interleave streams by the time of each batch's first event, as a live receiver would see them.
    arrivals.sort(key=lambda a: int(a[2][0]))
    return arrivals


def bench_merge(streams: int = 4, events: int = 2_000_000, batch: int = 1000, seed: int = 1) -> dict[str, Any]:
    arrivals = _merge_input(streams, events, batch, seed)
    total = sum(len(a[2]) for a in arrivals)
    released = [0]
    last = [np.iinfo(np.int64).min]
    ordered = [True]

    def sink(r: MergeRelease) -> None:
        released[0] += len(r)
        if len(r) and (int(r.times[0]) < last[0] or np.any(np.diff(r.times) < 0)):
            ordered[0] = False
        if len(r):
            last[0] = int(r.times[-1])

    m = WatermarkMerge(sink, stall_after_us=10**12)
    ins = [m.add_input(f"s{i}") for i in range(streams)]
    t_start = time.perf_counter()
    for s, ch, t in arrivals:
        m.push(ins[s], ch, t)
        m.watermark(ins[s], int(t[-1]))
    for i in ins:
        m.close_input(i)
    merge_s = time.perf_counter() - t_start
    st = m.stats()

    # Baseline: everything in hand, one stable sort by (time, input).
    t_start = time.perf_counter()
    times = np.concatenate([a[2] for a in arrivals])
    owner = np.concatenate([np.full(len(a[2]), a[0], dtype=np.uint16) for a in arrivals])
    chans = np.concatenate([a[1] for a in arrivals])
    order = np.lexsort((owner, times))
    _ = (times[order], chans[order], owner[order])
    sort_s = time.perf_counter() - t_start
    return {
        "bench": "py-merge-throughput",
        "streams": streams, "events": total, "batch": batch,
        "events_per_s": round(total / merge_s),
        "released": released[0], "in_order": ordered[0], "late": st["late"], "overflow": st["overflow"],
        "baseline": {"what": "one-shot np.lexsort of the same events", "events_per_s": round(total / sort_s)},
    }


def _playout_run(rate_hz: int, seconds: float, delay_us: int, spin_us: int,
                 switch_interval_s: float | None = None, contended: bool = False) -> dict[str, Any]:
    clock = MonotonicClock()
    delivered = [0]
    disorder = [0]
    last = [0]

    def cb(d: PlayoutDelivery) -> None:
        delivered[0] += len(d)
        due = d.due_us[~d.late]  # on-time deliveries must be in order; late ones are flagged and counted
        if len(due):
            if int(due[0]) < last[0] or np.any(np.diff(due) < 0):
                disorder[0] += 1
            last[0] = int(due[-1])

    step_us = 1_000_000 // rate_hz
    per_batch = max(1, 10_000 // step_us)  # 10 ms of events per batch, as a sender batches them
    n = int(rate_hz * seconds)
    p = PlayoutThread(cb, delay_us, clock=clock, spin_us=spin_us, switch_interval_s=switch_interval_s)
    busy = _Busy() if contended else None
    with p:
        start = clock.now_us() + 5_000
        sent = 0
        while sent < n:
            k = min(per_batch, n - sent)
            times = start + (sent + np.arange(k, dtype=np.int64)) * step_us
            # The batch leaves its sender once its last event has happened.
            wait = (int(times[-1]) - clock.now_us()) / 1e6
            if wait > 0:
                time.sleep(wait)
            p.push(np.zeros(k, dtype=np.uint32), times)
            sent += k
        st = p.stop(drain=True, timeout=20 + delay_us / 1e6)
    if busy is not None:
        busy.stop()
    return {"spin_us": spin_us, "switch_interval_s": switch_interval_s, "events": st["delivered"], "late": st["late"], "abandoned": st["abandoned"],
            "out_of_order": disorder[0],
            "lateness_p50_us": round(st["lateness_p50_us"], 1), "lateness_p99_us": round(st["lateness_p99_us"], 1),
            "lateness_max_us": round(st["lateness_max_us"], 1)}


def bench_playout(rate_hz: int = 1000, seconds: float = 3.0, delay_us: int = 20_000, spin_us: int = 500) -> dict[str, Any]:
    main = _playout_run(rate_hz, seconds, delay_us, spin_us)
    base = _playout_run(rate_hz, seconds, delay_us, 0)
    return {"bench": "py-playout-lateness", "rate_hz": rate_hz, "seconds": seconds, "delay_us": delay_us,
            **main, "baseline": {"what": "same thread, sleep only (spin_us=0)", **base}}


class _Busy:
    """A Python thread that keeps the interpreter lock busy in small pieces, as a process's network
    thread (trio decoding frames) does."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.rounds = 0
        self._t = threading.Thread(target=self._run, name="bench-busy", daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            s = 0
            for i in range(2000):
                s += i
            self.rounds += 1

    def stop(self) -> None:
        self._stop.set()
        self._t.join(5)


def bench_playout_contended(rate_hz: int = 1000, seconds: float = 3.0, delay_us: int = 20_000,
                            switch_interval_s: float = 0.0005) -> dict[str, Any]:
    """Playout lateness while another Python thread of the process computes (the interpreter lock is
    shared), with ``switch_interval_s``; baseline: the same with the interpreter's default interval."""
    main = _playout_run(rate_hz, seconds, delay_us, 500, switch_interval_s, contended=True)
    base = _playout_run(rate_hz, seconds, delay_us, 500, None, contended=True)
    return {"bench": "py-playout-lateness-contended", "rate_hz": rate_hz, "seconds": seconds,
            "delay_us": delay_us, **main,
            "baseline": {"what": "same, interpreter default switch interval", **base}}


def run_all(seconds: float = 3.0) -> list[dict[str, Any]]:
    return [bench_merge(), bench_playout(seconds=seconds), bench_playout_contended(seconds=seconds)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m spikewire.timing.bench")
    ap.add_argument("--json", action="store_true", help="one JSON line per measure")
    ap.add_argument("--seconds", type=float, default=3.0, help="playout run length (each of the two runs)")
    args = ap.parse_args(argv)
    for line in run_all(args.seconds):
        sys.stdout.write((json.dumps(line) if args.json else " ".join(f"{k}={v}" for k, v in line.items())) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
