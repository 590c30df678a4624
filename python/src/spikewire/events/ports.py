"""Local ports of a node: an ``out`` port the application emits numpy columns into, fanned out to every
attached stream; an ``in`` port whose bounded inbox holds the batches peers push into it.

Batching (an out port): events emitted while a flush is pending wait for it. A flush happens at once when
the previous one is older than ``flush_interval_us``, else at that interval after it (a flusher task), so
under load each flush — one offer per stream, then one write per stream — carries many events, and a lone
event at a low rate still leaves without waiting.
"""
from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import trio

from ..errors import CODES
from . import _wire as w
from .clock import Clock, now_us
from .sender import EventSender

log = logging.getLogger("spikewire.events.ports")

KINDS = {"spike": w.KIND_SPIKE, "weighted": w.KIND_WEIGHTED}
Allow = Callable[[str], bool]


def allow_list(spec: str | list[str] | None, default_all: bool) -> Allow:
    """``"*"`` (everyone), a list of PeerIds, or None (the default: everyone or nobody)."""
    if spec is None:
        return (lambda _p: True) if default_all else (lambda _p: False)
    if spec == "*":
        return lambda _p: True
    peers = frozenset(spec)
    return lambda p: p in peers


def code_number(code: str | int) -> int:
    """A close code by registry name (``"normal"``) or number."""
    if isinstance(code, str):
        if code not in CODES:
            raise ValueError(f"unknown close code {code!r}")
        return CODES[code]
    if not 0 <= code <= w.MAX53:
        raise ValueError(f"close code {code} out of range")
    return code


@dataclass
class OutPortStats:
    emitted: int = 0
    refused: int = 0
    flushes: int = 0


class OutPort:
    """An ``out`` port: ``emit(channels, times, values)`` with numpy arrays; never blocks.

    Times are µs on this node's clock, non-decreasing across calls; events earlier than the port's last
    event are refused and counted (a stream cannot send them in order), and so are channel ids at or above
    the channel count and non-finite values.
    """

    direction = 1

    def __init__(self, name: str, *, channels: int, kind: str = "spike", clock: Clock = now_us,
                 subscribe: str | list[str] | None = "*", flush_interval_us: int = 2000,
                 watermark_interval_ms: int = 100, lateness_us: int = 1000, max_batch_events: int = 4096,
                 model: Any = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be spike or weighted, not {kind!r}")
        if not 1 <= channels <= 2**32 - 1:
            raise ValueError("channels must be 1 to 2^32 - 1")
        self.name = name
        self.channels = channels
        self.kind_name = kind
        self.kind = KINDS[kind]
        self.clock = clock
        self.allowed = allow_list(subscribe, True)
        self.flush_interval_us = flush_interval_us
        self.watermark_interval_us = watermark_interval_ms * 1000
        self.lateness_us = lateness_us
        self.max_batch_events = max_batch_events
        self.model = model
        self.stats = OutPortStats()
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
        self._pending_n = 0
        self._last_time: int | None = None
        self._last_flush = 0
        self._senders: dict[EventSender, Callable[[], None]] = {}
        self._kick = trio.Event()
        self._detached = trio.Event()
        self._on_first_attach: list[Callable[[], None]] = []
        #: When a source drives the port: the time up to which it has produced events. Idle watermarks do
        #: not pass it (an event the source produces later cannot be behind a watermark already sent).
        self.horizon: int | None = None

    # -------------------------------------------------------------- streams

    def attach(self, sender: EventSender, wake: Callable[[], None]) -> None:
        # Events the port emitted before this stream was accepted go to the streams that were there: a new
        # stream carries what the port emits from now on (spec §9.2.1; Appendix B, revision 4 draft).
        self.flush()
        first = not self._senders
        self._senders[sender] = wake
        if first:
            for cb in self._on_first_attach:
                cb()

    def detach(self, sender: EventSender) -> None:
        self._senders.pop(sender, None)
        self._detached.set()
        self._detached = trio.Event()

    async def close_streams(self, code: str | int = "normal", reason: str | None = None, *,
                            timeout: float | None = None) -> int:
        """End every stream served from this port, and wait until they have ended; returns how many.

        With ``normal`` or ``shutdown`` (spec §9.2.10) each stream gets every event emitted before this call
        (pending events are flushed first), then a final watermark, ``close{code}`` and the end of its write
        side. Another registry code sends ``close{code}`` and resets the stream (events still queued are not
        sent). Each stream's own writer task does this at its next turn, so it never interleaves with a
        write in progress. Events emitted after the call are not sent on these streams; streams attached
        later are not affected (a push link from this port opens a new stream after its backoff unless it
        is stopped: ``link.stop()`` first to end it for good). With ``timeout`` (seconds), streams still running when it passes are left
        to end on their own.
        """
        number = code_number(code)
        self.flush()
        senders = list(self._senders.items())
        for sender, wake in senders:
            sender.request_end(number, reason)
            wake()
        with trio.move_on_after(timeout if timeout is not None else math.inf):
            while any(s in self._senders for s, _ in senders):
                await self._detached.wait()
        return len(senders)

    def on_first_attach(self, cb: Callable[[], None]) -> None:
        self._on_first_attach.append(cb)

    @property
    def streams(self) -> int:
        return len(self._senders)

    # -------------------------------------------------------------- events in

    def emit(self, channels: Any, times: Any, values: Any = None) -> int:
        """Queue events for every attached stream; returns how many were accepted."""
        ch = np.ascontiguousarray(channels, dtype=np.int64)
        t = np.ascontiguousarray(times, dtype=np.int64)
        if ch.shape != t.shape or ch.ndim != 1:
            raise ValueError("channels and times must be 1-d arrays of one length")
        v = None
        if self.kind == w.KIND_WEIGHTED:
            if values is None:
                raise ValueError(f"port {self.name} is weighted: values are required")
            v = np.ascontiguousarray(values, dtype=np.float32)
            if v.shape != t.shape:
                raise ValueError("values must have the length of times")
        elif values is not None:
            raise ValueError(f"port {self.name} is a spike port: no values")
        n = len(t)
        if n == 0:
            return 0
        ok = (ch >= 0) & (ch < self.channels)
        if v is not None:
            ok &= np.isfinite(v)
        floor = self._last_time if self._last_time is not None else int(t[0])
        high = np.maximum.accumulate(np.concatenate(([floor], t[:-1])))
        ok &= t >= high
        ok &= (t >= 0) & (t <= w.MAX53)
        if not ok.all():
            self.stats.refused += int(n - ok.sum())
            ch, t = ch[ok], t[ok]
            v = None if v is None else v[ok]
            n = len(t)
            if n == 0:
                return 0
        self._last_time = int(t[-1])
        self.stats.emitted += n
        if not self._senders:
            return n
        self._pending.append((ch.astype(np.uint32), t, v))
        self._pending_n += n
        now = self.clock()
        if now - self._last_flush >= self.flush_interval_us or self._pending_n >= self.max_batch_events * 16:
            self.flush(now)
        else:
            self._kick.set()
        return n

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def flush(self, now: int | None = None) -> None:
        """Offer the pending events to every stream and wake their writers."""
        if not self._pending:
            return
        if len(self._pending) == 1:
            ch, t, v = self._pending[0]
        else:
            ch = np.concatenate([p[0] for p in self._pending])
            t = np.concatenate([p[1] for p in self._pending])
            v = None if self._pending[0][2] is None else np.concatenate([p[2] for p in self._pending])  # type: ignore[misc]
        self._pending.clear()
        self._pending_n = 0
        self._last_flush = self.clock() if now is None else now
        self.stats.flushes += 1
        for sender, wake in list(self._senders.items()):
            sender.offer(ch, t, v)
            wake()

    async def run_flusher(self) -> None:
        """The port's timer: flushes what waits at ``flush_interval_us`` after the previous flush."""
        while True:
            await self._kick.wait()
            self._kick = trio.Event()
            due = self._last_flush + self.flush_interval_us
            delay = (due - self.clock()) / 1e6
            if delay > 0:
                await trio.sleep(delay)
            self.flush()

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "direction": 1, "kind": self.kind, "channels": self.channels}


