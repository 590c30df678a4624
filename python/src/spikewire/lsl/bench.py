"""Latency the LSL bridge adds, and events lost, on both paths: `python -m spikewire.lsl.bench [--json]`.

One JSON line per path (docs/lsl.md, "Figures"), each with its baseline measured in the same run:
- lsl-publish: TS node → publish bridge → LSL inlet. Latency of an event = its arrival at the inlet minus
  its LSL time stamp (the event's time as the bridge mapped it, within clock_error_bound_us of the
  publisher's). Baselines: direct spikewire subscribers of the same port, each a process of its own
  (`python -m spikewire tap`, the same Python stack as the bridge, and the TypeScript `spikewire tap`),
  running over the same seconds; their latency comes from their summaries (measured with their own clock
  estimates, whose uncertainty they report). A subscriber in this process was no fair baseline: it shares
  the GIL with the inlet's thread and fell far behind the bridge.
- lsl-ingest: LSL outlet → ingest bridge → spikewire subscriber (and `spikewire tap`). Latency = arrival at
  the subscriber (in this process) minus the sample's LSL time stamp (through this process's anchor); the
  baseline is a direct LSL inlet on the same outlet in this process. The TypeScript tap's own latency
  figures for the same events are added under "ts_tap".
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

from .harness import run_ingest_path, run_publish_path
from .lslcfg import write_loopback_config


def _pct(x: np.ndarray) -> tuple[float, float]:
    return float(np.percentile(x, 50)), float(np.percentile(x, 99))


def bench_publish(tmp: Path, cfg: Path, *, channels: int = 8, rate_hz: float = 25.0, seconds: float = 5.0) -> dict[str, Any]:
    r = run_publish_path(tmp, cfg, channels=channels, rate_hz=rate_hz, seconds=seconds, baseline_taps=True)
    lsl, st = r["lsl"], r["stats"]
    # Arrival at the inlet minus the event's time as the bridge stamped it (both on this machine's LSL clock;
    # the stamp is off the publisher's time by at most clock_error_bound_us).
    bridged = (lsl["arrivals"] - lsl["times"]) * 1e6
    lost = st["gap_events"] + st["lost_events"] + st["push_errors"] + (st["events"] - len(lsl["times"]))
    b50, b99 = _pct(bridged)
    out: dict[str, Any] = {
        "bench": "lsl-publish", "path": "ts node -> publish bridge -> LSL inlet", "events": int(len(lsl["times"])),
        "rate_hz": channels * rate_hz, "lost": int(lost), "latency_p50_us": round(b50, 1),
        "latency_p99_us": round(b99, 1), "clock_error_bound_us": round(st["clock_error_bound_us"], 1)}
    # Baselines: direct spikewire subscribers of the same port in processes of their own, over the same time.
    for name, label in (("py", "python -m spikewire tap"), ("ts", "spikewire tap (TypeScript)")):
        s = r["taps"].get(name) or {}
        p50, p99 = s.get("latency_p50_us"), s.get("latency_p99_us")
        out[f"baseline_{name}"] = {"subscriber": label, "events": s.get("events"), "gaps": s.get("gaps"),
                                   "losses": s.get("losses"), "latency_p50_us": p50, "latency_p99_us": p99,
                                   "clock_uncertainty_us": s.get("clock_uncertainty_us")}
        if p50 is not None and p99 is not None:
            out[f"added_vs_{name}_p50_us"] = round(b50 - p50, 1)
            out[f"added_vs_{name}_p99_us"] = round(b99 - p99, 1)
    return out


def bench_ingest(tmp: Path, cfg: Path, *, channels: int = 8, rate_hz: float = 200.0, n: int = 1000) -> dict[str, Any]:
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
            "correction_error_bound_us": round(st["correction_error_bound_us"], 1),
            # The same events at `spikewire tap` (TypeScript, a process of its own): its latency is measured
            # from the bridge's event times with its own clock estimate of the bridge.
            "ts_tap": {k: r["tap_summary"].get(k) for k in ("events", "gaps", "losses", "latency_p50_us",
                                                            "latency_p99_us", "clock_uncertainty_us")}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m spikewire.lsl.bench")
    p.add_argument("--json", action="store_true", help="JSON lines only (the default prints them too)")
    p.add_argument("--seconds", type=float, default=5.0, help="publish path duration")
    p.add_argument("--events", type=int, default=1000, help="ingest path events")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="spikewire-lsl-bench-") as d:
        tmp = Path(d)
        cfg = write_loopback_config(tmp / "lsl_api.cfg", f"spikewire-bench-{uuid.uuid4().hex[:8]}")
        for fn in (lambda: bench_publish(tmp, cfg, seconds=args.seconds), lambda: bench_ingest(tmp, cfg, n=args.events)):
            print(json.dumps(fn()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
