#!/usr/bin/env bash
# Record to XDF, open it with pyxdf, export it to NWB 2 and check the NWB file (pynwb, nwbinspector).
#
#   bash examples/lab-bridges/nwb_export.sh               # records 5 s of a local Poisson source first
#   bash examples/lab-bridges/nwb_export.sh FILE.xdf      # exports a recording you already have
#                                                         # (e.g. the one examples/lab-bridges/record.sh made)
# Output goes to $OUT (default: a new folder under /tmp). Run from anywhere in a repository checkout after
# `npm install`; the Python environment python/.venv is made on first use.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="$root/node_modules/.bin:$PATH"            # Node 24 for the spikewire CLI
bash "$root/python/tools/ensure-venv.sh" >&2
py="$root/python/.venv/bin/python"
out="${OUT:-$(mktemp -d /tmp/spikewire-nwb-example.XXXXXX)}"
mkdir -p "$out"

if [[ $# -ge 1 ]]; then
  xdf="$1"
else
  xdf="$out/session.xdf"
  # 1. a node with a Poisson spike port (8 channels) and a weighted port (its model shown in the description)
  cat >"$out/source.json" <<'JSON'
{ "name": "bench-culture", "role": "source",
  "ports": [
    { "name": "spikes", "direction": "out", "kind": "spike", "channels": 8,
      "source": { "type": "poisson", "rateHz": 50, "seed": 1 } },
    { "name": "stim", "direction": "out", "kind": "weighted", "channels": 2,
      "source": { "type": "poisson", "rateHz": 10, "seed": 2 },
      "model": { "name": "electrode", "params": [["gain", 2, "mV"], ["channels", 2, ""]] } } ] }
JSON
  node "$root/bin/spikewire.js" node --config "$out/source.json" --json >"$out/node.jsonl" 2>"$out/node.log" &
  node_pid=$!
  trap 'kill "$node_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do grep -q '"started"' "$out/node.jsonl" 2>/dev/null && break; sleep 0.2; done
  addr="$("$py" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["multiaddrs"][0])' "$out/node.jsonl")"
  echo "== recording $addr spikes + stim for 5 s -> $xdf"
  # 2. the recorder: one XDF stream per port, one sample per event
  node "$root/bin/spikewire.js" record "$addr" spikes "$addr" stim --out "$xdf" --duration 5 --progress 60
  kill "$node_pid" 2>/dev/null || true
fi

echo "== the recording, opened with pyxdf"
"$py" - "$xdf" <<'PY'
import sys
import numpy as np
import pyxdf
streams, header = pyxdf.load_xdf(sys.argv[1], synchronize_clocks=False, dejitter_timestamps=False)
for s in streams:
    info = s["info"]
    print(f"  {info['name'][0]:<20} type {info['type'][0]:<8} {len(s['time_stamps']):>7} samples"
          + (f", first {s['time_stamps'][0]:.6f} s, last {s['time_stamps'][-1]:.6f} s" if len(s["time_stamps"]) else ""))
PY

echo "== exporting to NWB"
"$py" -m spikewire.nwb "$xdf" --out "$out/session.nwb" --overwrite \
  --subject-id culture-1 --species "Rattus norvegicus" --sex U --age P21D \
  --subject-description "example: a simulated culture" --experimenter "Doe, Jane" \
  --institution "Example Institute" --experiment-description "spikewire lab-bridges example"

echo "== read back with pynwb"
"$py" - "$out/session.nwb" <<'PY'
import sys
from pynwb import NWBHDF5IO
with NWBHDF5IO(sys.argv[1], "r") as io:
    nwb = io.read()
    print(f"  session start {nwb.session_start_time.isoformat()}  identifier {nwb.identifier}")
    print(f"  {nwb.session_description}")
    if nwb.units is not None:
        n = sum(len(nwb.units['spike_times'][i]) for i in range(len(nwb.units)))
        print(f"  units: {len(nwb.units)} with {n} spikes")
    for name, table in (nwb.events or {}).items():
        print(f"  events table {name}: {len(table)} events")
    for name, dev in nwb.devices.items():
        print(f"  device {name}: {dev.description}")
PY

echo "== nwbinspector"
"$root/python/.venv/bin/nwbinspector" "$out/session.nwb" 2>/dev/null | sed -n '/^Found/,/^\*\*\*/p'
echo "files in $out"
