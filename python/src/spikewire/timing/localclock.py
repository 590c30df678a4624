"""The local clock: integer µs since the Unix epoch that never go back and resolve 1 µs (§6.1, §9.3.3).

``MonotonicClock`` reads ``time.perf_counter_ns`` anchored once to ``time.time_ns``: a step of the system
clock after the anchor does not move it, so the times a node stamps, the t1 and t4 of its clock client and
the deadlines of its playout all come from one clock that cannot run backwards. ``ManualClock`` is the
injected clock of deterministic tests.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

__all__ = ["Clock", "MonotonicClock", "ManualClock", "as_clock"]


class Clock:
    """Anything with ``now_us() -> int``; calling a Clock reads it too (``clock()``), so a Clock can be
    passed where a function returning µs is expected."""

    def now_us(self) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def __call__(self) -> int:
        return self.now_us()


class MonotonicClock(Clock):
    def __init__(self) -> None:
        self._mono0 = time.perf_counter_ns()
        self._epoch0_ns = time.time_ns()

    def now_us(self) -> int:
        # Rounded to the nearest µs, not truncated (§9.3.3: truncation biases θ by half a µs).
        return (self._epoch0_ns + (time.perf_counter_ns() - self._mono0) + 500) // 1000

    def now_ns(self) -> int:
        return self._epoch0_ns + (time.perf_counter_ns() - self._mono0)

    def to_perf_ns(self, local_us: int) -> int:
        """The perf_counter_ns reading at which this clock shows ``local_us``."""
        return self._mono0 + local_us * 1000 - self._epoch0_ns


class ManualClock(Clock):
    """A clock that moves only when told to (thread-safe)."""

    def __init__(self, start_us: int = 1_767_225_600_000_000) -> None:
        self._now = int(start_us)
        self._lock = threading.Lock()

    def now_us(self) -> int:
        with self._lock:
            return self._now

    def set(self, now_us: int) -> None:
        with self._lock:
            if now_us < self._now:
                raise ValueError("a clock never goes back")
            self._now = int(now_us)

    def advance(self, us: int) -> int:
        with self._lock:
            if us < 0:
                raise ValueError("a clock never goes back")
            self._now += int(us)
            return self._now


class _CallableClock(Clock):
    def __init__(self, fn: Callable[[], int]) -> None:
        self._fn = fn

    def now_us(self) -> int:
        return int(self._fn())


def as_clock(clock: "Clock | Callable[[], int] | None") -> Clock:
    """A Clock from a Clock, a function returning µs (as ``spikewire.protocols.clock.now_us``), or None
    (a new MonotonicClock). Playout and merge must run on the clock the estimate's t1 and t4 came from."""
    if clock is None:
        return MonotonicClock()
    if isinstance(clock, Clock):
        return clock
    if callable(clock):
        return _CallableClock(clock)
    raise TypeError(f"not a clock: {clock!r}")
