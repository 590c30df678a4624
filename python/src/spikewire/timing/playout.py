"""Playout at mapped time + D (spec §6.3, §9.2.8; implementer's guide step 5).

An event stamped T in its sender's clock is mapped to the local clock through the clock estimate of that
sender (t = T − θ̂(t), §9.3.3 Mapping) and delivered at t + D, so that the intervals between events survive
network jitter: when D is at least the one-way latency plus the sender's batching delay plus the estimate's
uncertainty, every event arrives before its delivery time and is delivered on time.

- ``PlayoutBuffer`` is the sans-IO core: events in, deliveries out for a given ``now``; deterministic.
- ``PlayoutThread`` runs a buffer on a dedicated thread that does nothing else: it sleeps until shortly
  before the next delivery time (``spin_us``, 0.5 ms by default) and busy-waits the rest, as the guide
  recommends, then hands the due events to a callback, in time order.

The delivery time of an event is fixed when it arrives. An event that arrives after its delivery time, or
whose delivery time is earlier than that of an event already delivered, is **late** (§9.2.8: not a protocol
error): with policy ``deliver`` it goes out at once, flagged; with ``drop`` it is discarded. Both are
counted, as is every event dropped at a full queue (overflow) and every event still queued when the thread
stops (abandoned): nothing is lost without a count. The thread measures each delivery's lateness (actual
minus due time) and exposes its percentiles.
"""
from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

from spikewire.timing.eventqueue import Columns, EventQueue, as_columns
from spikewire.timing.localclock import Clock, as_clock

__all__ = ["PlayoutBuffer", "PlayoutDelivery", "PlayoutThread", "LatenessStats"]

log = logging.getLogger("spikewire.timing.playout")

MAX_DELAY_US = 2**32 - 1  # the largest delay an open may carry (§8.3)
DEFAULT_MAX_QUEUE = 1 << 20
LATENESS_WINDOW = 1 << 16


@dataclass(frozen=True)
class PlayoutDelivery:
    """Events delivered together, in order of their delivery time."""

    channels: np.ndarray  # uint32
    times: np.ndarray  # int64: event times as received, sender's clock, µs
    local_times: np.ndarray  # int64: times mapped to the local clock, µs
    due_us: np.ndarray  # int64: delivery times, local_times + D
    values: np.ndarray | None  # float32, None on a spike stream
    late: np.ndarray  # bool: arrived after its delivery time, or out of order
    at_us: int  # the local time at which the delivery was made

    def __len__(self) -> int:
        return int(self.times.shape[0])


@dataclass(frozen=True)
class LatenessStats:
    """Lateness (actual minus due delivery time, µs) of the last deliveries measured."""

    count: int
    p50_us: float
    p99_us: float
    max_us: float


