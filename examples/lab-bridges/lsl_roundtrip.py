#!/usr/bin/env python3
"""An LSL outlet streamed to a remote spikewire subscriber and back into LSL, on one machine.

    bash python/tools/ensure-venv.sh
    python/.venv/bin/python examples/lab-bridges/lsl_roundtrip.py [--events 1000] [--rate 200]

  LSL outlet "lab-events" (this script: [channel, value] samples, as an instrument would send them)
    → python -m spikewire.lsl ingest   (a spikewire node serving out port "events")
    → python -m spikewire.lsl publish  (a spikewire subscriber of that port, offering it as LSL again)
    → LSL inlet (this script): every sample back, on its channel, with its value and its interval

liblsl is kept on this machine (a loopback lsl_api.cfg with a session id of its own, see docs/lsl.md).
Prints one JSON line: events sent and received, the largest interval error (µs), the round-trip latency
p50/p99 and the two bridges' counters. Exit status 1 when an event is missing or changed.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from spikewire.lsl import lslcfg
from spikewire.lsl.harness import Bridge, poisson_schedule


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=200.0, help="events per second (Poisson)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="lsl-roundtrip-") as d:
        cfg = lslcfg.write_loopback_config(Path(d) / "lsl_api.cfg", f"roundtrip-{uuid.uuid4().hex[:8]}")
        lslcfg.use_config(cfg)
        pylsl = lslcfg.pylsl()
        sid = f"lab-events-{uuid.uuid4().hex[:8]}"
        info = pylsl.StreamInfo("lab-events", "Events", 2, pylsl.IRREGULAR_RATE, pylsl.cf_double64, sid)
        info.desc().append_child("spikewire").append_child_value("channels", "16")
        outlet = pylsl.StreamOutlet(info)

        ingest = Bridge(["ingest", f"source_id={sid}", "--listen", "/ip4/127.0.0.1/tcp/0", "--port", "events"], cfg)
        publish = None
        try:
            addr = ingest.wait("ready")["addrs"][0]
            print(f"ingest bridge serves {addr} port events", file=sys.stderr)
            publish = Bridge(["publish", addr, "events", "--name", "lab-events-roundtrip", "--wait-consumers", "20"], cfg)
            back_sid = publish.wait("ready", 40)["source_id"]
            found = pylsl.resolve_byprop("source_id", back_sid, 1, 20)
            if not found:
                raise TimeoutError(f"the round-trip stream {back_sid} was not found")
            inlet = pylsl.StreamInlet(found[0], processing_flags=0)
            inlet.open_stream(20)
            publish.wait("consumers")
            time.sleep(1.0)  # the publish bridge's subscription opens

            offsets, chans, vals = poisson_schedule(args.events, args.rate, 16, seed=5)
            sent = np.zeros(args.events)
            got_s, got_t, got_arr = [], [], []
            t0 = pylsl.local_clock() + 0.05
            for i in range(args.events):
                left = t0 + offsets[i] - pylsl.local_clock()
                if left > 0:
                    time.sleep(left)
                sent[i] = pylsl.local_clock()
                outlet.push_sample([float(chans[i]), float(vals[i])], sent[i])
                s, ts = inlet.pull_chunk(0.0, 4096, None, None, True)
                if len(ts):
                    got_s.append(s), got_t.append(ts), got_arr.append(np.full(len(ts), pylsl.local_clock()))
            end = time.monotonic() + 20
            while sum(len(t) for t in got_t) < args.events and time.monotonic() < end:
                s, ts = inlet.pull_chunk(0.2, 4096, None, 1, True)
                if len(ts):
                    got_s.append(s), got_t.append(ts), got_arr.append(np.full(len(ts), pylsl.local_clock()))
        finally:
            try:
                stats_pub = publish.stop() if publish is not None else {}
            finally:
                stats_ing = ingest.stop()
        samples = np.concatenate(got_s) if got_s else np.zeros((0, 2))
        ts = np.concatenate(got_t) if got_t else np.zeros(0)
        arrivals = np.concatenate(got_arr) if got_arr else np.zeros(0)
        n = len(ts)
        ok = n == args.events and np.array_equal(samples[:, 0], chans) and \
            np.array_equal(samples[:, 1].astype(np.float32), vals.astype(np.float32))
        interval_err = float(np.abs(np.diff(ts) - np.diff(sent[:n])).max() * 1e6) if n > 1 else None
        lat = (arrivals - sent[:n]) * 1e6
        print(json.dumps({"example": "lsl-roundtrip", "sent": args.events, "received": n, "unchanged": bool(ok),
                          "interval_error_max_us": interval_err,
                          "time_error_max_us": float(np.abs(ts - sent[:n]).max() * 1e6) if n else None,
                          "roundtrip_latency_p50_us": float(np.percentile(lat, 50)) if n else None,
                          "roundtrip_latency_p99_us": float(np.percentile(lat, 99)) if n else None,
                          "ingest": {k: stats_ing.get(k) for k in ("samples", "events", "unmapped", "refused")},
                          "publish": {k: stats_pub.get(k) for k in ("events", "gap_events", "lost_events",
                                                                     "clock_error_bound_us")}}))
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
