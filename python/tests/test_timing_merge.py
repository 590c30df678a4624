"""Watermark merge (spec §9.2.6, §12.3): deterministic, with an injected clock."""
from __future__ import annotations

import numpy as np
import pytest

from spikewire.clock.estimator import ClockEstimator
from spikewire.timing.localclock import ManualClock
from spikewire.timing.merge import MergeRelease, WatermarkMerge, map_remote

T0 = 1_767_225_600_000_000


def arr(*ts: int) -> np.ndarray:
    return np.array([T0 + t for t in ts], dtype=np.int64)


def chans(n: int, c: int = 0) -> np.ndarray:
    return np.full(n, c, dtype=np.uint32)


class Sink:
    def __init__(self) -> None:
        self.releases: list[MergeRelease] = []

    def __call__(self, r: MergeRelease) -> None:
        self.releases.append(r)

    @property
    def times(self) -> list[int]:
        return [int(t) - T0 for r in self.releases for t in r.times]

    @property
    def inputs(self) -> list[int]:
        return [int(i) for r in self.releases for i in r.inputs]


def make(**kw: object) -> tuple[WatermarkMerge, Sink, ManualClock]:
    sink = Sink()
    clock = ManualClock(T0)
    return WatermarkMerge(sink, clock=clock, **kw), sink, clock  # type: ignore[arg-type]


def test_holds_until_every_input_has_passed() -> None:
    m, sink, _ = make()
    a, b = m.add_input("a"), m.add_input("b")
    m.push(a, chans(3), arr(10, 20, 30))
    assert sink.times == []  # b has said nothing: it could still send anything
    m.watermark(b, T0 + 15)
    assert sink.times == [10]
    m.push(b, chans(2, 1), arr(16, 25))
    assert sink.times == [10, 16, 20, 25]  # a's frontier is 30; b's (25) holds a's 30
    m.watermark(a, T0 + 40)
    assert sink.times == [10, 16, 20, 25]
    m.close_input(b)
    assert sink.times == [10, 16, 20, 25, 30]
    assert sink.inputs == [0, 1, 0, 1, 0]
    st = m.stats()
    assert st["received"] == 5 and st["released"] == 5 and st["late"] == 0 and st["queued"] == 0


def test_equal_times_ordered_by_input_rank() -> None:
    m, sink, _ = make()
    a, b = m.add_input(), m.add_input()
    m.push(b, chans(1, 7), arr(10))
    m.watermark(a, T0 + 10)  # a may still send an event at 10, which ranks before b's
    assert sink.times == []
    m.push(a, chans(1, 3), arr(10))
    # a's frontier is 10 and it ranks first: its event at 10 goes; b's waits until a passes 10.
    assert sink.times == [10] and sink.inputs == [0]
    m.watermark(a, T0 + 11)
    assert sink.times == [10, 10] and sink.inputs == [0, 1]


def test_release_order_is_time_input_arrival() -> None:
    m, sink, _ = make()
    ins = [m.add_input() for _ in range(3)]
    rng = np.random.default_rng(5)
    expected = []
    for i in ins:
        ts = np.sort(rng.integers(0, 1000, size=50))
        expected += [(int(t), i) for t in ts]
        m.push(i, chans(50, i), T0 + ts)
    for i in ins:
        m.close_input(i)
    got = list(zip(sink.times, sink.inputs))
    assert got == sorted(expected)  # Python's sort is stable: arrival order within (time, input)
    assert len(got) == 150


