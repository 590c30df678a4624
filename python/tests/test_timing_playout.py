"""Playout at mapped time + D (spec §9.2.8): the buffer with an injected clock, and the real thread."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from spikewire.clock.estimator import ClockEstimator
from spikewire.timing.localclock import ManualClock, MonotonicClock
from spikewire.timing.playout import PlayoutBuffer, PlayoutDelivery, PlayoutThread

T0 = 1_767_225_600_000_000


def arr(*ts: int) -> np.ndarray:
    return np.array([T0 + t for t in ts], dtype=np.int64)


def ch(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.uint32)


def test_delivers_at_mapped_time_plus_delay() -> None:
    est = ClockEstimator()
    est.add_sample(T0, T0 + 2650, T0 + 2690, T0 + 340)  # peer 2.5 ms ahead (§9.3.2)
    buf = PlayoutBuffer(10_000)
    # Peer times 10_000 and 12_000 map to local 7_500 and 9_500; due at 17_500 and 19_500.
    assert buf.push(ch(2), arr(10_000, 12_000), now_us=T0 + 1000, mapper=est.estimate()) == 0
    assert buf.next_due() == T0 + 17_500
    assert buf.pop_due(T0 + 17_499) is None
    d = buf.pop_due(T0 + 17_500)
    assert d is not None and len(d) == 1
    assert int(d.times[0]) == T0 + 10_000 and int(d.local_times[0]) == T0 + 7_500
    assert int(d.due_us[0]) == T0 + 17_500 and not d.late[0] and d.at_us == T0 + 17_500
    d = buf.pop_due(T0 + 30_000)
    assert d is not None and int(d.due_us[0]) == T0 + 19_500
    assert buf.counts() == {"received": 2, "delivered": 2, "late": 0, "late_dropped": 0, "overflow": 0, "queued": 0}


def test_overtaken_events_put_back_in_order() -> None:
    buf = PlayoutBuffer(1000)
    buf.push(ch(2), arr(30, 40), now_us=T0)
    buf.push(ch(2), arr(10, 20), now_us=T0)  # arrived later, belongs earlier
    d = buf.pop_due(T0 + 5000)
    assert d is not None and [int(t) - T0 for t in d.times] == [10, 20, 30, 40]


def test_late_arrivals_delivered_flagged_and_counted() -> None:
    buf = PlayoutBuffer(1000)
    buf.push(ch(1), arr(0), now_us=T0)
    d = buf.pop_due(T0 + 1000)
    assert d is not None and not d.late.any()
    # Arrives at T0 + 5000 for a slot at T0 + 1500: late, goes out at once, flagged.
    assert buf.push(ch(2), arr(500, 9000), now_us=T0 + 5000) == 1
    assert buf.next_due() == T0 + 1500
    d = buf.pop_due(T0 + 5000)
    assert d is not None and d.late.tolist() == [True]
    # Earlier than an event already delivered, even if its slot is still ahead of now: late too.
    buf2 = PlayoutBuffer(1000)
    buf2.push(ch(1), arr(100), now_us=T0)
    buf2.pop_due(T0 + 1100)
    assert buf2.push(ch(1), arr(50), now_us=T0 + 1100) == 1
    assert buf.counts()["late"] == 1 and buf2.counts()["late"] == 1


def test_late_policy_drop_and_overflow_counted() -> None:
    buf = PlayoutBuffer(0, late_policy="drop", max_queue=2)
    assert buf.push(ch(1), arr(0), now_us=T0 + 10) == 1
    buf.push(ch(3), arr(20, 30, 40), now_us=T0)
    c = buf.counts()
    assert c == {"received": 4, "delivered": 0, "late": 1, "late_dropped": 1, "overflow": 1, "queued": 2}


def test_delay_validated() -> None:
    for bad in (-1, 2**32, 1.5):
        with pytest.raises(ValueError):
            PlayoutBuffer(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PlayoutBuffer(0, late_policy="later")


def test_thread_with_manual_clock_delivers_in_order() -> None:
    clock = ManualClock(T0)
    got: list[PlayoutDelivery] = []
    done = threading.Event()

    def cb(d: PlayoutDelivery) -> None:
        got.append(d)
        if sum(len(x) for x in got) == 4:
            done.set()

    with PlayoutThread(cb, 1000, clock=clock, spin_us=0) as p:
        p.push(ch(2), arr(300, 100))
        p.push(ch(2), arr(200, 400))
        time.sleep(0.05)
        assert got == []  # nothing due yet on the injected clock
        clock.advance(1250)  # 100 and 200 due
        deadline = time.monotonic() + 20
        while sum(len(x) for x in got) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert [int(t) - T0 for x in got for t in x.times] == [100, 200]
        clock.advance(10_000)
        assert done.wait(20)
    assert [int(t) - T0 for x in got for t in x.times] == [100, 200, 300, 400]
    st = p.stats()
    assert st["delivered"] == 4 and st["late"] == 0 and st["abandoned"] == 0
    assert st["lateness_count"] == 4 and st["lateness_p50_us"] >= 0


def test_real_thread_order_and_counts() -> None:
    """Real clock: 200 events over ~0.2 s, pushed in shuffled batches; all delivered, in order."""
    clock = MonotonicClock()
    got: list[int] = []
    lock = threading.Lock()

    def cb(d: PlayoutDelivery) -> None:
        with lock:
            got.extend(int(t) for t in d.times)

    rng = np.random.default_rng(11)
    start = clock.now_us() + 50_000
    times = start + np.arange(200, dtype=np.int64) * 1000
    batches = np.array_split(times, 20)
    order = rng.permutation(len(batches))
    p = PlayoutThread(cb, 100_000, clock=clock)
    with p:
        for i in order:
            p.push(np.zeros(len(batches[i]), dtype=np.uint32), batches[i])
        st = p.stop(drain=True, timeout=20)
    assert got == sorted(got) and len(got) == 200
    assert st["delivered"] == 200 and st["late"] == 0 and st["abandoned"] == 0 and st["callback_errors"] == 0
    assert st["lateness_count"] == 200


def test_real_thread_late_events_and_callback_errors_counted() -> None:
    clock = MonotonicClock()
    calls = []

    def cb(d: PlayoutDelivery) -> None:
        calls.append(d)
        raise RuntimeError("callback failure must not stop the thread")

    p = PlayoutThread(cb, 0, clock=clock)
    with p:
        now = clock.now_us()
        assert p.push(np.zeros(3, dtype=np.uint32), np.array([now - 5000, now - 4000, now - 3000])) == 3
        p.push(np.zeros(1, dtype=np.uint32), np.array([now + 20_000]))
        st = p.stop(drain=True, timeout=20)
    assert st["delivered"] == 4 and st["late"] == 3 and st["callback_errors"] == len(calls) >= 2
    assert any(d.late.all() for d in calls)


def test_stop_counts_abandoned() -> None:
    p = PlayoutThread(lambda d: None, 60_000_000)
    with p:
        p.push(np.zeros(5, dtype=np.uint32), np.full(5, p.clock.now_us(), dtype=np.int64))
    st = p.stats()
    assert st["abandoned"] == 5 and st["delivered"] == 0
    with pytest.raises(RuntimeError):
        p.push(np.zeros(1, dtype=np.uint32), np.zeros(1, dtype=np.int64))


def test_switch_interval_set_and_restored() -> None:
    import sys
    before = sys.getswitchinterval()
    p = PlayoutThread(lambda d: None, 0, switch_interval_s=0.0005)
    with p:
        assert sys.getswitchinterval() == pytest.approx(0.0005)
    assert sys.getswitchinterval() == before
    with pytest.raises(ValueError):
        PlayoutThread(lambda d: None, 0, switch_interval_s=0)


@pytest.mark.parametrize("seed", range(20))
def test_random_pushes_every_event_accounted(seed: int) -> None:
    """Random batches arriving at random times on an injected clock: every event is delivered once (or
    counted as dropped), on-time deliveries come at or after their due time and in due order, and an
    event is flagged late exactly when its slot had passed or it fell behind one already delivered."""
    rng = np.random.default_rng(seed)
    policy = "deliver" if seed % 2 else "drop"
    buf = PlayoutBuffer(int(rng.integers(0, 5000)), late_policy=policy)
    now = T0
    sent = 0
    delivered: list[PlayoutDelivery] = []
    last_due = None
    expect_late = 0
    for _ in range(60):
        now += int(rng.integers(0, 3000))
        if rng.random() < 0.6:
            base = now + int(rng.integers(-8000, 8000))
            ts = base + np.sort(rng.integers(0, 2000, size=int(rng.integers(1, 8))))
            due = ts + buf.delay_us
            expect_late += int(((due < now) | ((due < last_due) if last_due is not None else False)).sum())
            assert buf.push(ch(len(ts)), ts.astype(np.int64), now_us=now) >= 0
            sent += len(ts)
        d = buf.pop_due(now)
        if d is not None:
            assert np.all(d.due_us[~d.late] <= now)
            last_due = int(d.due_us.max()) if last_due is None else max(last_due, int(d.due_us.max()))
            delivered.append(d)
    d = buf.pop_due(now + 10**9)
    if d is not None:
        delivered.append(d)
    c = buf.counts()
    got = sum(len(x) for x in delivered)
    assert c["late"] == expect_late
    assert got + c["late_dropped"] == sent == c["received"] and c["queued"] == 0
    on_time = np.concatenate([x.due_us[~x.late] for x in delivered]) if delivered else np.array([])
    assert np.all(np.diff(on_time) >= 0)
    flagged = sum(int(x.late.sum()) for x in delivered)
    assert flagged == (c["late"] if policy == "deliver" else 0)
