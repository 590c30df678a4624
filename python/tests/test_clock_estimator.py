"""Unit tests of the §9.3.3 estimator beyond the vectors: synthetic paths with a known offset and drift."""
from __future__ import annotations

import math

import numpy as np
import pytest

from spikewire.clock.estimator import (
    ClockEstimator,
    ClockFaultError,
    ClockRequests,
    student_t99,
)

T0 = 1_767_225_600_000_000


def probe(rng: np.random.Generator, t1: int, offset0: float, drift: float, out_us: float, back_us: float,
          jitter_us: float, server_us: int = 20) -> tuple[int, int, int, int]:
    """One exchange on a simulated path: the server's clock is local + offset0 + drift·(local − T0)."""
    a = out_us + rng.exponential(jitter_us)
    b = back_us + rng.exponential(jitter_us)
    def server(local: float) -> int:
        return round(local + offset0 + drift * (local - T0))
    t2 = server(t1 + a)
    t3 = server(t1 + a + server_us)
    t4 = round(t1 + a + server_us + b)
    return t1, t2, t3, t4


def run_path(seed: int, offset0: float, drift: float, bursts: int, period_us: int = 250_000,
             per_burst: int = 8, jitter_us: float = 60.0, est: ClockEstimator | None = None,
             start: int = T0) -> tuple[ClockEstimator, int]:
    rng = np.random.default_rng(seed)
    est = est or ClockEstimator()
    t = start
    first = est.bursts_total
    for b in range(first, first + bursts):
        for i in range(per_burst):
            est.add_sample(*probe(rng, t + i * 5000, offset0, drift, 150, 150, jitter_us), burst=b)
        est.end_burst()
        t += period_us
    return est, t


def truth(offset0: float, drift: float, local: float) -> float:
    return offset0 + drift * (local - T0)


def test_no_estimate_before_first_representative() -> None:
    est = ClockEstimator()
    assert est.estimate() is None
    assert math.isinf(est.uncertainty_min_us)
    with pytest.raises(LookupError):
        est.to_local(T0)
    # A burst of discarded samples only leaves no estimate either.
    est.add_sample(T0, T0 + 100, T0 + 200, T0 + 50, burst=0)  # δ = −50
    est.end_burst()
    assert est.estimate() is None and est.filtered == []


def test_t3_before_t2_raises_invalid_message() -> None:
    est = ClockEstimator()
    with pytest.raises(ClockFaultError) as info:
        est.add_sample(T0, T0 + 10, T0 + 9, T0 + 100)
    assert info.value.code == "invalid-message" and info.value.fault == "t3-before-t2"


