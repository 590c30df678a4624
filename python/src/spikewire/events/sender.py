"""The event sender's state machine (spec §8.6 to §8.9, §9.2.3 to §9.2.6, §9.2.9, §9.2.10), sans-IO.

The event sender numbers the events of one stream, holds them in a queue bounded in events and in bytes,
drops what does not fit (``queue-overflow``) or would break time order (``late``) and reports every drop
in a loss notice, in sequence order with the batches. The IO layer calls :meth:`offer` with numpy
columns, :meth:`take` when it can write, :meth:`tick` on a timer for idle watermarks, and
:meth:`wrote` after each completed write; time is injected (``now`` in µs).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from . import _wire as w
from ._wire import ProtocolError
from .states import Accepted, Closed, Refused, State, after_close

QUEUE_OVERFLOW = 1
LATE = 4
#: Largest event a batch can carry on the wire: 5 (ch) + 8 (dt) + 4 (val) bytes (§8.6).
MAX_EVENT_BYTES = 17
#: The fixed part of a batch is below 64 bytes, so this many events of any size fit in one 1 MiB frame.
FRAME_EVENTS = (w.MAX_FRAME - 64) // MAX_EVENT_BYTES


@dataclass
class _Run:
    """Numbered events waiting in the queue (columns) or a drop to report (``reason`` set)."""
    seq: int
    count: int
    channels: np.ndarray | None = None
    times: np.ndarray | None = None
    values: np.ndarray | None = None
    reason: int = 0


class EventSender:
    """One end of an events stream that sends events.

    ``opener=True`` for a push link (state waiting until :meth:`receive` sees the accept), ``False`` for
    the acceptor of a subscribe (created open, after it sent its accept).
    """

    def __init__(self, *, opener: bool, kind: int, port: str = "", filter: Sequence[int] | None = None,
                 max_events: int = w.DEFAULT_MAX_EVENTS, max_batch_events: int = 4096,
                 queue_events: int = 262_144, queue_bytes: int = 8 * 1024 * 1024,
                 lateness_us: int = 1000, watermark_interval_us: int = 100_000,
                 slow_consumer_us: int = 10_000_000, now: int = 0) -> None:
        self.opener = opener
        self.port = port
        self.kind = kind
        self.filter = None if filter is None else np.asarray(filter, dtype=np.uint32)
        self.max_events = max_events
        self.max_batch_events = max(1, max_batch_events)
        self.queue_events = queue_events
        self.queue_bytes = queue_bytes
        self.lateness_us = lateness_us
        self.watermark_interval_us = watermark_interval_us
        self.slow_consumer_us = slow_consumer_us
        self.event_bytes = 16 if kind == w.KIND_WEIGHTED else 12
        self.state = State.WAITING if opener else State.OPEN
        self.next_seq = 0
        self.exhausted = False
        #: An end asked for by the application (:meth:`request_end`): (code number, reason); the stream's
        #: writer sends it at its next turn, after what is queued when the code is graceful.
        self.end_request: tuple[int, str | None] | None = None
        self._queue: deque[_Run] = deque()
        self.queued_events = 0
        self.queued_bytes = 0
        self._high: int | None = None  # latest event time numbered (queued or sent)
        self.last_watermark: int | None = None
        self.last_sent_time: int | None = None
        self._last_send = now
        self._progress = now
        self.sent = 0
        self.dropped: dict[int, int] = {}
        self.accept: Any = None
        self.close_code: int | None = None
        self._we_closed = False
        self._peer_ended = False

    # ------------------------------------------------------------------ the peer's messages

    def context(self) -> object:
        """The codec context for the next message from the event receiver (§9.2.3)."""
        if self._peer_ended:
            return w.context(w.NOTHING)
        if self._we_closed:
            return w.ANY
        if self.state is State.WAITING:
            return w.context(w.ANSWER, port=self.port)
        return w.context(w.CLOSE_ONLY if self.state is State.OPEN else w.NOTHING)

    def receive(self, msg: Any) -> Any:
        """A message from the event receiver: only an answer to the open (opener) or a close."""
        t = w.type_of(msg)
        ended = after_close(self, msg, t)
        if ended is not None:
            return ended
        if self.state is State.WAITING:
            if t == w.Accept.TYPE:
                if msg.port != self.port:
                    raise ProtocolError("invalid-message", "accept names another port than the open")
                self.accept = msg
                self.max_events = msg.max_events or w.DEFAULT_MAX_EVENTS
                self.state = State.OPEN
                return Accepted(msg)
            if t in (w.Reject.TYPE, w.Close.TYPE):
                self._peer_ended = True
                self.state = State.ENDED
                self.close_code = msg.code
                return Refused(msg.code, msg.reason, by_close=(t == w.Close.TYPE))
            raise ProtocolError("unexpected-message", f"message type {t} before the answer to the open")
        if self.state is State.OPEN and t == w.Close.TYPE:
            self._peer_ended = True
            self.state = State.ENDED
            self.close_code = msg.code
            return Closed(msg.code, msg.reason)
        raise ProtocolError("unexpected-message", f"message type {t} from the event receiver")

    # ------------------------------------------------------------------ events in

    def offer(self, channels: np.ndarray, times: np.ndarray, values: np.ndarray | None = None) -> int:
        """Number the events this stream carries and queue them; drop and count what cannot be sent.

        ``channels`` (uint32) and ``times`` (int64 µs, non-decreasing as the port emits them) are the port's
        events; the stream's channel filter applies here. Returns how many events were numbered.
        """
        if self.state is not State.OPEN or self._we_closed or self.exhausted or self.end_request is not None:
            return 0
        if self.filter is not None:
            keep = np.isin(channels, self.filter)
            if not keep.all():
                channels, times = channels[keep], times[keep]
                values = None if values is None else values[keep]
        n = int(len(channels))
        if n == 0:
            return 0
        room_seq = w.MAX53 - self.next_seq
        if n > room_seq:
            # §9.2.4: seq + count never passes 2^53 − 1; the stream ends with close{normal} at the bound.
            n = room_seq
            channels, times = channels[:n], times[:n]
            values = None if values is None else values[:n]
            self.exhausted = True
            if n == 0:
                return 0
        floor = self._high
        if self.last_watermark is not None and (floor is None or self.last_watermark > floor):
            floor = self.last_watermark
        status = np.zeros(n, dtype=np.int8)
        if floor is not None or n > 1:
            # An event earlier than any time this stream has numbered or promised is late (§9.2.5).
            start = np.int64(floor if floor is not None else times[0])
            high = np.maximum.accumulate(np.concatenate(([start], times[:-1])))
            status[times < high] = LATE
        ok = np.flatnonzero(status == 0)
        room = min(self.queue_events - self.queued_events,
                   (self.queue_bytes - self.queued_bytes) // self.event_bytes)
        if len(ok) > room:
            status[ok[max(room, 0):]] = QUEUE_OVERFLOW
        seq0 = self.next_seq
        self.next_seq += n
        if status.any():
            edges = np.flatnonzero(np.diff(status)) + 1
            bounds = [0, *edges.tolist(), n]
            for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                s = int(status[a])
                if s == 0:
                    self._push_events(seq0 + a, channels[a:b], times[a:b], None if values is None else values[a:b])
                else:
                    self._push_drop(seq0 + a, b - a, s)
        else:
            self._push_events(seq0, channels, times, values)
        return n

    def _push_events(self, seq: int, ch: np.ndarray, t: np.ndarray, v: np.ndarray | None) -> None:
        self._queue.append(_Run(seq, len(ch), ch, t, v))
        self.queued_events += len(ch)
        self.queued_bytes += len(ch) * self.event_bytes
        self._high = int(t[-1])

    def _push_drop(self, seq: int, count: int, reason: int) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + count
        last = self._queue[-1] if self._queue else None
        if last is not None and last.reason == reason and last.seq + last.count == seq:
            last.count += count
        else:
            self._queue.append(_Run(seq, count, reason=reason))

    # ------------------------------------------------------------------ messages out

    @property
    def pending(self) -> bool:
        return bool(self._queue)

    def take(self, now: int, max_events: int = 1 << 20) -> list[Any]:
        """The next messages to write, in sequence order: batches (split to the receiver's max-events,
        this sender's batch size and the 1 MiB frame bound) and loss notices, up to about ``max_events``."""
        out: list[Any] = []
        if self.state is not State.OPEN:
            return out
        per_batch = min(self.max_events, self.max_batch_events, FRAME_EVENTS)
        budget = max_events
        while self._queue and budget > 0:
            run = self._queue[0]
            if run.reason:
                out.append(w.Loss(seq=run.seq, count=run.count, reason=run.reason))
                self._queue.popleft()
                continue
            # One batch from consecutive runs of events (their sequence numbers follow each other).
            want = min(per_batch, budget)
            seq = run.seq
            parts: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
            got = 0
            while self._queue and not self._queue[0].reason and got < want:
                r = self._queue[0]
                k = min(r.count, want - got)
                assert r.channels is not None and r.times is not None
                parts.append((r.channels[:k], r.times[:k], None if r.values is None else r.values[:k]))
                got += k
                if k == r.count:
                    self._queue.popleft()
                else:
                    r.seq += k
                    r.count -= k
                    r.channels = r.channels[k:]
                    r.times = r.times[k:]
                    r.values = None if r.values is None else r.values[k:]
            if len(parts) == 1:
                ch, t, v = parts[0]
            else:
                ch = np.concatenate([p[0] for p in parts])
                t = np.concatenate([p[1] for p in parts])
                v = None if parts[0][2] is None else np.concatenate([p[2] for p in parts])  # type: ignore[misc]
            out.append(w.make_batch(seq, ch, t, v))
            self.sent += got
            self.queued_events -= got
            self.queued_bytes -= got * self.event_bytes
            self.last_sent_time = int(t[-1])
            budget -= got
        if out:
            self._last_send = now
        return out

    def watermark(self, now: int) -> Any:
        """A watermark for now: seq = the next event to send or report, time = now − lateness, never
        before the previous watermark nor past an event still queued (§9.2.4 to §9.2.6)."""
        seq = self._queue[0].seq if self._queue else self.next_seq
        t = max(0, now - self.lateness_us)
        for run in self._queue:
            if not run.reason:
                t = min(t, int(run.times[0]))  # type: ignore[index]
                break
        if self.last_watermark is not None:
            t = max(t, self.last_watermark)
        t = min(t, w.MAX53)
        self.last_watermark = t
        self._last_send = now
        return w.Watermark(seq=seq, time=t)

    def tick_due(self, now: int) -> bool:
        """Would :meth:`tick` send a heartbeat now (ignoring the queue)?"""
        return (self.state is State.OPEN and not self._we_closed
                and now - self._last_send >= self.watermark_interval_us)

    def tick(self, now: int, wm_now: int | None = None) -> Any | None:
        """On a timer: a heartbeat watermark when the stream has been idle for the interval (§9.2.6).
        ``wm_now`` (default ``now``) is the time the watermark is computed from (minus lateness)."""
        if self.state is not State.OPEN or self._we_closed or self._queue:
            return None
        if now - self._last_send < self.watermark_interval_us:
            return None
        wm = self.watermark(now if wm_now is None else wm_now)
        self._last_send = now
        return wm

    def wrote(self, now: int) -> None:
        """A write completed: the stream drains."""
        self._progress = now

    def is_slow(self, now: int) -> bool:
        """Events have waited for a write to complete for longer than the slow-consumer limit (§9.2.9)."""
        return bool(self._queue) and now - max(self._progress, self._last_send) > self.slow_consumer_us

    def closing(self, code: int, now: int, reason: str | None = None) -> list[Any]:
        """The last messages: on a graceful end every queued message and a final watermark, then close."""
        out: list[Any] = []
        if self.state is State.OPEN and not self._we_closed and code in (0, 21):
            while self._queue:
                out.extend(self.take(now))
            t = max(x for x in (self.last_watermark, self.last_sent_time, max(0, now - self.lateness_us))
                    if x is not None)
            self.last_watermark = min(t, w.MAX53)
            out.append(w.Watermark(seq=self.next_seq, time=self.last_watermark))
        out.append(w.Close(code=code, reason=reason))
        self.sent_close()
        return out

    def request_end(self, code: int, reason: str | None = None) -> None:
        """Ask the stream's writer to end the stream with close{code}; the first request stands. Taking no
        more events from now on: what the port offers later is not numbered for this stream."""
        if self.end_request is None:
            self.end_request = (code, reason)

    @property
    def ending(self) -> bool:
        """The writer should end the stream now: an end was requested, or the sequence numbers ran out and
        everything numbered has been taken."""
        return self.end_request is not None or (self.exhausted and not self.pending)

    def sent_close(self) -> None:
        self._we_closed = True
        self._queue.clear()
        self.queued_events = 0
        self.queued_bytes = 0
        if self.state is State.WAITING:
            self.state = State.ENDED

    def counters(self) -> dict[str, Any]:
        return {"numbered": self.next_seq, "sent": self.sent, "queued": self.queued_events,
                "dropped": {("queue-overflow" if r == 1 else "late" if r == 4 else str(r)): n
                            for r, n in self.dropped.items()}}
