"""Latency the LSL bridge adds, and events lost, on both paths: `python -m spikewire.lsl.bench [--json]`.

One JSON line per path (docs/lsl.md, "Figures"), each with its baseline measured in the same run:
- lsl-publish: TS node → publish bridge → LSL inlet. Latency of an event = its arrival at the inlet minus
  its time on the publisher's clock; the baseline is a direct spikewire subscriber of the same port in this
  process. Both are mapped with this process's own clock estimate of the TS node and its own LSL anchor, so
  the difference (added) does not depend on either estimate's error.
- lsl-ingest: LSL outlet → ingest bridge → spikewire subscriber (and `spikewire tap`). Latency = arrival at
  the subscriber minus the sample's LSL timestamp (through this process's anchor); the baseline is a direct
  LSL inlet on the same outlet.
`lost` counts events that did not arrive (must be 0), from the bridge's counters and the receivers' counts.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .harness import locate_run, run_ingest_path, run_publish_path
from .lslcfg import write_loopback_config


def _pct(x: np.ndarray) -> tuple[float, float]:
    return float(np.percentile(x, 50)), float(np.percentile(x, 99))


def bench_publish(tmp: Path, cfg: Path, *, channels: int = 8, rate_hz: float = 125.0, seconds: float = 5.0) -> dict[str, Any]:
    r = run_publish_path(tmp, cfg, channels=channels, rate_hz=rate_hz, seconds=seconds)
    d, lsl, st = r["direct"], r["lsl"], r["stats"]
    est, anchor = r["estimate_end"], r["anchor"]
    d_t = d["times"].astype(np.int64)
    remote = est.to_remote(anchor.us + (lsl["times"] - anchor.lsl) * 1e6)
    tol = st["clock_error_bound_us"] + est.uncertainty_us + 10
    j = locate_run(d["channels"], d_t, lsl["channels"], remote, tol)
    ref_local = est.to_local(d_t)
    # Arrival at the inlet (LSL s) on this process's clock (µs); the event's time on this process's clock.
    bridged = (anchor.us + (lsl["arrivals"] - anchor.lsl) * 1e6) - ref_local[j:j + len(lsl["times"])]
    # The baseline over the same events (the direct subscriber ran longer: its start-up is not compared).
    direct = (d["arrivals"] - ref_local)[j:j + len(lsl["times"])]
    lost = st["gap_events"] + st["lost_events"] + st["push_errors"] + (st["events"] - len(lsl["times"]))
    b50, b99 = _pct(bridged)
    d50, d99 = _pct(direct)
    return {"bench": "lsl-publish", "path": "ts node -> publish bridge -> LSL inlet", "events": int(len(lsl["times"])),
            "rate_hz": channels * rate_hz, "lost": int(lost), "latency_p50_us": round(b50, 1),
            "latency_p99_us": round(b99, 1), "baseline": "direct spikewire subscriber (python, same run)",
            "baseline_events": int(len(direct)), "baseline_p50_us": round(d50, 1), "baseline_p99_us": round(d99, 1),
            "added_p50_us": round(b50 - d50, 1), "added_p99_us": round(b99 - d99, 1),
            "clock_error_bound_us": round(st["clock_error_bound_us"], 1)}


def bench_ingest(tmp: Path, cfg: Path, *, channels: int = 8, rate_hz: float = 500.0, n: int = 2500) -> dict[str, Any]:
    r = run_ingest_path(tmp, cfg, kind="weighted", channels=channels, rate_hz=rate_hz, n=n)
    anchor, st = r["anchor"], r["stats"]
    pushed = r["pushed"]["ts"]
    sub, direct = r["sub"], r["direct"]
    # Both receivers got the events in push order: latency of event i at each.
    bridged = sub["arrivals"][:n] - anchor.to_us(pushed[:len(sub["arrivals"])]).astype(np.float64)
    base = (direct["arrivals"][:n] - pushed[:len(direct["arrivals"])]) * 1e6
    lost = (n - len(r["tap"])) + (n - len(sub["times"])) + (n - st["events"])
    b50, b99 = _pct(bridged)
    d50, d99 = _pct(base)
    return {"bench": "lsl-ingest", "path": "LSL outlet -> ingest bridge -> spikewire subscriber (and spikewire tap)",
            "events": int(len(sub["times"])), "tap_events": len(r["tap"]), "rate_hz": rate_hz, "lost": int(lost),
            "latency_p50_us": round(b50, 1), "latency_p99_us": round(b99, 1),
            "baseline": "direct LSL inlet on the same outlet (same run)", "baseline_p50_us": round(d50, 1),
            "baseline_p99_us": round(d99, 1), "added_p50_us": round(b50 - d50, 1), "added_p99_us": round(b99 - d99, 1),
            "correction_error_bound_us": round(st["correction_error_bound_us"], 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m spikewire.lsl.bench")
    p.add_argument("--json", action="store_true", help="JSON lines only (the default prints them too)")
    p.add_argument("--seconds", type=float, default=5.0, help="publish path duration")
    p.add_argument("--events", type=int, default=2500, help="ingest path events")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="spikewire-lsl-bench-") as d:
        tmp = Path(d)
        cfg = write_loopback_config(tmp / "lsl_api.cfg", f"spikewire-bench-{uuid.uuid4().hex[:8]}")
        for fn in (lambda: bench_publish(tmp, cfg, seconds=args.seconds), lambda: bench_ingest(tmp, cfg, n=args.events)):
            print(json.dumps(fn()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