def test_timestamps_validated() -> None:
    est = ClockEstimator()
    for bad in (-1, 2**53, float("nan"), True, "1"):
        with pytest.raises(ValueError):
            est.add_sample(bad, T0, T0, T0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        est.add_sample(T0, T0 + 0.5, T0 + 1, T0 + 2)  # type: ignore[arg-type]  # t2 from the wire: an int


def test_fractional_client_timestamps() -> None:
    est = ClockEstimator()
    s = est.add_sample(T0 + 0.25, T0 + 2650, T0 + 2690, T0 + 340.75)
    assert s.offset_us == 2499.5 and s.delay_us == 300.5
    e = est.estimate()
    assert e is not None and e.offset_us == 2499.5 and e.uncertainty_us >= 150.25


def test_epsilon_boundary() -> None:
    est = ClockEstimator(negative_delay_tolerance_us=5)
    assert est.add_sample(T0, T0 + 100, T0 + 105, T0).fault is None  # δ = −5 kept
    assert est.add_sample(T0, T0 + 100, T0 + 106, T0).fault == "negative-delay"  # δ = −6


def test_student_t_table() -> None:
    assert student_t99(1) == pytest.approx(63.66, abs=0.01)
    assert student_t99(2) == pytest.approx(9.92, abs=0.01)
    assert student_t99(30) == pytest.approx(2.75, abs=0.001)
    assert student_t99(31) == 2.58
    with pytest.raises(ValueError):
        student_t99(0)


def test_drift_followed_and_extrapolated() -> None:
    offset0, drift = 1_500_000.0, 100e-6
    est, t_end = run_path(1, offset0, drift, bursts=40)
    at = t_end + 1_000_000  # 1 s past the last burst
    e = est.estimate(at)
    assert e is not None and e.converged
    assert abs(e.drift_ppm - 100) < 2
    err = abs(e.offset_us - truth(offset0, drift, at))
    assert err <= e.uncertainty_us
    assert e.uncertainty_us >= e.delay_min_us / 2
    # u grows outside the span of the representatives.
    assert e.uncertainty_at(at + 10_000_000) > e.uncertainty_us


def test_window_bounded_to_32_bursts() -> None:
    est, _ = run_path(2, 0.0, 0.0, bursts=50)
    e = est.estimate()
    assert e is not None and e.samples_used <= 32 and e.bursts == 50
    assert len(est.filtered) == 50


def test_mapping_scalar_and_arrays() -> None:
    offset0, drift = -800_000.0, -50e-6
    est, t_end = run_path(3, offset0, drift, bursts=24)
    e = est.estimate(t_end)
    assert e is not None
    local = np.array([t_end, t_end + 1000, t_end + 2_000_000], dtype=np.int64)
    remote = np.round(e.to_remote(local)).astype(np.int64)
    back = e.to_local(remote)
    assert back.dtype == np.float64
    assert np.all(np.abs(back - local) <= 1.0)
    # t = T − θ̂(t) holds for the scalar mapping too.
    T = int(remote[1])
    t = e.to_local(T)
    assert abs(t - (T - e.offset_at(t))) < 0.5
    assert abs(est.to_local(T) - t) < 0.5 and abs(est.to_remote(t) - T) < 0.5
    # A remote time maps within u of the truth's mapping.
    true_t = (T - offset0 + drift * T0) / (1 + drift)
    assert abs(t - true_t) <= e.uncertainty_at(t)


def test_clock_step_replaces_window_after_three_bursts() -> None:
    est, t = run_path(4, 10_000.0, 0.0, bursts=12)
    before = est.estimate()
    assert before is not None and abs(before.offset_us - 10_000) < 50
    # The server's clock steps by +50 ms: one or two inconsistent bursts are set aside ...
    est, t = run_path(5, 60_000.0, 0.0, bursts=2, est=est, start=t)
    mid = est.estimate()
    assert mid is not None and abs(mid.offset_us - 10_000) < 50 and est.steps == 0
    # ... the third replaces the window.
    est, t = run_path(6, 60_000.0, 0.0, bursts=1, est=est, start=t)
    after = est.estimate()
    assert est.steps == 1
    assert after is not None and abs(after.offset_us - 60_000) < 50


def test_single_glitch_burst_is_discarded() -> None:
    est, t = run_path(7, 0.0, 0.0, bursts=10)
    est, t = run_path(8, 5_000.0, 0.0, bursts=1, est=est, start=t)
    est, t = run_path(9, 0.0, 0.0, bursts=1, est=est, start=t)
    assert est.bursts_set_aside == 1 and est.bursts_discarded == 1
    e = est.estimate()
    assert e is not None and abs(e.offset_us) < 50


def test_coverage_at_least_99_percent() -> None:
    """The reference aims at u covering the true error in ≥ 99 % of estimates (§9.3.3); check it on
    200 seeded paths with random offset and drift, each judged at a random time up to 8 s ahead."""
    rng = np.random.default_rng(1234)
    covered = 0
    runs = 200
    for i in range(runs):
        offset0 = float(rng.uniform(-2e6, 2e6))
        drift = float(rng.uniform(-100e-6, 100e-6))
        est, t_end = run_path(100 + i, offset0, drift, bursts=int(rng.integers(1, 20)),
                              jitter_us=float(rng.uniform(10, 300)), per_burst=int(rng.integers(1, 9)))
        at = t_end + int(rng.uniform(0, 8_000_000))
        e = est.estimate(at)
        assert e is not None and e.uncertainty_us >= est.uncertainty_min_us
        if abs(e.offset_us - truth(offset0, drift, at)) <= e.uncertainty_us:
            covered += 1
    assert covered / runs >= 0.99, covered


def test_requests_match_oldest_and_keep_given_up() -> None:
    reqs = ClockRequests()
    with pytest.raises(ClockFaultError) as info:
        reqs.match(0, T0)
    assert info.value.code == "unexpected-message"
    a, b = reqs.next_id(), reqs.next_id()
    reqs.sent(a, T0, burst=0)
    reqs.sent(b, T0 + 5000, burst=0)
    with pytest.raises(ValueError):
        reqs.sent(a, T0 + 9000)
    assert reqs.give_up_older_than(T0 + 1) == 1
    m = reqs.match(a, T0)
    assert m.given_up and m.id == a  # matched in order, then not a sample
    m = reqs.match(b, T0 + 5000)
    assert not m.given_up and m.burst == 0
    assert len(reqs) == 0


def test_request_ids_wrap_modulo_2_32() -> None:
    reqs = ClockRequests()
    reqs._next_id = 2**32 - 1
    assert reqs.next_id() == 2**32 - 1
    assert reqs.next_id() == 0
    with pytest.raises(ValueError):
        reqs.sent(2**32, T0)


def test_update_returns_estimate_at_receive_time() -> None:
    est = ClockEstimator()
    e = est.update(T0, T0 + 2650, T0 + 2690, T0 + 340)
    assert e is not None and e.offset_us == 2500 and e.at_local_us == T0 + 340
    assert e.rtt_us == 300 and e.samples_used == 1 and e.uncertainty_us >= 150
    # Within a burst the sample waits for the burst's end.
    est2 = ClockEstimator()
    assert est2.update(T0, T0 + 2650, T0 + 2690, T0 + 340, burst=0) is None
    est2.end_burst()
    assert est2.estimate() is not None


def test_sample_of_an_ended_burst_refused() -> None:
    est = ClockEstimator()
    est.add_sample(T0, T0 + 2650, T0 + 2690, T0 + 340, burst=3)
    est.end_burst()
    with pytest.raises(ValueError):
        est.add_sample(T0 + 10, T0 + 2660, T0 + 2700, T0 + 350, burst=3)
    est.add_sample(T0 + 10, T0 + 2660, T0 + 2700, T0 + 350, burst=4)  # the next burst is fine
    assert est.filtered == [0]
