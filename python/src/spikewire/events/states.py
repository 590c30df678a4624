"""What an events stream end reports as it processes the peer's messages (spec §9.2.3).

The state machines in ``receiver.py``, ``sender.py`` and ``acceptor.py`` are sans-IO: they take decoded
messages and return one of these outcomes, or raise ``ProtocolError`` with the registry code the end must
close the stream with (then reset it, §9.2.10).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from . import _wire as w
from ._wire import ProtocolError


class State(Enum):
    WAITING = "waiting"
    OPEN = "open"
    ENDED = "ended"


@dataclass(frozen=True)
class Accepted:
    """The opener's open was accepted (opener, waiting → open)."""
    accept: Any


@dataclass(frozen=True)
class Refused:
    """The opener's open failed: a reject, or a close instead of an answer (§9.2.2: both mean the same)."""
    code: int
    reason: str | None
    by_close: bool


@dataclass(frozen=True)
class OpenReceived:
    """An acceptor got the open; it now decides (§9.2.2)."""
    open: Any


@dataclass(frozen=True)
class Events:
    """A batch accepted by the event receiver: numpy columns, and any gap it revealed."""
    seq: int
    channels: np.ndarray
    times: np.ndarray
    values: np.ndarray | None
    gap: int


@dataclass(frozen=True)
class Progress:
    """A watermark accepted by the event receiver, and any gap it revealed."""
    seq: int
    time: int
    gap: int


@dataclass(frozen=True)
class Lost:
    """A loss notice accepted by the event receiver."""
    seq: int
    count: int
    reason: int


@dataclass(frozen=True)
class Closed:
    """The peer sent close: the stream has ended (normal when code is 0)."""
    code: int
    reason: str | None


@dataclass(frozen=True)
class Ignored:
    """A message that the rules say to ignore (in flight after our close, or a close crossing a reject)."""
    message: Any


def after_close(machine: Any, msg: Any, t: int) -> Closed | Ignored | None:
    """The rules of §9.2.10 once a close has been exchanged, shared by the sender's and the receiver's
    machines (each has `_peer_ended`, `_we_closed` and `state`): anything after the peer's close or reject is
    `unexpected-message`; after our own close, the peer's close ends the stream and anything else was in
    flight and is ignored. None: neither end has closed, the machine goes on."""
    if machine._peer_ended:
        raise ProtocolError("unexpected-message", "message after the peer's close or reject")
    if machine._we_closed:
        if t == w.Close.TYPE:
            machine._peer_ended = True
            machine.state = State.ENDED
            return Closed(msg.code, msg.reason)
        return Ignored(msg)
    return None
