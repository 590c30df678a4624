"""`python -m spikewire describe|clock|node`: the TypeScript CLI's options, JSON shapes and exit codes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from _tsnode import json_lines, py_cli, py_node_process, ts_cli, ts_node

PORTS = [{"name": "spikes", "direction": "out", "kind": "spike", "channels": 8,
          "model": {"name": "lif", "params": [["tau", 20, "ms"]]}}]


def test_describe_prints_what_the_typescript_cli_prints(tmp_path: Path) -> None:
    with ts_node({"name": "ts-cli", "role": "source", "ports": PORTS}, tmp_path) as ts:
        py = py_cli("describe", ts.addr, "--json")
        tsr = ts_cli("describe", ts.addr, "--json")
        assert py.returncode == 0 and tsr.returncode == 0, (py.stderr, tsr.stderr)
        assert json.loads(py.stdout) == json.loads(tsr.stdout)
        py_text = py_cli("describe", ts.addr)
        ts_text = ts_cli("describe", ts.addr)
        assert py_text.returncode == 0
        assert py_text.stdout == ts_text.stdout


def test_clock_json_lines_and_summary(tmp_path: Path) -> None:
    with ts_node({"name": "ts-clock-cli"}, tmp_path) as ts:
        r = py_cli("clock", ts.addr, "--json", "--duration", "2")
    assert r.returncode == 0, r.stderr
    lines = json_lines(r.stdout)
    keys = ["t_s", "offset_us", "uncertainty_us", "rtt_us", "drift_ppm", "drift_uncertainty_ppm", "samples",
            "converged"]
    assert len(lines) >= 2 and all(list(o) == keys for o in lines[:-1])
    s = lines[-1]
    assert s["summary"] is True and s["peer"] == ts.addr
    assert list(s)[2:] == keys + ["probes", "answers", "timeouts"]
    assert abs(s["offset_us"]) <= s["uncertainty_us"]


def test_exit_codes(tmp_path: Path) -> None:
    assert py_cli().returncode == 2
    assert py_cli("--help").returncode == 0
    assert py_cli("bogus").returncode == 2
    assert py_cli("describe").returncode == 2
    assert py_cli("describe", "not-an-addr").returncode == 2
    assert py_cli("describe", "/ip4/127.0.0.1/tcp/1", "--timeout", "-1").returncode == 2
    assert py_cli("clock", "/ip4/127.0.0.1/tcp/1", "--duration", "x").returncode == 2
    assert py_cli("node").returncode == 2
    r = py_cli("describe", "--help")
    assert r.returncode == 0 and r.stdout.startswith("Usage: python -m spikewire describe")
    # Nobody listens there: a runtime failure, one line on stderr.
    dead = "/ip4/127.0.0.1/tcp/9/p2p/12D3KooWHJvQfsXmiU3gizLUc13sTgJ3vHZFTDtV5ex2LBzdVyfu"
    r = py_cli("describe", dead, "--timeout", "3")
    assert r.returncode == 1 and r.stderr.startswith("spikewire describe: ")
    r = py_cli("clock", dead, "--duration", "2", "--json")
    assert r.returncode == 1 and json_lines(r.stdout)[-1]["summary"] is True
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "ports": [{"name": "a", "direction": "out", "channels": 0}]}))
    r = py_cli("node", "--config", str(bad))
    assert r.returncode == 1 and "config.ports[0].channels" in r.stderr


def test_node_serves_typescript_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    with py_node_process({"name": "py-cli-node", "role": "sink", "identity": str(tmp_path / "k.key")},
                         tmp_path) as py:
        assert py.started["name"] == "py-cli-node" and py.started["ports"] == []
        r = ts_cli("describe", py.addr, "--json")
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        assert d["name"] == "py-cli-node" and d["peer"] == py.peer and d["software"].startswith("spikewire-py/")
        r = ts_cli("clock", py.addr, "--json", "--duration", "2")
        assert r.returncode == 0, r.stderr
        py.child.proc.send_signal(signal.SIGINT)
        assert py.child.wait_json(lambda o: o.get("event") == "stopping")["signal"] == "SIGINT"
        py.child.wait_json(lambda o: o.get("event") == "stopped")
        assert py.child.proc.wait(20) == 0
    # The identity file keeps the PeerId across restarts.
    with py_node_process({"name": "py-cli-node", "identity": str(tmp_path / "k.key")}, tmp_path) as again:
        assert again.peer == py.peer


def test_python_module_entry_point() -> None:
    r = subprocess.run([sys.executable, "-m", "spikewire", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "0.1.0"


def test_keygen_and_error_lines_match_the_typescript_cli(tmp_path: Path) -> None:
    key = tmp_path / "py.key"
    r = py_cli("keygen", "--out", str(key), "--json")
    assert r.returncode == 0, r.stderr
    peer = json.loads(r.stdout)["peer"]
    with ts_node({"name": "py-keyed", "identity": str(key)}, tmp_path) as ts:
        assert ts.peer == peer
    again_py = py_cli("keygen", "--out", str(key))
    again_ts = ts_cli("keygen", "--out", str(key))
    assert again_py.returncode == again_ts.returncode == 1
    assert again_py.stderr == again_ts.stderr  # spikewire keygen: ConfigError key-exists: ... exists already; ...
    assert py_cli("keygen").returncode == ts_cli("keygen").returncode == 2