@dataclass
class EventBatch:
    """Events of one batch as numpy columns: ``channels`` uint32, ``times`` int64 µs in the sender's clock,
    ``values`` float32 on weighted ports (else None)."""
    peer: str
    port: str
    seq: int
    channels: np.ndarray
    times: np.ndarray
    values: np.ndarray | None = None
    #: Events missing (neither sent nor reported) just before this batch.
    gap: int = 0
    #: The delay the sender asked for, µs (push mode), or None.
    delay_us: int | None = None
    #: The sender's own port (open key 6), when it named one.
    source: str | None = None
    #: With a delay (push into an in port, spec §9.2.8): each event's delivery time on this node's clock,
    #: T − θ + d (int64 µs), θ being the node's estimate of the pusher's clock offset when the batch arrived.
    due_us: np.ndarray | None = None
    #: The θ used for ``due_us`` and its uncertainty (None before the first clock estimate: θ taken as 0).
    offset_us: float | None = None
    offset_uncertainty_us: float | None = None

    def __len__(self) -> int:
        return len(self.times)

    @property
    def nbytes(self) -> int:
        return self.channels.nbytes + self.times.nbytes + (0 if self.values is None else self.values.nbytes)


class EndRequest:
    """An application's request to end one stream: the code and reason, and an event its task waits on."""

    def __init__(self) -> None:
        self.code: int | None = None
        self.reason: str | None = None
        self.event = trio.Event()

    def set(self, code: int, reason: str | None) -> None:
        if self.code is None:
            self.code, self.reason = code, reason
            self.event.set()


@dataclass(frozen=True)
class WatermarkItem:
    """A watermark of a subscription (spec §9.2.6), yielded between batches by ``subscribe(...,
    watermarks=True)``: no event of this stream numbered ``seq`` or later will be earlier than ``time``
    (µs, the sender's clock). Every watermark is yielded, idle heartbeats included, in stream order."""
    peer: str
    port: str
    seq: int
    time: int


