"""The acceptor's side of opening an events stream (spec §9.2.2, §9.2.3), sans-IO.

:class:`AcceptorGate` handles the state ``waiting`` of an acceptor and the time after its reject;
:func:`decide` is the decision on a well-formed open, with the checks of §9.2.2 in their order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import _wire as w
from ._wire import ProtocolError
from .states import Closed, Ignored, OpenReceived, State

DIRECTION_IN = 0
DIRECTION_OUT = 1


@dataclass(frozen=True)
class PortView:
    """What the acceptor needs to know about a local port to decide on an open."""
    name: str
    direction: int
    kind: int
    channels: int
    allowed: Callable[[str], bool]
    #: Can the port apply a delay (push mode)? A port that cannot answers an open with a delay `unsupported`.
    max_delay_us: int | None = None


def decide(open_msg: Any, *, peer: str, port: PortView | None, streams_full: bool) -> tuple[int, str] | None:
    """None to accept, or (code, reason) of the first failing check of §9.2.2."""
    if streams_full:
        return 18, "too many streams"
    if port is None:
        return 15, f"no port {open_msg.port!r}"
    if open_msg.mode == w.MODE_SUBSCRIBE and port.direction != DIRECTION_OUT:
        return 16, f"port {port.name} is an in port"
    if open_msg.mode == w.MODE_PUSH and port.direction != DIRECTION_IN:
        return 16, f"port {port.name} is an out port"
    if not port.allowed(peer):
        return 17, "not authorised for this port"
    if open_msg.channels and open_msg.channels[-1] >= port.channels:
        return 11, f"channel {open_msg.channels[-1]} is not below the channel count {port.channels}"
    if open_msg.mode == w.MODE_PUSH and open_msg.delay is not None:
        if port.max_delay_us is None or open_msg.delay > port.max_delay_us:
            return 22, "this port cannot apply that delay"
    return None


class AcceptorGate:
    """The acceptor before and after its answer: ``receive`` one message at a time."""

    def __init__(self) -> None:
        self.state = State.WAITING
        self.open: Any = None
        self.rejected = False

    def context(self) -> object:
        if self.rejected:
            return w.context(w.CLOSE_ONLY)
        if self.state is State.WAITING and self.open is None:
            return w.context(w.OPEN_OR_CLOSE)
        if self.state is State.WAITING:
            return w.context(w.CLOSE_ONLY)
        return w.context(w.NOTHING)

    def receive(self, msg: Any) -> Any:
        t = w.type_of(msg)
        if self.rejected:
            # §9.2.3: a close that crossed our reject is ignored; anything else is unexpected.
            if t == w.Close.TYPE:
                return Ignored(msg)
            raise ProtocolError("unexpected-message", "message after our reject")
        if self.state is State.WAITING and self.open is None:
            if t == w.Open.TYPE:
                self.open = msg
                return OpenReceived(msg)
            if t == w.Close.TYPE:
                self.state = State.ENDED
                return Closed(msg.code, msg.reason)
            raise ProtocolError("unexpected-message", f"message type {t} before the open")
        if self.state is State.WAITING and t == w.Close.TYPE:
            # The opener gave up while we decided: no answer (§9.2.3).
            self.state = State.ENDED
            return Closed(msg.code, msg.reason)
        raise ProtocolError("unexpected-message", f"message type {t} while the open is being decided")

    def rejecting(self) -> None:
        self.rejected = True
        self.state = State.ENDED
