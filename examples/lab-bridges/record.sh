#!/usr/bin/env bash
# Record a spikewire node to XDF and open the file with pyxdf (docs/recording.md).
#
#   bash examples/lab-bridges/record.sh [OUT_DIR]      (from the repository root; default OUT_DIR out/record)
#
# 1. starts a TypeScript node with a Poisson spike port (4 channels × 250 Hz),
# 2. records it for 5 s with `spikewire record` into OUT_DIR/run.xdf,
# 3. opens the file with pyxdf (python/.venv, made by python/tools/ensure-venv.sh) and prints what it holds,
# 4. replays it for 2 s and taps the replay (the recorded events again, every interval kept),
# 5. Export it to NWB 2 (examples/lab-bridges/nwb_export.sh: pynwb read-back, nwbinspector).
# Every process it starts is stopped at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/out/record}"
mkdir -p "$out"
export PATH="$root/node_modules/.bin:$PATH"
sw() { node "$root/bin/spikewire.js" "$@"; }
pids=()   # background processes are started with node directly, so that $! is the process to stop
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

cat >"$out/pub.json" <<JSON
{ "name": "lab-pub", "identity": "lab-pub.key", "listen": ["/ip4/127.0.0.1/tcp/0"],
  "ports": [ { "name": "spikes", "direction": "out", "channels": 4, "source": { "type": "poisson", "rateHz": 250, "seed": 1 } } ] }
JSON
node "$root/bin/spikewire.js" node --config "$out/pub.json" --json >"$out/node.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q '"started"' "$out/node.log" 2>/dev/null && break; sleep 0.2; done
addr="$(grep '"started"' "$out/node.log" | head -1 | sed 's/.*"multiaddrs":\["\([^"]*\)".*/\1/')"
echo "node: $addr"

sw record "$addr" spikes --out "$out/run.xdf" --duration 5

bash "$root/python/tools/ensure-venv.sh" >/dev/null
"$root/python/.venv/bin/python" - "$out/run.xdf" <<'PY'
import sys
import numpy as np
import pyxdf

streams, header = pyxdf.load_xdf(sys.argv[1], synchronize_clocks=False, dejitter_timestamps=False)
origin = int(header["info"]["spikewire"][0]["time_origin_us"][0])
for s in streams:
    info = s["info"]
    print(f"stream {info['name'][0]}: type {info['type'][0]}, {info['channel_format'][0]}, {len(s['time_stamps'])} samples")
    if info["type"][0] == "Spikes":
        t_us = origin + np.rint(s["time_stamps"] * 1e6).astype(np.int64)   # exact µs since the epoch
        ch = s["time_series"][:, 0]
        print(f"  first events (channel, µs): {list(zip(ch[:3].tolist(), t_us[:3].tolist()))}")
        print(f"  per channel: {np.bincount(ch).tolist()}; footer: missing {s['footer']['info']['spikewire'][0]['missing'][0]}, lost {s['footer']['info']['spikewire'][0]['lost'][0]}")
PY

# Replay the recording and tap it: the same events, every interval kept (at --speed 1).
node "$root/bin/spikewire.js" replay "$out/run.xdf" --listen /ip4/127.0.0.1/tcp/0 --json --wait 20 >"$out/replay.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q '"started"' "$out/replay.log" 2>/dev/null && break; sleep 0.2; done
raddr="$(grep '"started"' "$out/replay.log" | head -1 | sed 's/.*"multiaddrs":\["\([^"]*\)".*/\1/')"
sw tap "$raddr" spikes --duration 2 --quiet

# 5. Export the recording to NWB 2, read it back with pynwb and check it with nwbinspector.
OUT="$out/nwb" bash "$root/examples/lab-bridges/nwb_export.sh" "$out/run.xdf"
echo "recording: $out/run.xdf"
