"""`python -m spikewire tap` against a real TypeScript node: JSON lines, the summary, exit codes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from spikewire.events.tsproc import ts_node

TS_CONFIG = {"name": "tstap", "ports": [{"name": "spikes", "direction": "out", "channels": 4,
                                          "source": {"type": "pacemaker", "rateHz": 50}}]}


def tap(*args: str, timeout: float = 40) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spikewire", "tap", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_tap_prints_events_and_a_summary(tmp_path: Path) -> None:
    with ts_node(TS_CONFIG, tmp_path) as (_p, started):
        addr = started["multiaddrs"][0]
        r = tap(addr, "spikes", "--json", "--duration", "2", "--channels", "1,3")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    events, summary = lines[:-1], lines[-1]
    assert summary["summary"] is True and summary["ended"] == "duration"
    assert summary["events"] == len(events) > 20
    assert {e["channel"] for e in events} <= {1, 3}
    assert all(e["port"] == "spikes" and e["peer"] == started["peer"] for e in events)
    assert [e["time_us"] for e in events] == sorted(e["time_us"] for e in events)
    assert summary["gaps"] == 0 and summary["losses"] == 0 and summary["streams"] == 1
    status = [json.loads(x) for x in r.stderr.splitlines() if x.startswith("{")]
    assert status[0]["state"] == "connecting" and any(s.get("state") == "open" for s in status)


def test_tap_exit_codes(tmp_path: Path) -> None:
    with ts_node(TS_CONFIG, tmp_path) as (_p, started):
        addr = started["multiaddrs"][0]
        refused = tap(addr, "nope", "--duration", "5")
        usage = tap(addr, "Bad Port")
    assert refused.returncode == 1 and "unknown-port" in refused.stderr
    assert usage.returncode == 2
    # A node that is never reached: the summary first, then exit 1.
    dead = "/ip4/127.0.0.1/tcp/1/p2p/" + started["peer"]
    never = tap(dead, "spikes", "--json", "--duration", "1.5")
    assert never.returncode == 1
    summary = json.loads(never.stdout.splitlines()[-1])
    assert summary["streams"] == 0 and summary["connect_errors"]
    assert "never subscribed" in never.stderr


def test_tap_summary_counts_the_publishers_close_codes(tmp_path: Path) -> None:
    import time
    with ts_node(TS_CONFIG, tmp_path) as (proc, started):
        addr = started["multiaddrs"][0]
        p = subprocess.Popen([sys.executable, "-m", "spikewire", "tap", addr, "spikes", "--json", "--quiet",
                              "--duration", "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first: list[str] = []
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # wait until the tap's stream is open
                line = p.stderr.readline()
                first.append(line)
                if '"state":"open"' in line:
                    break
            time.sleep(0.5)
            proc.stop()  # SIGTERM: the TypeScript node sends close{shutdown} on its streams
            out, rest = p.communicate(timeout=30)
            err = "".join(first) + rest
        finally:
            if p.poll() is None:
                p.kill()
    assert p.returncode == 0, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["closes"] == {"shutdown": 1}
    assert summary["streams"] == 1 and summary["events"] > 0
    assert any(json.loads(x).get("event") == "close" for x in err.splitlines() if x.startswith("{"))
