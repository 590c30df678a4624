"""Watermark merge of several event streams into one, in time order (spec §9.2.5, §9.2.6, §12.3).

All times are on one common clock: the caller maps each stream's event times and watermarks to local time
with the clock estimate of its sender first (§6.3; ``map_remote`` helps), using the same estimate for a
stream's events and its watermarks.

Each input has a **frontier**: the larger of its latest watermark (a promise that every later event of the
stream has a time of at least W) and its last event time (a stream's events come in time order). An event
at time t of input j is released once every other live input i has frontier > t, or frontier = t and
i > j; released events come out in order of (time, input, arrival), so the output is deterministic.

An input that has said nothing — no batch, no watermark — for ``stall_after_us`` of local time is
**stalled**: it no longer holds the others back, and the stall is counted. A sender SHOULD send a watermark
every 100 ms while idle (§9.2.6), so a silence of several such periods means the sender or the path has
failed; the default bound is 500 ms. When a stalled input speaks again it rejoins; its events earlier than
what was already released are **late**: released at once and flagged (policy ``deliver``) or dropped
(``drop``), counted either way. A closed input never holds back; its queued events are still released in
order. Each input's queue is bounded; an event arriving at a full queue is dropped and counted as overflow.
Nothing is ever lost without a count.

The merge is sans-IO: time comes from an injected clock, stalls are noticed on every call and by ``poll()``
(the caller runs it at least every ``next_poll_us()``), and releases go to a callback.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from spikewire.timing.eventqueue import Columns, EventQueue, as_columns
from spikewire.timing.localclock import Clock, as_clock

__all__ = ["MergeRelease", "InputStats", "WatermarkMerge", "map_remote", "keep_polling"]

log = logging.getLogger("spikewire.timing.merge")

DEFAULT_STALL_AFTER_US = 500_000
DEFAULT_MAX_QUEUE = 1 << 20


@dataclass(frozen=True)
class MergeRelease:
    """Events released together, in (time, input, arrival) order. ``late`` is True for a release of late
    events (older than something already released); such a release holds only that input's events."""

    channels: np.ndarray  # uint32
    times: np.ndarray  # int64, common clock
    values: np.ndarray | None  # float32, or None when every input is a spike stream
    inputs: np.ndarray  # uint16, the input index of each event
    late: bool

    def __len__(self) -> int:
        return int(self.times.shape[0])


@dataclass
class InputStats:
    name: str
    received: int = 0
    released: int = 0
    late: int = 0
    late_dropped: int = 0
    overflow: int = 0
    stalls: int = 0
    stalled: bool = False
    closed: bool = False
    queued: int = 0
    frontier_us: float = -math.inf


@dataclass
class _Input:
    index: int
    stats: InputStats
    queue: EventQueue
    last_heard_us: int
    frontier: float = -math.inf
    stalled: bool = False
    closed: bool = False
    weighted: bool | None = None


def map_remote(times_remote: np.ndarray, mapper) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Remote times (int64 µs) to local int64 µs with an estimate's ``to_local`` (None: same clock)."""
    t = np.asarray(times_remote, dtype=np.int64)
    if mapper is None:
        return t
    return np.rint(mapper.to_local(t)).astype(np.int64)