def test_silent_input_stalls_then_rejoins_late() -> None:
    m, sink, clock = make(stall_after_us=500_000)
    a, b = m.add_input(), m.add_input()
    m.push(a, chans(2), arr(10, 20))
    clock.advance(499_999)
    m.poll()
    assert sink.times == []
    # Only a keeps speaking; b stays silent past the bound and stops holding a back.
    m.watermark(a, T0 + 30)
    clock.advance(1)
    m.poll()
    assert sink.times == [10, 20]
    assert m.stats()["inputs"][b].stalled and m.stats()["stalls"] == 1
    m.push(a, chans(1), arr(40))
    assert sink.times == [10, 20, 40]
    # b speaks again: its event older than what was released is late, delivered at once and flagged.
    m.push(b, chans(2, 1), arr(35, 50))
    assert sink.releases[-1].late and sink.times[-1] == 35
    st = m.stats()
    assert st["late"] == 1 and st["late_dropped"] == 0
    assert not st["inputs"][b].stalled
    m.watermark(a, T0 + 60)
    assert sink.times[-1] == 50


def test_next_poll_and_all_stalled_release() -> None:
    m, sink, clock = make(stall_after_us=1000)
    a = m.add_input()
    m.add_input()
    assert m.next_poll_us() == T0 + 1000
    m.push(a, chans(1), arr(5))
    clock.advance(1000)
    m.poll()  # both silent for 1 ms: nobody holds anybody back
    assert sink.times == [5]
    assert m.next_poll_us() is None


def test_late_policy_drop_counts() -> None:
    m, sink, _ = make(late_policy="drop")
    a, b = m.add_input(), m.add_input()
    m.push(a, chans(1), arr(100))
    m.close_input(a)
    m.watermark(b, T0 + 200)
    m.push(b, chans(2), arr(50, 300))  # 50 is older than 100 (released): dropped, counted
    m.close_input(b)
    assert sink.times == [100, 300]
    st = m.stats()
    assert st["late"] == 1 and st["late_dropped"] == 1 and st["released"] == 2


def test_overflow_counted() -> None:
    m, sink, _ = make(max_queue=3)
    a = m.add_input()
    m.add_input()
    m.push(a, chans(5), arr(1, 2, 3, 4, 5))
    st = m.stats()
    assert st["overflow"] == 2 and st["queued"] == 3
    m.flush()
    assert sink.times == [1, 2, 3]


def test_weighted_values_and_mixed_inputs() -> None:
    m, sink, _ = make()
    a, b = m.add_input(), m.add_input()
    m.push(a, chans(2), arr(1, 3), np.array([0.5, 1.5], dtype=np.float32))
    m.push(b, chans(1, 2), arr(2))
    with pytest.raises(ValueError):
        m.push(a, chans(1), arr(4))  # an input is either weighted or spike
    m.flush()
    vals = np.concatenate([r.values for r in sink.releases])  # type: ignore[misc]
    assert sink.times == [1, 2, 3]
    assert vals[0] == 0.5 and np.isnan(vals[1]) and vals[2] == 1.5


def test_out_of_order_within_input_sorted() -> None:
    m, sink, _ = make()
    a = m.add_input()
    m.push(a, chans(3), arr(30, 10, 20))  # a single input holds nobody back: released at once, sorted
    assert sink.times == [10, 20, 30]


def test_errors() -> None:
    m, _, _ = make()
    with pytest.raises(KeyError):
        m.push(3, chans(1), arr(1))
    a = m.add_input()
    m.close_input(a)
    with pytest.raises(RuntimeError):
        m.watermark(a, T0)
    with pytest.raises(ValueError):
        WatermarkMerge(lambda r: None, stall_after_us=0)
    with pytest.raises(ValueError):
        WatermarkMerge(lambda r: None, late_policy="keep")


def test_map_remote_through_estimator() -> None:
    est = ClockEstimator()
    # The peer runs 2.5 ms ahead (spec §9.3.2 example).
    est.add_sample(T0, T0 + 2650, T0 + 2690, T0 + 340)
    mapped = map_remote(np.array([T0 + 10_000], dtype=np.int64), est.estimate())
    assert mapped.dtype == np.int64 and int(mapped[0]) == T0 + 7500
    assert int(map_remote(arr(5), None)[0]) == T0 + 5


