"""Every clocksync vector (interop-tests/vectors/clocksync, spec §9.3.3) through the estimator."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from spikewire.clock.estimator import (
    ClockEstimator,
    ClockFaultError,
    ClockRequests,
    sample_offset_delay,
)

VECTORS = Path(__file__).resolve().parents[2] / "interop-tests" / "vectors" / "clocksync"
FILES = sorted(VECTORS.glob("clocksync-*.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_vectors_exist() -> None:
    ids = [p.stem for p in FILES]
    assert len(ids) >= 16, ids
    assert any("-fail-" in i for i in ids) and any("-ok-" in i for i in ids)


def feed(v: dict) -> ClockEstimator:
    est = ClockEstimator(negative_delay_tolerance_us=v["context"]["negative_delay_tolerance_us"])
    bursts = v.get("bursts")
    for i, (t1, t2, t3, t4) in enumerate(v["samples"]):
        est.add_sample(t1, t2, t3, t4, burst=None if bursts is None else bursts[i])
    est.end_burst()
    return est


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_vector(path: Path) -> None:
    v = load(path)
    assert v["id"] == path.stem
    # θ and δ per sample, exactly (also for samples that are discarded or rejected).
    if "samples" in v:
        got = [sample_offset_delay(*s) for s in v["samples"]]
        assert [g[0] for g in got] == v["offset"]
        assert [g[1] for g in got] == v["delay"]
    if v["fail"]:
        run_failure(v)
    else:
        run_valid(v)


def run_failure(v: dict) -> None:
    code = v["code"]
    if "exchange" in v:
        reqs = ClockRequests()
        for r in v["exchange"]["requests"]:
            reqs.sent(r["id"], r["t1"])
        resp = v["exchange"]["response"]
        with pytest.raises(ClockFaultError) as info:
            reqs.match(resp["id"], resp["t1"])
        assert info.value.fault == code
        assert info.value.code == v["close_code"]
        return
    est = ClockEstimator(negative_delay_tolerance_us=v["context"]["negative_delay_tolerance_us"])
    (t1, t2, t3, t4), = v["samples"]
    if "close_code" in v:
        with pytest.raises(ClockFaultError) as info:
            est.add_sample(t1, t2, t3, t4)
        assert info.value.fault == code
        assert info.value.code == v["close_code"]
        assert est.samples == []
    else:
        s = est.add_sample(t1, t2, t3, t4)
        assert s.fault == code
        assert est.rejected == [(0, code)]
        assert est.filtered == []
    # Either way the sample takes no part in an estimate, and the estimator goes on.
    assert est.estimate() is None
    s = est.add_sample(t1, t1 + 1000, t1 + 1010, t1 + 300)
    assert s.fault is None and est.estimate() is not None


def run_valid(v: dict) -> None:
    est = feed(v)
    assert [list(r) for r in est.rejected] == [list(r) for r in v.get("rejected", [])]
    assert est.filtered == v["filtered"]
    e = v["estimate"]
    assert est.uncertainty_min_us == e["uncertainty_min_us"]
    got = est.estimate(e["at_local_us"])
    assert got is not None
    assert got.uncertainty_us >= e["uncertainty_min_us"]
    assert abs(got.offset_us - e["offset_us"]) <= e["offset_tolerance_us"], (got.offset_us, e["offset_us"])
    if "drift_ppm" in e:
        assert abs(got.drift_ppm - e["drift_ppm"]) <= e["drift_tolerance_ppm"], (got.drift_ppm, e["drift_ppm"])
    if "true_offset_us" in e:
        assert abs(got.offset_us - e["true_offset_us"]) <= got.uncertainty_us
    # The mapping agrees with the offset at that local time: t = T − θ̂(t). Absolute times as float64
    # resolve 0.25 µs near 2026, hence the half-µs bound.
    t = e["at_local_us"]
    remote = got.to_remote(t)
    assert abs(got.to_local(remote) - t) <= 0.5
    assert abs((remote - t) - got.offset_us) <= 0.5