class PlayoutBuffer:
    """Events waiting for their delivery time, in order; sans-IO (``now_us`` is passed in)."""

    def __init__(self, delay_us: int, *, late_policy: str = "deliver", max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        if not (isinstance(delay_us, int) and 0 <= delay_us <= MAX_DELAY_US):
            raise ValueError(f"delay_us must be an integer in 0..2^32-1 (got {delay_us!r})")
        if late_policy not in ("deliver", "drop"):
            raise ValueError(f"late_policy must be 'deliver' or 'drop' (got {late_policy!r})")
        self.delay_us = delay_us
        self.late_policy = late_policy
        self._queue = EventQueue(max_queue)
        self._late = EventQueue(max_queue)
        self._last_due: int | None = None
        self.received = 0
        self.delivered = 0
        self.late = 0
        self.late_dropped = 0
        self.overflow = 0

    def __len__(self) -> int:
        return len(self._queue) + len(self._late)

    def push(self, channels: np.ndarray, times: np.ndarray, values: np.ndarray | None = None, *,
             now_us: int, mapper=None) -> int:  # type: ignore[no-untyped-def]
        """Schedule events stamped ``times`` (int64 µs, sender's clock) at mapped time + D.

        ``mapper`` has ``to_local(times) -> local times`` (an ``Estimate`` or ``ClockEstimator``); None
        means the sender's clock is the local clock. Returns the number of late events among them.
        """
        t = np.asarray(times, dtype=np.int64)
        if mapper is None:
            local = t
        else:
            local = np.rint(mapper.to_local(t)).astype(np.int64)
        due = local + self.delay_us
        cols = as_columns(channels, t, values, due)
        n = len(cols)
        self.received += n
        if n == 0:
            return 0
        # Late: its slot has passed (an event due exactly now is on time), or it would go out after an
        # event with a later delivery time.
        late_mask = cols.key < now_us
        if self._last_due is not None:
            late_mask |= cols.key < self._last_due
        n_late = int(late_mask.sum())
        if n_late:
            self.late += n_late
            late = cols.take(late_mask)
            cols = cols.take(~late_mask)
            if self.late_policy == "drop":
                self.late_dropped += n_late
            else:
                self._put(self._late, late)
            log.debug("%d late events (%s)", n_late, self.late_policy)
        if len(cols):
            self._put(self._queue, cols)
        return n_late

    def _put(self, q: EventQueue, cols: Columns) -> None:
        room = self._room()
        if room < len(cols):
            self.overflow += len(cols) - room
            log.debug("playout queue full: %d events dropped", len(cols) - room)
            cols = cols.take(slice(0, room))
        q.push(cols)

    def _room(self) -> int:
        return self._queue.max_events - len(self)

    def next_due(self) -> int | None:
        """The earliest delivery time waiting (late events: already due)."""
        a = self._late.first_key()
        b = self._queue.first_key()
        if a is None:
            return b
        return a if b is None else min(a, b)

    def pop_due(self, now_us: int) -> PlayoutDelivery | None:
        """Remove the events due at ``now_us`` (due ≤ now, and every late one), in delivery-time order."""
        late = self._late.pop_all()
        on_time = self._queue.pop_until(now_us, inclusive=True)
        if late is None and on_time is None:
            return None
        if late is None:
            assert on_time is not None
            cols = on_time
            flags = np.zeros(len(cols), dtype=np.bool_)
        elif on_time is None:
            cols = late
            flags = np.ones(len(cols), dtype=bool)
        else:
            merged = Columns.concat([late, on_time])
            order = np.argsort(merged.key, kind="stable")
            cols = merged.take(order)
            flags = np.concatenate([np.ones(len(late), bool), np.zeros(len(on_time), bool)])[order]
        assert cols is not None
        last = int(cols.key.max())
        self._last_due = last if self._last_due is None else max(self._last_due, last)
        self.delivered += len(cols)
        return PlayoutDelivery(cols.channels, cols.times, cols.key - self.delay_us, cols.key, cols.values,
                               flags, now_us)

    def pop_all(self) -> Columns | None:
        parts = [c for c in (self._late.pop_all(), self._queue.pop_all()) if c is not None]
        return Columns.concat(parts) if parts else None

    def counts(self) -> dict:
        return {"received": self.received, "delivered": self.delivered, "late": self.late,
                "late_dropped": self.late_dropped, "overflow": self.overflow, "queued": len(self)}


class PlayoutThread:
    """A PlayoutBuffer served by a dedicated real-time thread; deliveries go to ``callback`` in order.

    ``push`` may be called from any thread. Use as a context manager, or ``start()`` and ``stop()``.
    The callback runs on the playout thread; an exception in it is logged and counted, never fatal.

    In CPython the playout thread shares the interpreter lock with every other Python thread of the
    process (trio's network code among them): a thread that wakes for a delivery waits for the lock up to
    the interpreter's switch interval (5 ms by default). ``switch_interval_s`` (for example 0.0005) sets
    ``sys.setswitchinterval`` while the thread runs, trading some throughput of the other threads for
    punctual deliveries; it is process-wide, hence opt-in.
    """

    def __init__(
        self,
        callback: Callable[[PlayoutDelivery], None],
        delay_us: int,
        *,
        clock: Clock | Callable[[], int] | None = None,
        mapper=None,  # type: ignore[no-untyped-def]
        spin_us: int = 500,
        late_policy: str = "deliver",
        max_queue: int = DEFAULT_MAX_QUEUE,
        name: str = "spikewire-playout",
        switch_interval_s: float | None = None,
    ) -> None:
        if spin_us < 0:
            raise ValueError("spin_us must be >= 0")
        if switch_interval_s is not None and not switch_interval_s > 0:
            raise ValueError("switch_interval_s must be > 0")
        self._switch = switch_interval_s
        self._switch_before: float | None = None
        self._buf = PlayoutBuffer(delay_us, late_policy=late_policy, max_queue=max_queue)
        self._callback = callback
        self._clock = as_clock(clock)
        self._mapper = mapper
        self.spin_us = spin_us
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._lateness = np.zeros(LATENESS_WINDOW, dtype=np.int64)
        self._lat_n = 0  # lateness values recorded in total
        self.callback_errors = 0
        self.abandoned = 0
        self._started = False

    @property
    def clock(self) -> Clock:
        return self._clock

    def start(self) -> "PlayoutThread":
        if not self._started:
            self._started = True
            if self._switch is not None:
                self._switch_before = sys.getswitchinterval()
                sys.setswitchinterval(self._switch)
            self._thread.start()
        return self

    def __enter__(self) -> "PlayoutThread":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_mapper(self, mapper) -> None:  # type: ignore[no-untyped-def]
        """Use another estimate for events pushed from now on (delivery times already fixed stay)."""
        with self._cond:
            self._mapper = mapper

    def push(self, channels: np.ndarray, times: np.ndarray, values: np.ndarray | None = None,
             mapper=None) -> int:  # type: ignore[no-untyped-def]
        """Schedule events (sender's clock); returns how many were late on arrival."""
        with self._cond:
            if self._stop:
                raise RuntimeError("playout thread is stopped")
            n = self._buf.push(channels, times, values, now_us=self._clock.now_us(),
                               mapper=mapper if mapper is not None else self._mapper)
            self._cond.notify()
            return n

    def stop(self, drain: bool = False, timeout: float = 20.0) -> dict:
        """Stop the thread. With ``drain``, first wait (up to ``timeout`` s) until every queued event has
        been delivered. Events still queued are counted as abandoned. Returns ``stats()``."""
        if drain and self._started:
            with self._cond:
                self._cond.wait_for(lambda: len(self._buf) == 0 or not self._thread.is_alive(), timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._started:
            self._thread.join(timeout)
        if self._switch_before is not None and sys.getswitchinterval() == self._switch:
            sys.setswitchinterval(self._switch_before)
            self._switch_before = None
        with self._cond:
            left = self._buf.pop_all()
            if left is not None and len(left):
                self.abandoned += len(left)
                log.debug("playout stopped with %d events queued (abandoned)", len(left))
        return self.stats()

    def lateness(self) -> LatenessStats:
        """Percentiles of the lateness of the last deliveries (up to 65,536 events)."""
        with self._cond:
            n = min(self._lat_n, LATENESS_WINDOW)
            vals = self._lateness[:n].copy()
        if n == 0:
            return LatenessStats(0, float("nan"), float("nan"), float("nan"))
        p50, p99 = np.percentile(vals, [50, 99])
        return LatenessStats(self._lat_n, float(p50), float(p99), float(vals.max()))

    def stats(self) -> dict:
        with self._cond:
            c = self._buf.counts()
        lat = self.lateness()
        return {**c, "abandoned": self.abandoned, "callback_errors": self.callback_errors,
                "lateness_p50_us": lat.p50_us, "lateness_p99_us": lat.p99_us, "lateness_max_us": lat.max_us,
                "lateness_count": lat.count}

    # -- the thread ----------------------------------------------------------------------------------

    def _run(self) -> None:
        clock = self._clock
        spin = self.spin_us
        while True:
            with self._cond:
                while True:
                    if self._stop:
                        return
                    due = self._buf.next_due()
                    now = clock.now_us()
                    if due is not None and due - now <= spin:
                        break
                    wait_us = 50_000 if due is None else min(due - now - spin, 50_000)
                    self._cond.wait(wait_us / 1e6)
            # Busy-wait the last stretch, outside the lock, so that pushes are not held up.
            while clock.now_us() < due:
                if self._stop:
                    return
            with self._cond:
                d = self._buf.pop_due(clock.now_us())
            if d is None:
                continue
            self._record(d)
            try:
                self._callback(d)
            except Exception:  # a callback error must not stop deliveries
                self.callback_errors += 1
                log.exception("playout callback failed")
            if len(self._buf) == 0:
                with self._cond:
                    self._cond.notify_all()  # stop(drain=True) may be waiting

    def _record(self, d: PlayoutDelivery) -> None:
        lat = (d.at_us - d.due_us)[~d.late]  # the precision of on-time deliveries; late ones are counted
        n = len(lat)
        if n == 0:
            return
        with self._cond:
            start = self._lat_n % LATENESS_WINDOW
            if n >= LATENESS_WINDOW:
                self._lateness[:] = lat[-LATENESS_WINDOW:]
            else:
                end = start + n
                if end <= LATENESS_WINDOW:
                    self._lateness[start:end] = lat
                else:
                    k = LATENESS_WINDOW - start
                    self._lateness[start:] = lat[:k]
                    self._lateness[:n - k] = lat[k:]
            self._lat_n += n
