"""The LSL bridge's pure parts: sample ↔ event mapping, the two-clock anchor, the slewed offset, queries."""
from __future__ import annotations

import time

import numpy as np
import pytest

from spikewire.errors import SpikewireError
from spikewire.lsl.ingest import predicate
from spikewire.lsl.lslcfg import loopback_config
from spikewire.lsl.mapping import ClockAnchor, SampleMapper, SlewedOffset, events_to_samples, measure_anchor


def test_events_become_one_sample_each() -> None:
    s = events_to_samples(np.array([3, 0, 7], dtype=np.uint32), None)
    assert s.dtype == np.int32 and s.shape == (3, 1) and s[:, 0].tolist() == [3, 0, 7]
    w = events_to_samples(np.array([1, 2], dtype=np.uint32), np.array([0.5, -2.0], dtype=np.float32))
    assert w.dtype == np.float64 and w.tolist() == [[1.0, 0.5], [2.0, -2.0]]


def test_numeric_samples_map_to_events_and_bad_ones_are_counted() -> None:
    m = SampleMapper(2, False, channels=4)
    ch, v, ok = m.map(np.array([[0, 1.5], [3, 2.0], [4, 1.0], [1.5, 1.0], [2, np.nan], [np.inf, 0], [-1, 0]]))
    assert ok.tolist() == [True, True, False, False, False, False, False]
    assert ch[ok].tolist() == [0, 3] and v is not None and v[ok].tolist() == [1.5, 2.0]
    assert m.unmapped.counts == {"channel-out-of-range": 2, "non-integer-channel": 2, "non-finite-value": 1}
    assert m.kind == "weighted" and SampleMapper(1, False, 4).kind == "spike"
    with pytest.raises(ValueError):
        SampleMapper(3, False, 4)


def test_markers_map_integers_and_names() -> None:
    m = SampleMapper(1, True, channels=4)
    ch, v, ok = m.map([["2"], ["go"], [b"stop"], ["go"], ["0"], ["late"], ["x"]])
    # Names take the lowest ids no marker used yet (2 is taken by the integer marker "2"); the integer
    # marker "0" names the id "go" holds: counted, not mapped; "x" gets 4, beyond the port's 4 channels.
    assert v is None
    assert m.markers == {"go": 0, "stop": 1, "late": 3, "x": 4}
    assert ok.tolist() == [True, True, True, True, False, True, False]
    assert ch[ok].tolist() == [2, 0, 1, 0, 3]
    assert m.unmapped.counts == {"marker-conflict": 1, "channel-out-of-range": 1}


def test_anchor_maps_both_ways_to_the_microsecond() -> None:
    a = ClockAnchor(us=1_796_000_000_123_456, lsl=12_345.678901, spread_us=0.3)
    us = np.array([a.us, a.us + 1, a.us + 2_000_000_007], dtype=np.int64)
    assert a.to_us(a.to_lsl(us)).tolist() == us.tolist()
    b = measure_anchor(time.time_ns, time.monotonic)
    assert b.spread_us < 1000
    # Both readings are of one instant: now on both clocks agree through the anchor to well under a ms.
    assert abs(int(b.to_us(np.array([time.monotonic()]))[0]) - time.time_ns() // 1000) < 2000


def test_slewed_offset_holds_within_tolerance_slews_beyond_and_steps_on_jumps() -> None:
    s = SlewedOffset(max_slew_ppm=50, step_us=5000)
    assert s.update(100.0, 10.0, 0) == 100.0
    assert s.update(108.0, 10.0, 1_000_000) == 100.0          # within the tolerance: held
    # 40 µs away with a 10 µs tolerance: moves 30 µs at most, and at 50 ppm of 0.2 s = 10 µs
    assert s.update(140.0, 10.0, 1_200_000) == pytest.approx(110.0)
    assert s.update(140.0, 10.0, 2_200_000) == pytest.approx(130.0)
    assert s.max_lag_us == pytest.approx(30.0)
    assert s.update(10_000.0, 10.0, 2_300_000) == 10_000.0    # a jump: stepped and counted
    assert s.steps == 1


def test_stream_queries_and_the_loopback_config() -> None:
    assert predicate("name=MyMarkers") == "name='MyMarkers'"
    assert predicate("source_id=12D3Koo/spikes") == "source_id='12D3Koo/spikes'"
    assert predicate("name='a b' and type='Markers'") == "name='a b' and type='Markers'"
    with pytest.raises(SpikewireError):
        predicate("  ")
    cfg = loopback_config("s1")
    assert "ResolveScope = machine" in cfg and "SessionID = s1" in cfg and "KnownPeers = {127.0.0.1}" in cfg
    with pytest.raises(ValueError):
        loopback_config("a\n[x]")