@dataclass
class InPortStats:
    received: int = 0
    batches: int = 0
    dropped_events: int = 0
    dropped_batches: int = 0
    streams: int = 0
    gaps: int = 0
    lost: dict[str, int] = field(default_factory=dict)


class InPort:
    """An ``in`` port: peers push batches into its inbox, bounded in bytes.

    With a reader (``async for batch in port`` or :meth:`get`), a full inbox makes the pushing streams
    wait (they stop reading, so the peers' senders see back-pressure and drop and report). With no reader
    attached, the oldest batches are dropped and counted, and pushers are never held up.
    """

    direction = 0

    def __init__(self, name: str, *, channels: int, kind: str = "spike", push: str | list[str] | None = None,
                 inbox_bytes: int = 16 * 1024 * 1024, max_events: int = 65536,
                 max_delay_us: int | None = None, model: Any = None,
                 clock_for: Callable[[str], Any] | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be spike or weighted, not {kind!r}")
        self.name = name
        self.channels = channels
        self.kind_name = kind
        self.kind = KINDS[kind]
        #: §11.2: an in port is closed by default.
        self.allowed = allow_list(push, False)
        self.inbox_bytes = inbox_bytes
        self.max_events = max_events
        #: The largest delay a pusher may ask for (spec §9.2.8); None: opens with a delay get `unsupported`.
        #: A delay needs ``clock_for`` (peer -> object with ``estimate()``) to map the pusher's times.
        self.max_delay_us = max_delay_us if clock_for is not None else None
        self.clock_for = clock_for
        self.model = model
        self.stats = InPortStats()
        self._inbox: deque[EventBatch] = deque()
        self._bytes = 0
        self._readers = 0
        self._changed = trio.Event()
        #: The push streams running into this port: each one's end request (set by close_streams).
        self._ends: dict[object, EndRequest] = {}
        self._detached = trio.Event()

    def attach_stream(self, key: object) -> EndRequest:
        """A push stream starts (the events service calls this): the request close_streams will set."""
        req = EndRequest()
        self._ends[key] = req
        return req

    def detach_stream(self, key: object) -> None:
        self._ends.pop(key, None)
        self._detached.set()
        self._detached = trio.Event()

    async def close_streams(self, code: str | int = "normal", reason: str | None = None, *,
                            timeout: float | None = None) -> int:
        """End every stream pushing into this port with ``close{code}`` (spec §9.2.10), and wait until they
        have ended; returns how many. The pushers' batches already in flight are read and ignored, as the
        spec asks of an end that has sent its close; what reached the inbox before stays there. Streams
        opened later are not affected. With ``timeout`` (seconds), streams still running when it passes are
        left to end on their own."""
        number = code_number(code)
        keys = list(self._ends)
        for k in keys:
            self._ends[k].set(number, reason)
        with trio.move_on_after(timeout if timeout is not None else math.inf):
            while any(k in self._ends for k in keys):
                await self._detached.wait()
        return len(keys)

    @property
    def queued_bytes(self) -> int:
        return self._bytes

    async def put(self, batch: EventBatch) -> None:
        """A pushing stream delivers a batch; waits while a reader is attached and the inbox is full."""
        self.stats.received += len(batch)
        self.stats.batches += 1
        self.stats.gaps += batch.gap
        while self._readers > 0 and self._bytes + batch.nbytes > self.inbox_bytes and self._inbox:
            ev = self._changed
            await ev.wait()
        if self._readers == 0:
            while self._inbox and self._bytes + batch.nbytes > self.inbox_bytes:
                old = self._inbox.popleft()
                self._bytes -= old.nbytes
                self.stats.dropped_events += len(old)
                self.stats.dropped_batches += 1
        self._inbox.append(batch)
        self._bytes += batch.nbytes
        self._signal()

    def _signal(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def get_nowait(self) -> EventBatch | None:
        if not self._inbox:
            return None
        b = self._inbox.popleft()
        self._bytes -= b.nbytes
        self._signal()
        return b

    async def get(self) -> EventBatch:
        self._readers += 1
        try:
            while not self._inbox:
                ev = self._changed
                await ev.wait()
            b = self.get_nowait()
            assert b is not None
            return b
        finally:
            self._readers -= 1

    def reader(self) -> _Reader:
        """An async iterator over the inbox that counts as an attached reader while it exists."""
        return _Reader(self)

    def __aiter__(self) -> _Reader:
        return self.reader()

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "direction": 0, "kind": self.kind, "channels": self.channels}


class _Reader:
    def __init__(self, port: InPort) -> None:
        self.port = port
        port._readers += 1
        self._closed = False

    def __aiter__(self) -> _Reader:
        return self

    async def __anext__(self) -> EventBatch:
        while not self.port._inbox:
            ev = self.port._changed
            await ev.wait()
        b = self.port.get_nowait()
        assert b is not None
        return b

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.port._readers -= 1

    def __del__(self) -> None:
        self.close()
