"""The node config file: the same format and the same verdicts as `spikewire node --config` (docs/config.md,
schema/node-config.schema.json), checked against the TypeScript validator itself."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from _tsnode import REPO, _env, node_binary
from spikewire.config import load_config, parse_config, schema
from spikewire.errors import ConfigError

PEER = "12D3KooWHJvQfsXmiU3gizLUc13sTgJ3vHZFTDtV5ex2LBzdVyfu"
BASE = {"name": "n"}
OUT = {"name": "spikes", "direction": "out", "channels": 4}
IN = {"name": "rec", "direction": "in", "channels": 4}

CASES: list[dict[str, Any]] = [
    BASE,
    {"name": "n", "role": "culture", "listen": ["/ip4/127.0.0.1/tcp/0"], "allow": [PEER]},
    {"name": "n", "ports": [OUT, IN], "links": [{"from": "spikes", "to": f"/ip4/1.2.3.4/tcp/1/p2p/{PEER}",
                                                   "port": "in", "channels": [0, 1], "delay": 20000}]},
    {"name": "n", "ports": [IN], "subscriptions": [{"from": f"/ip4/1.2.3.4/tcp/1/p2p/{PEER}", "port": "spikes",
                                                    "to": "rec"}]},
    {"name": "n", "ports": [{**OUT, "source": {"type": "poisson", "rateHz": 20, "seed": 1}}]},
    {"name": "n", "ports": [{**OUT, "source": {"type": "pacemaker", "rateHz": 5, "phase": 0.5}}]},
    {"name": "n", "ports": [{**OUT, "source": {"type": "replay", "file": "x.csv", "start": "now"}}]},
    {"name": "n", "model": {"name": "lif", "params": [["tau", 20, "ms"]]}, "limits": {"maxFrameBytes": 2097152}},
    {"name": "n", "watermarkIntervalMs": 50, "maxBatchEvents": 100, "latenessUs": 0, "flushIntervalUs": 0},
    # invalid ones
    {},
    {"name": ""},
    {"name": 5},
    {"name": "n", "extra": 1},
    {"name": "n", "listen": ["tcp/1"]},
    {"name": "n", "listen": "/ip4/1.2.3.4/tcp/1"},
    {"name": "n", "allow": "nobody"},
    {"name": "n", "allow": ["not-a-peer"]},
    {"name": "n", "ports": [{**OUT, "channels": 0}]},
    {"name": "n", "ports": [{**OUT, "channels": 4294967296}]},
    {"name": "n", "ports": [{**OUT, "channels": 1.5}]},
    {"name": "n", "ports": [{**OUT, "name": "Bad"}]},
    {"name": "n", "ports": [{**OUT, "direction": "sideways"}]},
    {"name": "n", "ports": [{**OUT, "kind": "analog"}]},
    {"name": "n", "ports": [OUT, OUT]},
    {"name": "n", "ports": [{**OUT, "source": {"type": "poisson"}}]},
    {"name": "n", "ports": [{**OUT, "source": {"type": "poisson", "rateHz": -1}}]},
    {"name": "n", "ports": [{**OUT, "source": {"type": "noise", "rateHz": 1}}]},
    {"name": "n", "ports": [{**IN, "source": {"type": "poisson", "rateHz": 1}}]},
    {"name": "n", "ports": [{**IN, "subscribe": "*"}]},
    {"name": "n", "ports": [{**OUT, "push": "*"}]},
    {"name": "n", "ports": [OUT], "links": [{"from": "nope", "to": f"/ip4/1.2.3.4/tcp/1/p2p/{PEER}", "port": "in"}]},
    {"name": "n", "ports": [OUT], "links": [{"from": "spikes", "to": "/ip4/1.2.3.4/tcp/1", "port": "in"}]},
    {"name": "n", "ports": [OUT], "links": [{"from": "spikes", "to": f"/ip4/1.2.3.4/tcp/1/p2p/{PEER}", "port": "in",
                                             "channels": [2, 1]}]},
    {"name": "n", "ports": [OUT], "subscriptions": [{"from": f"/ip4/1.2.3.4/tcp/1/p2p/{PEER}", "port": "x",
                                                     "to": "spikes"}]},
    {"name": "n", "limits": {"maxFrameBytes": 1000}},
    {"name": "n", "limits": {"nope": 1}},
    {"name": "n", "model": {"name": "m", "params": [["a", 1]]}},
    {"name": "n", "watermarkIntervalMs": 0},
]


def _path(message: str) -> str:
    m = re.match(r"(config[^ ]*)", message)
    return m.group(1) if m else message


def _typescript_verdicts(configs: list[Any]) -> list[dict[str, Any]]:
    script = """
import { parseConfig } from './src/hosting/config.ts'
let s = ''
process.stdin.on('data', d => { s += d }).on('end', () => {
  for (const c of JSON.parse(s)) {
    try { parseConfig(c); console.log(JSON.stringify({ ok: true })) }
    catch (e) { console.log(JSON.stringify({ ok: false, code: e.code, message: e.message })) }
  }
})
"""
    r = subprocess.run([node_binary(), "--input-type=module", "-e", script], input=json.dumps(configs),
                       capture_output=True, text=True, timeout=60, env=_env(), cwd=str(REPO))
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_same_verdicts_and_fields_as_the_typescript_validator() -> None:
    ts = _typescript_verdicts(CASES)
    assert len(ts) == len(CASES)
    mismatches = []
    for cfg, verdict in zip(CASES, ts, strict=True):
        try:
            parse_config(cfg)
            py: dict[str, Any] = {"ok": True}
        except ConfigError as err:
            py = {"ok": False, "code": err.code, "message": err.message}
        if py["ok"] != verdict["ok"] or (not py["ok"] and (
                py["code"] != verdict["code"] or _path(py["message"]) != _path(verdict["message"]))):
            mismatches.append((cfg, py, verdict))
    assert mismatches == []


def test_docs_examples() -> None:
    text = (REPO / "docs" / "config.md").read_text()
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text, re.S)]
    assert len(blocks) >= 3
    complete, neuron, recorder = blocks[0], blocks[1], blocks[2]
    parse_config(complete)
    parse_config(recorder)
    with pytest.raises(ConfigError) as e:
        parse_config(neuron)
    assert e.value.code == "config-unsupported"
    assert "TypeScript-only" in e.value.message and "lif" in e.value.message


def test_schema_copy_matches_the_published_schema() -> None:
    assert schema() == json.loads((REPO / "schema" / "node-config.schema.json").read_text())


def test_files_relative_paths_and_defaults(tmp_path: Path) -> None:
    f = tmp_path / "node.json"
    f.write_text(json.dumps({"name": "n", "identity": "n.key"}))
    cfg = load_config(f)
    assert cfg.identity == tmp_path / "n.key"
    assert cfg.listen == ["/ip4/127.0.0.1/tcp/0"] and cfg.role == "other" and cfg.allow == "*"
    assert cfg.limit("clockIdleMs") == 20000 and cfg.tuning("watermarkIntervalMs") == 100
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError) as e:
        load_config(tmp_path / "bad.json")
    assert e.value.code == "config-invalid"
    with pytest.raises(ConfigError) as e:
        load_config(tmp_path / "missing.json")
    assert e.value.code == "config-unreadable"
