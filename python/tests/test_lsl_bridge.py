"""The LSL bridge end to end on a real liblsl (pylsl's wheel), real child processes, loopback only.

TypeScript node → publish bridge → LSL inlet, and LSL outlet → ingest bridge → `spikewire tap --json`:
every event arrives, on its channel, intervals kept to 10 µs, times agreeing with the publisher's clock
within the uncertainty the bridge reports (plus this test's own clock estimate's uncertainty: the test
compares through an estimate of its own).
"""
from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from spikewire.lsl.harness import locate_run, run_ingest_path, run_publish_path
from spikewire.lsl.lslcfg import write_loopback_config

INTERVAL_US = 10.0
ROUNDING_US = 2.0  # µs rounding on both sides and the anchors' reading windows


@pytest.fixture(scope="session")
def lsl_cfg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One liblsl configuration for the whole test process (liblsl reads it once per process): loopback
    only, and a session id of this run so that no other run's streams are resolved."""
    return write_loopback_config(tmp_path_factory.mktemp("lsl") / "lsl_api.cfg",
                                 f"spikewire-test-{uuid.uuid4().hex[:8]}")


def test_ts_node_to_publish_bridge_to_lsl_inlet(tmp_path: Path, lsl_cfg: Path) -> None:
    r = run_publish_path(tmp_path, lsl_cfg, channels=8, rate_hz=100.0, seconds=3.0)
    stats, lsl, direct = r["stats"], r["lsl"], r["direct"]
    # Counted, not silent: nothing missing between the publisher and the bridge, nothing refused by liblsl.
    assert stats["gap_events"] == 0 and stats["lost_events"] == 0 and stats["push_errors"] == 0, stats
    assert stats["events"] > 1000
    assert r["got"] == len(lsl["times"]) == stats["events"]
    # The outlet's metadata: the shared event-as-sample layout.
    assert r["info_type"] == "Spikes" and r["info_format"] == 4  # cf_int32
    assert r["source_id"] == f"{r['peer']}/spikes"
    assert r["meta"]["channels"] == "8" and r["meta"]["kind"] == "spike" and r["meta"]["peer"] == r["peer"]
    assert float(r["meta"]["clock_uncertainty_us"]) > 0

    # Map each LSL time back onto the publisher's clock through this test's own estimate and anchor.
    est, anchor = r["estimate_end"], r["anchor"]
    local_us = anchor.us + (lsl["times"] - anchor.lsl) * 1e6
    remote_us = est.to_remote(local_us)
    bound = stats["clock_error_bound_us"] + max(est.uncertainty_us, r["estimate"].uncertainty_us) + ROUNDING_US
    d_ch, d_t = direct["channels"], direct["times"].astype(np.int64)
    ch = lsl["channels"]
    j = locate_run(d_ch, d_t, ch, remote_us, bound)
    ref = d_t[j:j + len(ch)]
    assert set(ch.tolist()) == set(range(8))
    # Intervals: LSL's seconds against the publisher's µs.
    err_interval = np.abs(np.diff(lsl["times"]) * 1e6 - np.diff(ref))
    assert err_interval.max() <= INTERVAL_US, err_interval.max()
    # Times: within the reported bound.
    err = np.abs(remote_us - ref)
    assert err.max() <= bound, (err.max(), bound)


@pytest.mark.parametrize("kind", ["weighted", "markers"])
def test_lsl_outlet_to_ingest_bridge_to_ts_tap(tmp_path: Path, lsl_cfg: Path, kind: str) -> None:
    n = 1000 if kind == "weighted" else 300
    r = run_ingest_path(tmp_path, lsl_cfg, kind=kind, channels=8, rate_hz=400.0, n=n)
    stats, taps, pushed = r["stats"], r["tap"], r["pushed"]
    assert stats["samples"] == n and stats["events"] == n, stats
    assert stats["unmapped"] == {} and stats["refused"] == 0 and stats["correction_failures"] == 0
    s = r["tap_summary"]
    assert len(taps) == n, (len(taps), s, len(r["sub"]["times"]))
    # The bridge's node describes the port (a valid description: the TypeScript side would refuse others).
    port = {p.name: p for p in r["description"].ports}["events"]
    assert int(port.direction) == 1 and port.channels == 8 and int(port.kind) == (1 if kind == "weighted" else 0)
    assert port.model is not None and port.model.name.startswith("lsl:lsltest-")
    assert s.get("gaps") == 0 and s.get("losses") == 0, s
    ch = np.array([e["channel"] for e in taps])
    t = np.array([e["time_us"] for e in taps], dtype=np.int64)
    if kind == "weighted":
        assert np.array_equal(ch, pushed["channels"])
        vals = np.array([e["value"] for e in taps])
        assert np.array_equal(vals.astype(np.float32), pushed["values"].astype(np.float32))
    else:
        names = stats["markers"]
        assert np.array_equal(ch, [names[f"ch{int(c)}"] for c in pushed["channels"]])
    assert all(e["port"] == "events" for e in taps)
    # Intervals kept.
    err_interval = np.abs(np.diff(t) - np.diff(pushed["ts"]) * 1e6)
    assert err_interval.max() <= INTERVAL_US, err_interval.max()
    # Times: the bridge's clock → this test's clock (its own estimate) → LSL seconds, against the outlet's
    # timestamps, within the bridge's reported correction bound plus the estimate's uncertainty.
    est, anchor = r["estimate_end"], r["anchor"]
    lsl_s = anchor.to_lsl(np.rint(est.to_local(t)).astype(np.int64))
    bound = stats["correction_error_bound_us"] + max(est.uncertainty_us, r["estimate"].uncertainty_us) + ROUNDING_US
    err = np.abs(lsl_s - pushed["ts"]) * 1e6
    assert err.max() <= bound, (err.max(), bound)
    # The Python subscriber got them all too.
    assert len(r["sub"]["times"]) == n
