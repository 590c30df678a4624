"""The one place where the events package touches the codec's API.

Everything the state machines need from ``spikewire.codec`` goes through these names, so a change in the
codec's interface is absorbed here.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..codec import batch as _batch
from ..codec import messages as _m
from ..errors import ProtocolError

Open = _m.Open
Accept = _m.Accept
Reject = _m.Reject
Batch = _m.Batch
Watermark = _m.Watermark
Loss = _m.Loss
Close = _m.Close

MAX53 = 2**53 - 1
MAX_FRAME = 1_048_576
DEFAULT_MAX_EVENTS = 4096

MODE_SUBSCRIBE = 1
MODE_PUSH = 2
KIND_SPIKE = 0
KIND_WEIGHTED = 1


def decode(item: bytes) -> Any:
    """Framing is done; §7.5 steps 2 to 4 (CBOR, type, fields) of one item."""
    return _m.decode_message(item)


def encode(msg: Any) -> bytes:
    return _m.encode_message(msg)


def columns(msg: Any, *, kind: int, channels: int, max_events: int,
            filter: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """§7.5 step 6: the batch contents, in the order of §8.6."""
    return _batch.decode_columns(msg, kind=kind, channels=channels, max_events=max_events, filter=filter)


def make_batch(seq: int, channels: np.ndarray, times: np.ndarray, values: np.ndarray | None) -> Any:
    base, ch, dt, val = _batch.encode_columns(channels, times, values)
    return Batch(seq=seq, base=base, count=int(len(channels)), ch=ch, dt=dt, val=val)


def type_of(msg: Any) -> int:
    return int(getattr(msg, "TYPE", -1)) if not isinstance(msg, _m.Other) else msg.type


__all__ = ["ProtocolError", "Open", "Accept", "Reject", "Batch", "Watermark", "Loss", "Close"]