class WatermarkMerge:
    def __init__(
        self,
        on_release: Callable[[MergeRelease], None],
        *,
        clock: Clock | Callable[[], int] | None = None,
        stall_after_us: int = DEFAULT_STALL_AFTER_US,
        late_policy: str = "deliver",
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        if not stall_after_us > 0:
            raise ValueError(f"stall_after_us must be > 0 (got {stall_after_us})")
        if late_policy not in ("deliver", "drop"):
            raise ValueError(f"late_policy must be 'deliver' or 'drop' (got {late_policy!r})")
        if max_queue < 1:
            raise ValueError(f"max_queue must be >= 1 (got {max_queue})")
        self._on_release = on_release
        self._clock = as_clock(clock)
        self.stall_after_us = int(stall_after_us)
        self.late_policy = late_policy
        self.max_queue = int(max_queue)
        self._inputs: list[_Input] = []
        self._last_t = -math.inf  # time and input of the last event released (late detection)
        self._last_input = -1
        self._released = 0
        self._closed = False

    # -- inputs --------------------------------------------------------------------------------------

    def add_input(self, name: str | None = None) -> int:
        """A new input; returns its index, which is also its rank among events of equal time. It holds the
        others back from now on (until it stalls or closes)."""
        if self._closed:
            raise RuntimeError("merge is closed")
        if len(self._inputs) >= 65535:
            raise ValueError("too many inputs")
        i = len(self._inputs)
        self._inputs.append(_Input(i, InputStats(name or f"input-{i}"), EventQueue(self.max_queue),
                                   self._clock.now_us()))
        return i

    def push(self, input: int, channels: np.ndarray, times: np.ndarray, values: np.ndarray | None = None) -> None:
        """Events of ``input`` at ``times`` (int64 µs, common clock)."""
        inp = self._heard(input)
        t = np.asarray(times, dtype=np.int64)
        cols = as_columns(channels, t, values, t)
        n = len(cols)
        if n == 0:
            self._drain()
            return
        weighted = cols.values is not None
        if inp.weighted is None:
            inp.weighted = weighted
        elif inp.weighted != weighted:
            raise ValueError(f"input {input} mixes spike and weighted events")
        inp.stats.received += n
        tmax = int(t.max())
        if tmax > inp.frontier:
            inp.frontier = tmax
        # Late: earlier than the last released event (or equal to it from a lower-ranked input).
        late_mask = (t < self._last_t) | ((t == self._last_t) & (input < self._last_input)) \
            if self._last_t != -math.inf else None
        if late_mask is not None and late_mask.any():
            late = cols.take(late_mask)
            cols = cols.take(~late_mask)
            inp.stats.late += len(late)
            if self.late_policy == "drop":
                inp.stats.late_dropped += len(late)
            else:
                order = np.argsort(late.key, kind="stable")
                late = late.take(order)
                inp.stats.released += len(late)
                self._emit(late, np.full(len(late), input, dtype=np.uint16), True)
            log.debug("input %s: %d late events (%s)", inp.stats.name, len(late), self.late_policy)
        if len(cols):
            room = inp.queue.room()
            if room < len(cols):
                inp.stats.overflow += len(cols) - room
                log.debug("input %s: queue full, %d events dropped", inp.stats.name, len(cols) - room)
                cols = cols.take(slice(0, room))
            inp.queue.push(cols)
        self._drain()

    def watermark(self, input: int, time_us: int) -> None:
        """``input`` promises that no event before ``time_us`` will follow. Also a heartbeat."""
        inp = self._heard(input)
        if time_us > inp.frontier:
            inp.frontier = int(time_us)
        self._drain()

    def heartbeat(self, input: int) -> None:
        """The input said something that carries no time (a loss notice): it is alive."""
        self._heard(input)
        self._drain()

    def close_input(self, input: int) -> None:
        """``input`` has ended: its queued events are still released in order; it never holds back again."""
        inp = self._get(input)
        inp.closed = True
        inp.stalled = False
        inp.frontier = math.inf
        self._drain()

    @property
    def clock(self) -> Clock:
        return self._clock

    def poll(self) -> None:
        """Notice stalls by the clock and release what they free."""
        self._drain()

    def next_poll_us(self) -> int | None:
        """Local time at which the next input would stall, if nothing is heard before; None if none can."""
        live = [i.last_heard_us + self.stall_after_us for i in self._inputs if not i.closed and not i.stalled]
        return min(live) if live else None

    def flush(self) -> None:
        """Release everything queued, in order (at shutdown); nothing is held back any more."""
        self._closed = True
        for inp in self._inputs:
            inp.closed = True
            inp.frontier = math.inf
        self._drain()

    # -- results -------------------------------------------------------------------------------------

    def stats(self) -> dict:
        inputs = []
        for inp in self._inputs:
            s = inp.stats
            s.stalled, s.closed, s.queued, s.frontier_us = inp.stalled, inp.closed, len(inp.queue), inp.frontier
            inputs.append(InputStats(**vars(s)))
        tot = {k: sum(getattr(s, k) for s in inputs) for k in
               ("received", "released", "late", "late_dropped", "overflow", "stalls", "queued")}
        return {**tot, "inputs": inputs}

    # -- internals -----------------------------------------------------------------------------------

    def _get(self, input: int) -> _Input:
        if not 0 <= input < len(self._inputs):
            raise KeyError(f"unknown merge input {input}")
        return self._inputs[input]

    def _heard(self, input: int) -> _Input:
        inp = self._get(input)
        if inp.closed:
            raise RuntimeError(f"merge input {inp.stats.name} is closed")
        inp.last_heard_us = self._clock.now_us()
        if inp.stalled:
            inp.stalled = False
            log.debug("input %s rejoined", inp.stats.name)
        return inp

    def _check_stalls(self) -> None:
        now = self._clock.now_us()
        for inp in self._inputs:
            if not inp.closed and not inp.stalled and now - inp.last_heard_us >= self.stall_after_us:
                inp.stalled = True
                inp.stats.stalls += 1
                log.debug("input %s stalled: silent for %d µs", inp.stats.name, now - inp.last_heard_us)

    def _drain(self) -> None:
        self._check_stalls()
        # The two lowest (frontier, index) pairs of the inputs that hold the others back.
        holders = sorted((i.frontier, i.index) for i in self._inputs if not i.closed and not i.stalled)[:2]
        parts: list[Columns] = []
        owners: list[np.ndarray] = []
        for inp in self._inputs:
            if not len(inp.queue):
                continue
            # The bound of input j: the smallest frontier among the other holders. At a tie with a
            # lower-ranked input the events at the bound wait (that input may still send one at it); the
            # first other holder in (frontier, index) order is the lowest-ranked one at that frontier.
            other = next((h for h in holders if h[1] != inp.index), None)
            if other is None:
                bound, strict = math.inf, False
            else:
                bound, strict = other[0], other[1] < inp.index
            if bound == math.inf:
                got = inp.queue.pop_all()
            elif bound == -math.inf:
                got = None
            else:
                got = inp.queue.pop_until(int(bound), inclusive=not strict)
            if got is not None and len(got):
                parts.append(got)
                owners.append(np.full(len(got), inp.index, dtype=np.uint16))
        if not parts:
            return
        cols = Columns.concat(parts) if len({p.values is None for p in parts}) == 1 else _fill_values(parts)
        own = np.concatenate(owners)
        order = np.lexsort((own, cols.key))  # stable: arrival order kept within (time, input)
        cols = cols.take(order)
        own = own[order]
        for o, n in zip(*np.unique(own, return_counts=True)):
            self._inputs[int(o)].stats.released += int(n)
        self._last_t = int(cols.key[-1])
        self._last_input = int(own[-1])
        self._emit(cols, own, False)

    def _emit(self, cols: Columns, own: np.ndarray, late: bool) -> None:
        self._released += len(cols)
        self._on_release(MergeRelease(cols.channels, cols.key, cols.values, own, late))


def _fill_values(parts: list[Columns]) -> Columns:
    """Spike and weighted inputs merged together: spike events get value NaN."""
    filled = [p if p.values is not None else Columns(p.key, p.channels, p.times,
                                                    np.full(len(p), np.nan, dtype=np.float32))
              for p in parts]
    return Columns.concat(filled)


async def keep_polling(merge: WatermarkMerge, max_sleep_s: float = 0.1) -> None:
    """Run ``merge.poll()`` whenever an input may have stalled (trio task; cancel it to stop)."""
    import trio

    while True:
        nxt = merge.next_poll_us()
        wait = max_sleep_s if nxt is None else max(0.0, (nxt - merge.clock.now_us()) / 1e6)
        await trio.sleep(min(wait, max_sleep_s))
        merge.poll()