def test_clock_may_be_a_function() -> None:
    now = [T0]
    sink = Sink()
    m = WatermarkMerge(sink, clock=lambda: now[0], stall_after_us=100)
    a = m.add_input()
    m.add_input()
    m.push(a, chans(1), arr(1))
    now[0] += 100
    m.poll()
    assert sink.times == [1]


def test_local_clocks() -> None:
    from spikewire.timing.localclock import ManualClock, MonotonicClock, as_clock
    c = MonotonicClock()
    a = c.now_us()
    b = c()
    assert b >= a and abs(a - time_us()) < 1_000_000
    mc = ManualClock(5)
    assert as_clock(mc) is mc and mc() == 5
    with pytest.raises(ValueError):
        mc.set(4)
    with pytest.raises(TypeError):
        as_clock(3)  # type: ignore[arg-type]


def time_us() -> int:
    import time
    return time.time_ns() // 1000


@pytest.mark.parametrize("seed", range(20))
def test_random_honest_streams_merge_in_order(seed: int) -> None:
    """Random streams, random arrival interleaving, honest watermarks: every event comes out exactly once,
    in (time, input, arrival) order, none late, and nothing is held once every stream is closed."""
    rng = np.random.default_rng(seed)
    m, sink, _ = make()
    k = int(rng.integers(2, 7))
    ins = [m.add_input() for _ in range(k)]
    plans = []  # per input: a list of actions in stream order
    expected = []
    for i in ins:
        t = 0
        acts: list[tuple[str, np.ndarray | int]] = []
        for _ in range(int(rng.integers(1, 15))):
            if rng.random() < 0.3:
                acts.append(("wm", t + int(rng.integers(0, 5))))  # a promise: later events ≥ it
                t = max(t, acts[-1][1])  # type: ignore[arg-type]
            else:
                ts = t + np.cumsum(rng.integers(0, 4, size=int(rng.integers(1, 6))))
                acts.append(("ev", ts))
                expected += [(int(x), i) for x in ts]
                t = int(ts[-1])
        plans.append(acts)
    pos = [0] * k
    while any(pos[i] < len(plans[i]) for i in range(k)):
        i = int(rng.choice([j for j in range(k) if pos[j] < len(plans[j])]))
        kind, v = plans[i][pos[i]]
        pos[i] += 1
        if kind == "wm":
            m.watermark(ins[i], T0 + int(v))  # type: ignore[arg-type]
        else:
            m.push(ins[i], chans(len(v), i), T0 + v)  # type: ignore[arg-type]
        if pos[i] == len(plans[i]) and rng.random() < 0.5:
            m.close_input(ins[i])
    for i in ins:
        if not m.stats()["inputs"][i].closed:
            m.close_input(i)
    assert list(zip(sink.times, sink.inputs)) == sorted(expected)
    st = m.stats()
    assert st["late"] == 0 and st["queued"] == 0 and st["released"] == len(expected)
    assert not any(r.late for r in sink.releases)


def test_keep_polling_releases_after_a_stall_in_trio() -> None:
    import trio

    from spikewire.timing.merge import keep_polling

    async def main() -> list[int]:
        sink = Sink()
        m = WatermarkMerge(sink, stall_after_us=50_000)  # the real clock
        a = m.add_input()
        m.add_input()  # silent: stalls after 50 ms
        now = m.clock.now_us()
        m.push(a, chans(2), np.array([now, now + 1], dtype=np.int64))
        assert sink.releases == []
        async with trio.open_nursery() as n:
            n.start_soon(keep_polling, m)
            with trio.move_on_after(20):
                while not sink.releases:
                    await trio.sleep(0.01)
            n.cancel_scope.cancel()
        assert m.stats()["inputs"][1].stalls == 1  # the silent input stalled, which freed a's events
        return [int(t) - now for r in sink.releases for t in r.times]

    assert trio.run(main) == [0, 1]
