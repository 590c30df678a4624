"""`python -m spikewire.nwb.bench --json`: how fast the NWB export runs and how large its files are.

Records a TypeScript node (a Poisson spike port of 64 channels and a weighted Poisson port) with the real
recorder (`spikewire record`) for --seconds, then times, on that file:
- the baseline: pyxdf.load_xdf alone (no clock synchronisation, no dejitter) — the reader every export
  pays for;
- the export, with gzip (the default) and without (--no-compression): read (scan + pyxdf + checks) and
  write (pynwb/h5py) times, events per second, and the sizes of the XDF and NWB files.
One JSON line per measurement. Needs a repository checkout (Node 24 in node_modules/.bin)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..events.tsproc import BIN, ROOT, node_env, ts_node
from .convert import ExportOptions, export


def record(tmp: Path, seconds: float, rate: float) -> tuple[Path, dict[str, Any]]:
    cfg = {"name": "bench-src", "ports": [
        {"name": "spikes", "direction": "out", "kind": "spike", "channels": 64,
         "source": {"type": "poisson", "rateHz": rate / 64, "seed": 1}},
        {"name": "stim", "direction": "out", "kind": "weighted", "channels": 4,
         "source": {"type": "poisson", "rateHz": rate / 40, "seed": 2}}]}
    out = tmp / "bench.xdf"
    with ts_node(cfg, tmp) as (_proc, started):
        addr = next(a for a in started["multiaddrs"] if a.startswith("/ip4/127.0.0.1/"))
        r = subprocess.run(["node", str(BIN), "record", addr, "spikes", addr, "stim", "--out", str(out),
                            "--duration", str(seconds), "--json", "--progress", "3600"],
                           capture_output=True, text=True, env=node_env(), cwd=ROOT, timeout=seconds + 120)
    summary = next((json.loads(x) for x in r.stdout.splitlines() if '"summary"' in x), None)
    if summary is None:
        raise RuntimeError(f"the recorder failed (rc {r.returncode}): {r.stderr[-1000:]}")
    return out, summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m spikewire.nwb.bench")
    ap.add_argument("--seconds", type=float, default=10.0, help="recording length (default 10)")
    ap.add_argument("--rate", type=float, default=20_000, help="spikes per second of the source (default 20000)")
    ap.add_argument("--xdf", help="export this file instead of recording one")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    import pyxdf
    t_import = time.perf_counter()
    import pynwb  # noqa: F401  (imported before timing: its import is not part of the export rate)
    import_s = time.perf_counter() - t_import

    with tempfile.TemporaryDirectory(prefix="spikewire-nwb-bench-") as d:
        tmp = Path(d)
        rec: dict[str, Any] = {}
        if a.xdf:
            xdf = Path(a.xdf)
        else:
            xdf, rec = record(tmp, a.seconds, a.rate)
        t0 = time.perf_counter()
        streams, _ = pyxdf.load_xdf(str(xdf), synchronize_clocks=False, dejitter_timestamps=False,
                                    handle_clock_resets=False)
        base_s = time.perf_counter() - t0
        samples = sum(len(s["time_stamps"]) for s in streams)
        lines = []
        for compression in (True, False):
            out = tmp / f"bench-{compression}.nwb"
            s = export(str(xdf), str(out), ExportOptions(compression=compression, overwrite=True))
            events = s.spikes + s.events
            total = s.read_s + s.write_s
            lines.append({
                "bench": "nwb-export", "compression": "gzip-4" if compression else "none",
                "events": events, "spikes": s.spikes, "weighted": s.events, "units": s.units,
                "recorded_s": rec.get("duration_s"), "recorder_missing": rec.get("missing"),
                "recorder_lost": rec.get("lost"),
                "read_s": s.read_s, "write_s": s.write_s, "export_s": round(total, 4),
                "events_per_s": round(events / total) if total > 0 else None,
                "xdf_bytes": s.xdf_bytes, "nwb_bytes": s.nwb_bytes,
                "nwb_bytes_per_event": round(s.nwb_bytes / events, 2) if events else None,
                "xdf_bytes_per_event": round(s.xdf_bytes / events, 2) if events else None,
                "baseline": {"name": "pyxdf.load_xdf (no sync, no dejitter)", "s": round(base_s, 4),
                             "samples": samples, "samples_per_s": round(samples / base_s) if base_s > 0 else None},
                "pynwb_import_s": round(import_s, 3), "cpus": os.cpu_count(), "python": sys.version.split()[0]})
    for line in lines:
        if a.json:
            print(json.dumps(line))
        else:
            print(f"{line['compression']:>7}: {line['events']} events in {line['export_s']} s "
                  f"({line['events_per_s']} events/s; pyxdf alone {line['baseline']['samples_per_s']} samples/s), "
                  f"XDF {line['xdf_bytes']} B, NWB {line['nwb_bytes']} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
