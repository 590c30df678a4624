"""The blocking wrapper: `with spikewire.connect() as sw:` in a plain script, against a TypeScript node."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

import spikewire
from _tsnode import ts_node
from spikewire.errors import ConfigError, SpikewireError

PORTS = [{"name": "spikes", "direction": "out", "kind": "spike", "channels": 8,
          "source": {"type": "poisson", "rateHz": 200, "seed": 3}}]


def test_describe_clock_and_subscribe_from_a_script(tmp_path: Path) -> None:
    with ts_node({"name": "ts-sync", "ports": PORTS}, tmp_path) as ts:
        with spikewire.connect() as sw:
            d = sw.describe(ts.addr)
            assert d.name == "ts-sync" and [p.name for p in d.ports] == ["spikes"]
            est = sw.clock(ts.addr)
            assert abs(est.offset_us) <= est.uncertainty_us
            batches = []
            for batch in sw.subscribe(ts.addr, "spikes"):
                batches.append(batch)
                if sum(len(b.channels) for b in batches) >= 50:
                    break
            ch = np.concatenate([b.channels for b in batches])
            t = np.concatenate([b.times for b in batches])
            assert ch.dtype == np.uint32 and t.dtype == np.int64
            assert ch.max() < 8 and np.all(np.diff(t) >= 0)
            # A second subscription after breaking out of the first works too.
            again = next(iter(sw.subscribe(ts.addr, "spikes")))
            assert len(again.channels) >= 0
    assert not any(t.name == "spikewire-node" for t in threading.enumerate())


def test_errors_reach_the_calling_thread() -> None:
    with spikewire.connect() as sw:
        with pytest.raises(SpikewireError) as e:
            sw.describe("/ip4/127.0.0.1/tcp/9/p2p/12D3KooWHJvQfsXmiU3gizLUc13sTgJ3vHZFTDtV5ex2LBzdVyfu", timeout=3)
        assert e.value.code == "dial-failed"
    with pytest.raises(ConfigError):
        spikewire.connect(config={"name": "x", "hosts": [{"model": "lif", "input": "a", "output": "b"}]})


def test_a_slow_caller_never_holds_the_node_up(tmp_path: Path) -> None:
    import time
    with ts_node({"name": "ts-sync-slow", "ports": PORTS}, tmp_path) as ts:
        started = time.monotonic()
        with spikewire.connect() as sw:
            for _ in sw.subscribe(ts.addr, "spikes", queue_batches=2):
                time.sleep(1.0)  # the queue fills meanwhile
                break
            assert sw.describe(ts.addr).name == "ts-sync-slow"  # the node still answers
        assert time.monotonic() - started < 20
