"""The one place where the events package touches the codec's API (spikewire.codec)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..codec import messages as _m
from ..codec.batch import decode_events
from ..errors import CODE_NAMES, LOSS_REASON_NAMES, ProtocolError

Open = _m.Open
Accept = _m.Accept
Reject = _m.Reject
Batch = _m.Batch
Watermark = _m.Watermark
Loss = _m.Loss
Close = _m.Close
DecodeContext = _m.DecodeContext
Kind = _m.Kind
Mode = _m.Mode
T = _m.MessageType

MAX53 = 2**53 - 1
MAX_FRAME = 1_048_576
DEFAULT_MAX_EVENTS = 4096

MODE_SUBSCRIBE = 1
MODE_PUSH = 2
KIND_SPIKE = 0
KIND_WEIGHTED = 1

#: Contexts for the states in which only some types are allowed (§9.2.3); batch contents need more.
NOTHING: frozenset[int] = frozenset()
ANSWER = frozenset({T.ACCEPT, T.REJECT, T.CLOSE})
EVENTS = frozenset({T.BATCH, T.WATERMARK, T.LOSS, T.CLOSE})
OPEN_OR_CLOSE = frozenset({T.OPEN, T.CLOSE})
CLOSE_ONLY = frozenset({T.CLOSE})
#: A context that checks nothing beyond the message's own fields (for messages that will be ignored).
ANY = DecodeContext(max_events=MAX53)


def context(expected: frozenset[int] | None, *, max_events: int = MAX53, kind: int | None = None,
            channels: int | None = None, filter: Any = None, port: str | None = None) -> Any:
    return DecodeContext.make(expected=expected, max_events=max_events, kind=kind, channels=channels,
                              filter=filter, port=port)


def decode(item: bytes, ctx: Any = ANY) -> Any:
    """§7.5 steps 2 to 6 of one frame body, with what the stream end knows (``ctx``)."""
    return _m.decode_message(item, ctx)


def encode(msg: Any) -> bytes:
    return _m.encode_message(msg)


def frame(msg: Any) -> bytes:
    return _m.frame(msg)


def columns(msg: Any, *, kind: int, channels: int, max_events: int,
            filter: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The events of a batch; decoded (and checked, §7.5 step 6) here when the codec did not yet."""
    ev = msg.events
    if ev is None:
        if msg.count > max_events:
            raise ProtocolError("too-many-events", f"batch of {msg.count} events over {max_events}")
        if (msg.val is not None) != (kind == KIND_WEIGHTED):
            raise ProtocolError("kind-mismatch", "val present on a spike port or absent on a weighted port")
        ev = decode_events(msg.base, msg.count, msg.ch, msg.dt, msg.val, channel_count=channels,
                           channel_filter=filter)
    return ev.channels, ev.times, ev.values


def make_batch(seq: int, channels: np.ndarray, times: np.ndarray, values: np.ndarray | None) -> Any:
    return Batch.from_arrays(seq, channels, times, values)


def type_of(msg: Any) -> int:
    return int(msg.TYPE)


def code_name(number: int) -> str:
    return CODE_NAMES.get(number, str(number))


def reason_name(number: int) -> str:
    return LOSS_REASON_NAMES.get(number, str(number))


__all__ = ["ProtocolError", "Open", "Accept", "Reject", "Batch", "Watermark", "Loss", "Close"]
