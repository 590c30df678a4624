"""The rules an event receiver applies to the messages of its stream, without any I/O (spec §9.2.3 to
§9.2.7): state, sequence numbers and loss accounting, time order. Used to replay the stream vectors; the
events layer applies the same rules on live streams.

The receiver is the opener of a ``subscribe`` stream: it has sent its open (with its channel filter and
max-events) and now receives the acceptor's answer, then the events.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikewire.codec.messages import (
    Accept, Batch, DecodeContext, Loss, Message, MessageType, Watermark, decode_message,
)
from spikewire.errors import ProtocolError

_WAITING = frozenset({MessageType.ACCEPT, MessageType.REJECT, MessageType.CLOSE})
_OPEN = frozenset({MessageType.BATCH, MessageType.WATERMARK, MessageType.LOSS, MessageType.CLOSE})
_ENDED: frozenset[int] = frozenset()


class SubscriberStream:
    """An event receiver in the state right after it sent ``open{subscribe}``.

    ``receive(item)`` decodes one frame body with the context the state gives and applies the stream rules;
    it returns the message or raises ProtocolError with the code to close the stream with.
    """

    def __init__(self, *, max_events: int = 4096, channel_filter: Any = None, port: str | None = None) -> None:
        self.max_events = max_events
        self.filter = None if channel_filter is None else np.asarray(channel_filter, dtype=np.uint32)
        self.port = port
        self.state = "waiting"
        self.kind: int | None = None
        self.channels: int | None = None
        self.expected_seq = 0           # E of §9.2.4
        self.received = 0               # events received
        self.lost = 0                   # events reported lost
        self.lost_by_reason: dict[int, int] = {}
        self.gap = 0                    # events missing without a report
        self.last_time: int | None = None       # time of the last event received
        self.last_watermark: int | None = None  # time of the latest watermark

    def context(self) -> DecodeContext:
        expected = _WAITING if self.state == "waiting" else _OPEN if self.state == "open" else _ENDED
        return DecodeContext.make(expected=expected, max_events=self.max_events, kind=self.kind,
                                  channels=self.channels, filter=self.filter,
                                  port=self.port if self.state == "waiting" else None)

    def receive(self, item: bytes) -> Message:
        message = decode_message(item, self.context())
        if isinstance(message, Accept):
            self.state = "open"
            self.kind = message.kind
            self.channels = message.channels
        elif message.TYPE in (MessageType.REJECT, MessageType.CLOSE):
            self.state = "ended"
        elif isinstance(message, Batch):
            self._batch(message)
        elif isinstance(message, Watermark):
            self._watermark(message)
        elif isinstance(message, Loss):
            self._loss(message)
        return message

    def _advance_to(self, seq: int) -> None:
        if seq < self.expected_seq:
            raise ProtocolError("invalid-sequence", f"seq {seq} below the expected {self.expected_seq}")
        self.gap += seq - self.expected_seq

    def _batch(self, batch: Batch) -> None:
        self._advance_to(batch.seq)
        assert batch.events is not None
        first = int(batch.events.times[0])
        if (self.last_time is not None and first < self.last_time) or (
                self.last_watermark is not None and first < self.last_watermark):
            raise ProtocolError("time-regression", "batch earlier than the previous batch or watermark")
        self.expected_seq = batch.seq + batch.count
        self.received += batch.count
        self.last_time = int(batch.events.times[-1])

    def _watermark(self, watermark: Watermark) -> None:
        self._advance_to(watermark.seq)
        if self.last_watermark is not None and watermark.time < self.last_watermark:
            raise ProtocolError("time-regression", "watermark earlier than the previous one")
        self.expected_seq = watermark.seq
        self.last_watermark = watermark.time

    def _loss(self, loss: Loss) -> None:
        if loss.seq != self.expected_seq:
            raise ProtocolError("invalid-sequence", f"loss seq {loss.seq}, expected {self.expected_seq}")
        self.expected_seq = loss.seq + loss.count
        self.lost += loss.count
        self.lost_by_reason[loss.reason] = self.lost_by_reason.get(loss.reason, 0) + loss.count
