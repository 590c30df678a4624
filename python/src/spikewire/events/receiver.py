"""The event receiver's state machine (spec §9.2.3 to §9.2.7), sans-IO.

An event receiver is the opener of a subscribe stream or the acceptor of a push stream. It checks every
message from the event sender in the order of spec §7.5 steps 5 to 8 (the codec has done steps 1 to 4):
stream state, batch contents, sequence, time order; and keeps the loss accounting of §9.2.4:
``expected == received + lost_total + missing`` at every point.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import _wire as w
from ._wire import ProtocolError
from .states import Accepted, Closed, Events, Lost, Progress, Refused, State, after_close

LOSS_REASONS = {1: "queue-overflow", 2: "source-overrun", 3: "safety-limit", 4: "late", 5: "other"}


class EventReceiver:
    """One end of an events stream that receives events.

    Build it with :meth:`subscriber` (opener, state waiting, after sending its open) or :meth:`pusher_target`
    (acceptor of a push, state open, after sending its accept). Feed each decoded message to
    :meth:`receive`. A ``ProtocolError`` means: send ``close{code}`` (best effort), reset, stop reading.
    """

    def __init__(self, *, opener: bool, port: str, max_events: int, filter: Sequence[int] | None,
                 kind: int | None = None, channels: int | None = None) -> None:
        self.opener = opener
        self.port = port
        self.max_events = max_events
        self.filter = None if filter is None else np.asarray(filter, dtype=np.uint32)
        self.kind = kind
        self.channels = channels
        self.state = State.WAITING if opener else State.OPEN
        self.expected = 0
        self.received = 0
        self.missing = 0
        self.lost: dict[int, int] = {}
        self.last_event_time: int | None = None
        self.last_watermark: int | None = None
        self.accept: Any = None
        self.close_code: int | None = None
        self._peer_ended = False
        self._we_closed = False
        self._open_ctx: tuple[Any, Any] | None = None

    @classmethod
    def subscriber(cls, open_msg: Any) -> EventReceiver:
        """The opener of a subscribe stream, after it sent ``open_msg``."""
        if open_msg.mode != w.MODE_SUBSCRIBE:
            raise ValueError("a subscriber's open has mode subscribe")
        return cls(opener=True, port=open_msg.port,
                   max_events=open_msg.max_events or w.DEFAULT_MAX_EVENTS, filter=open_msg.channels)

    @classmethod
    def pusher_target(cls, open_msg: Any, *, kind: int, channels: int, max_events: int) -> EventReceiver:
        """The acceptor of a push stream, after it sent its accept (announcing ``max_events``)."""
        return cls(opener=False, port=open_msg.port, max_events=max_events, filter=open_msg.channels,
                   kind=kind, channels=channels)

    @property
    def lost_total(self) -> int:
        return sum(self.lost.values())

    def context(self) -> object:
        """The codec context for the next message: the types this state allows and the batch checks
        (§7.5 steps 5 and 6 happen while decoding)."""
        if self._peer_ended:
            return w.context(w.NOTHING)
        if self._we_closed:
            return w.ANY
        if self.state is State.WAITING:
            return w.context(w.ANSWER, port=self.port)
        if self.state is State.OPEN:
            # Built once per stream (a context per message costs as much as decoding a small batch).
            key = (self.max_events, self.kind, self.channels, id(self.filter))
            if self._open_ctx is None or self._open_ctx[0] != key:
                self._open_ctx = (key, w.context(w.EVENTS, max_events=self.max_events, kind=self.kind,
                                                 channels=self.channels, filter=self.filter))
            return self._open_ctx[1]
        return w.context(w.NOTHING)

    @property
    def we_closed(self) -> bool:
        """This end has sent a close of its own."""
        return self._we_closed

    def sent_close(self) -> None:
        """This end sent a close of its own: messages still in flight are ignored (§9.2.10)."""
        self._we_closed = True
        if self.state is State.WAITING:
            self.state = State.ENDED

    def receive(self, msg: Any) -> Any:
        t = w.type_of(msg)
        ended = after_close(self, msg, t)
        if ended is not None:
            return ended
        if self.state is State.WAITING:
            return self._waiting(t, msg)
        if self.state is State.ENDED:
            raise ProtocolError("unexpected-message", "message on an ended stream")
        if t == w.Batch.TYPE:
            return self._batch(msg)
        if t == w.Watermark.TYPE:
            return self._watermark(msg)
        if t == w.Loss.TYPE:
            return self._loss(msg)
        if t == w.Close.TYPE:
            self._peer_ended = True
            self.state = State.ENDED
            self.close_code = msg.code
            return Closed(msg.code, msg.reason)
        raise ProtocolError("unexpected-message", f"message type {t} on an open events stream")

    def _waiting(self, t: int, msg: Any) -> Any:
        if t == w.Accept.TYPE:
            if msg.port != self.port:
                raise ProtocolError("invalid-message", "accept names another port than the open")
            self.accept = msg
            self.kind = msg.kind
            self.channels = msg.channels
            self.state = State.OPEN
            return Accepted(msg)
        if t in (w.Reject.TYPE, w.Close.TYPE):
            self._peer_ended = True
            self.state = State.ENDED
            self.close_code = msg.code
            return Refused(msg.code, msg.reason, by_close=(t == w.Close.TYPE))
        raise ProtocolError("unexpected-message", f"message type {t} before the answer to the open")

    def _gap(self, seq: int, what: str) -> int:
        if seq < self.expected:
            raise ProtocolError("invalid-sequence", f"{what} seq {seq} below the expected {self.expected}")
        gap = seq - self.expected
        self.missing += gap
        return gap

    def _batch(self, msg: Any) -> Events:
        assert self.kind is not None and self.channels is not None
        ch, times, vals = w.columns(msg, kind=self.kind, channels=self.channels,
                                    max_events=self.max_events, filter=self.filter)
        # §7.5 step 7, sequence, then step 8, time order.
        if msg.seq < self.expected:
            raise ProtocolError("invalid-sequence", f"batch seq {msg.seq} below the expected {self.expected}")
        first = int(times[0])
        if self.last_event_time is not None and first < self.last_event_time:
            raise ProtocolError("time-regression", "batch starts before the previous batch's last event")
        if self.last_watermark is not None and first < self.last_watermark:
            raise ProtocolError("time-regression", "batch starts before the latest watermark")
        gap = self._gap(msg.seq, "batch")
        self.expected = msg.seq + msg.count
        self.received += msg.count
        self.last_event_time = int(times[-1])
        return Events(msg.seq, ch, times, vals, gap)

    def _watermark(self, msg: Any) -> Progress:
        if msg.seq < self.expected:
            raise ProtocolError("invalid-sequence", f"watermark seq {msg.seq} below the expected {self.expected}")
        if self.last_watermark is not None and msg.time < self.last_watermark:
            raise ProtocolError("time-regression", "watermark earlier than the previous watermark")
        gap = self._gap(msg.seq, "watermark")
        self.expected = msg.seq
        self.last_watermark = msg.time
        return Progress(msg.seq, msg.time, gap)

    def _loss(self, msg: Any) -> Lost:
        if msg.seq != self.expected:
            raise ProtocolError("invalid-sequence", f"loss seq {msg.seq} is not the expected {self.expected}")
        self.expected = msg.seq + msg.count
        reason = msg.reason if msg.reason in LOSS_REASONS else 5
        self.lost[reason] = self.lost.get(reason, 0) + msg.count
        return Lost(msg.seq, msg.count, msg.reason)

    def counters(self) -> dict[str, Any]:
        return {"expected": self.expected, "received": self.received, "missing": self.missing,
                "lost": {LOSS_REASONS.get(r, str(r)): n for r, n in self.lost.items()}}


__all__ = ["EventReceiver", "Refused", "Accepted"]
