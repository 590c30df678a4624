"""The messages of spec §8: one dataclass each, decoding with the order of checks of §7.5, and encoding.

``decode_message(item, context)`` runs steps 2 to 6 of §7.5 on one frame body: CBOR (``invalid-cbor``),
message type (``invalid-message``, ``unknown-message-type``), fields (``invalid-message``), stream state
(``unexpected-message``, when ``context.expected`` says which types the stream accepts now), and the batch
contents (``too-many-events``, ``kind-mismatch``, the columns, ``time-overflow``, ``channel-out-of-range``).
Steps 7 and 8 (sequence and time order) need the stream's history: see :mod:`spikewire.codec.replay`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final, Union

import numpy as np

from spikewire.codec import cbor
from spikewire.codec.batch import MAX_CHANNEL, MAX_TIME, U32, Events, decode_events, encode_events
from spikewire.codec.cbor import CborMap
from spikewire.codec.framing import frame as frame_item
from spikewire.errors import ProtocolError

MAX_UINT53: Final = MAX_TIME
MAX_UINT32: Final = MAX_CHANNEL
MAX_TEXT: Final = 256
MAX_PORTS: Final = 256
MAX_PROTOCOLS: Final = 32
MAX_PARAMS: Final = 256
MAX_FILTER: Final = 65536
MIN_MAX_EVENTS: Final = 4096
DEFAULT_MAX_EVENTS: Final = 4096
_PORT_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


class MessageType(IntEnum):
    DESCRIBE_REQUEST = 1
    DESCRIPTION = 2
    OPEN = 3
    ACCEPT = 4
    REJECT = 5
    BATCH = 6
    WATERMARK = 7
    LOSS = 8
    CLOSE = 9
    CLOCK_REQUEST = 10
    CLOCK_RESPONSE = 11

    @property
    def wire_name(self) -> str:
        return self.name.lower().replace("_", "-")


class Mode(IntEnum):
    SUBSCRIBE = 1
    PUSH = 2


class Direction(IntEnum):
    IN = 0
    OUT = 1


class Kind(IntEnum):
    SPIKE = 0
    WEIGHTED = 1


# ----------------------------------------------------------------------------------------------- messages

ParamValue = Union[int, float]


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    value: ParamValue
    unit: str


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    params: tuple[Param, ...] | None = None


@dataclass(frozen=True, slots=True)
class Port:
    name: str
    direction: Direction
    kind: Kind
    channels: int
    model: Model | None = None


@dataclass(frozen=True, slots=True)
class DescribeRequest:
    TYPE = MessageType.DESCRIBE_REQUEST


@dataclass(frozen=True, slots=True)
class Description:
    name: str
    role: str
    ports: tuple[Port, ...]
    software: str
    model: Model | None = None
    protocols: tuple[str, ...] | None = None
    TYPE = MessageType.DESCRIPTION


@dataclass(frozen=True, slots=True)
class Open:
    mode: Mode
    port: str
    channels: tuple[int, ...] | None = None
    delay: int | None = None
    max_events: int | None = None
    source: str | None = None
    TYPE = MessageType.OPEN


@dataclass(frozen=True, slots=True)
class Accept:
    port: str
    kind: Kind
    channels: int
    time: int
    max_events: int | None = None
    TYPE = MessageType.ACCEPT


@dataclass(frozen=True, slots=True)
class Reject:
    code: int
    reason: str | None = None
    TYPE = MessageType.REJECT


@dataclass(frozen=True, slots=True, eq=False)
class Batch:
    """A batch: the wire fields, and ``events`` (numpy columns) once decoded or when built from arrays."""

    seq: int
    base: int
    count: int
    ch: bytes
    dt: bytes
    val: bytes | None = None
    events: Events | None = field(default=None, compare=False, repr=False)
    TYPE = MessageType.BATCH

    @classmethod
    def from_arrays(cls, seq: int, channels: Any, times: Any, values: Any = None,
                    base: int | None = None) -> Batch:
        """A batch of events given as arrays (channel ids, absolute times in µs, optional values)."""
        columns = encode_events(channels, times, values, base)
        events = Events(np.asarray(channels, dtype=np.uint32), np.asarray(times, dtype=np.int64),
                        None if values is None else np.asarray(values, dtype=np.float32))
        return cls(seq, columns.base, columns.count, columns.ch, columns.dt, columns.val, events)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Batch):
            return NotImplemented
        return (self.seq, self.base, self.count, self.ch, self.dt, self.val) == (
            other.seq, other.base, other.count, other.ch, other.dt, other.val)


@dataclass(frozen=True, slots=True)
class Watermark:
    seq: int
    time: int
    TYPE = MessageType.WATERMARK


@dataclass(frozen=True, slots=True)
class Loss:
    seq: int
    count: int
    reason: int
    TYPE = MessageType.LOSS


@dataclass(frozen=True, slots=True)
class Close:
    code: int
    reason: str | None = None
    TYPE = MessageType.CLOSE


@dataclass(frozen=True, slots=True)
class ClockRequest:
    id: int
    t1: int
    TYPE = MessageType.CLOCK_REQUEST


@dataclass(frozen=True, slots=True)
class ClockResponse:
    id: int
    t1: int
    t2: int
    t3: int
    TYPE = MessageType.CLOCK_RESPONSE


Message = Union[DescribeRequest, Description, Open, Accept, Reject, Batch, Watermark, Loss, Close,
                ClockRequest, ClockResponse]


# ------------------------------------------------------------------------------------------------ context


@dataclass(frozen=True, slots=True)
class DecodeContext:
    """What a receiver knows besides the bytes. Absent (None) items are not checked.

    - ``expected``: the message types the stream accepts in its current state; another known type is
      ``unexpected-message`` (§7.5 step 5). None: any type.
    - ``max_events``: the receiver's per-batch limit (``too-many-events``).
    - ``kind``: the port's kind (``kind-mismatch``); ``channels``: its channel count
      (``channel-out-of-range`` for batch ids and an open's filter); ``filter``: the stream's channel filter,
      strictly ascending (``channel-out-of-range`` for batch ids outside it).
    - ``port``: for an opener, the port its open named; an accept echoing another name is ``invalid-message``.
    """

    expected: frozenset[int] | None = None
    max_events: int = DEFAULT_MAX_EVENTS
    kind: Kind | None = None
    channels: int | None = None
    filter: U32 | None = None
    port: str | None = None

    @staticmethod
    def make(*, expected: Any = None, max_events: int | None = None, kind: Any = None,
             channels: int | None = None, filter: Any = None, port: str | None = None) -> DecodeContext:
        """Build a context from plain values: kind as "spike"/"weighted" or Kind, filter as any sequence."""
        if isinstance(kind, str):
            kind = Kind[kind.upper()]
        return DecodeContext(
            expected=None if expected is None else frozenset(int(t) for t in expected),
            max_events=DEFAULT_MAX_EVENTS if max_events is None else max_events,
            kind=None if kind is None else Kind(kind),
            channels=channels,
            filter=None if filter is None else np.asarray(filter, dtype=np.uint32),
            port=port,
        )


NO_CONTEXT: Final = DecodeContext()


# ----------------------------------------------------------------------------------------------- decoding


def _invalid(message: str) -> ProtocolError:
    return ProtocolError("invalid-message", message)


def _short(value: Any) -> str:
    """A peer's value quoted in an error message, cut short: reasons stay well within 256 bytes (§8.1)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_uint(value: Any) -> bool:
    return type(value) is int and value >= 0


_ABSENT: Final = object()


class _Fields:
    """The defined fields of one map: checks that every key is an unsigned integer (§7.3)."""

    __slots__ = ("values", "where")

    def __init__(self, pairs: CborMap, where: str) -> None:
        self.where = where
        values: dict[int, Any] = {}
        for key, value in pairs:
            if not _is_uint(key):
                raise _invalid(f"{where}: map key {_short(key)} is not an unsigned integer")
            values[key] = value
        self.values = values

    def _get(self, key: int, name: str, required: bool) -> Any:
        if key not in self.values:
            if required:
                raise _invalid(f"{self.where}: {name} missing")
            return _ABSENT
        return self.values[key]

    def uint(self, key: int, name: str, low: int = 0, high: int = MAX_UINT53, required: bool = True) -> Any:
        value = self._get(key, name, required)
        if value is _ABSENT:
            return None
        if not _is_uint(value):
            raise _invalid(f"{self.where}: {name} is not an unsigned integer")
        if not low <= value <= high:
            raise _invalid(f"{self.where}: {name} {value} out of range {low}..{high}")
        return value

    def text(self, key: int, name: str, low: int = 0, high: int = MAX_TEXT, required: bool = True) -> Any:
        value = self._get(key, name, required)
        if value is _ABSENT:
            return None
        if type(value) is not str:
            raise _invalid(f"{self.where}: {name} is not a text")
        size = len(value.encode("utf-8"))
        if not low <= size <= high:
            raise _invalid(f"{self.where}: {name} of {size} bytes, allowed {low}..{high}")
        return value

    def port_name(self, key: int, name: str, required: bool = True) -> Any:
        value = self._get(key, name, required)
        if value is _ABSENT:
            return None
        if type(value) is not str or not _PORT_NAME.fullmatch(value):
            raise _invalid(f"{self.where}: {name} is not a port name")
        return value

    def raw_bytes(self, key: int, name: str, required: bool = True) -> Any:
        value = self._get(key, name, required)
        if value is _ABSENT:
            return None
        if type(value) is not bytes:
            raise _invalid(f"{self.where}: {name} is not a byte string")
        return value

    def array(self, key: int, name: str, high: int, low: int = 0, required: bool = True) -> Any:
        value = self._get(key, name, required)
        if value is _ABSENT:
            return None
        if type(value) is not list:
            raise _invalid(f"{self.where}: {name} is not an array")
        if not low <= len(value) <= high:
            raise _invalid(f"{self.where}: {name} holds {len(value)} entries, allowed {low}..{high}")
        return value

    def map(self, key: int, name: str, required: bool = True) -> Any:
        value = self._get(key, name, required)
        if value is _ABSENT:
            return None
        if type(value) is not CborMap:
            raise _invalid(f"{self.where}: {name} is not a map")
        return value


def _model(pairs: Any, where: str) -> Model:
    if type(pairs) is not CborMap:
        raise _invalid(f"{where} is not a map")
    f = _Fields(pairs, where)
    name = f.text(1, "name")
    raw = f.array(2, "params", MAX_PARAMS, required=False)
    params: tuple[Param, ...] | None = None
    if raw is not None:
        out = []
        for index, param in enumerate(raw):
            at = f"{where} param {index}"
            if type(param) is not list or len(param) != 3:
                raise _invalid(f"{at} is not an array of three elements")
            p_name, value, unit = param
            if type(p_name) is not str or len(p_name.encode("utf-8")) > MAX_TEXT:
                raise _invalid(f"{at}: name is not a text of at most {MAX_TEXT} bytes")
            if type(value) is int:
                if not -MAX_UINT53 <= value <= MAX_UINT53:
                    raise _invalid(f"{at}: integer value out of range")
            elif type(value) is float:
                if not math.isfinite(value):
                    raise _invalid(f"{at}: value is a NaN or an infinity")
            else:
                raise _invalid(f"{at}: value is not a number")
            if type(unit) is not str or len(unit.encode("utf-8")) > MAX_TEXT:
                raise _invalid(f"{at}: unit is not a text of at most {MAX_TEXT} bytes")
            out.append(Param(p_name, value, unit))
        params = tuple(out)
    return Model(name, params)


def _description(f: _Fields) -> Description:
    name = f.text(1, "name", low=1)
    role = f.text(2, "role")
    raw_ports = f.array(3, "ports", MAX_PORTS)
    software = f.text(4, "software")
    model = _model(f.values[5], "model") if 5 in f.values else None
    raw_protocols = f.array(6, "protocols", MAX_PROTOCOLS, required=False)
    ports = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_ports):
        at = f"port {index}"
        if type(raw) is not CborMap:
            raise _invalid(f"{at} is not a map")
        p = _Fields(raw, at)
        port_name = p.port_name(1, "name")
        direction = p.uint(2, "direction", 0, 1)
        kind = p.uint(3, "kind", 0, 1)
        channels = p.uint(4, "channels", 1, MAX_UINT32)
        port_model = _model(p.values[5], f"{at} model") if 5 in p.values else None
        if port_name in seen:
            raise _invalid(f"two ports named {port_name!r}")
        seen.add(port_name)
        ports.append(Port(port_name, Direction(direction), Kind(kind), channels, port_model))
    protocols = None
    if raw_protocols is not None:
        for index, protocol in enumerate(raw_protocols):
            if type(protocol) is not str or len(protocol.encode("utf-8")) > MAX_TEXT:
                raise _invalid(f"protocol {index} is not a text of at most {MAX_TEXT} bytes")
        protocols = tuple(raw_protocols)
    return Description(name, role, tuple(ports), software, model, protocols)


def _open(f: _Fields, context: DecodeContext) -> Open:
    mode = f.uint(1, "mode", 1, 2)
    port = f.port_name(2, "port")
    raw = f.array(3, "channels", MAX_FILTER, low=1, required=False)
    channels = None
    if raw is not None:
        previous = -1
        for channel in raw:
            if not _is_uint(channel) or channel > MAX_UINT32:
                raise _invalid("channel filter holds something other than a channel id")
            if channel <= previous:
                raise _invalid("channel filter not strictly ascending")
            previous = channel
        channels = tuple(raw)
    delay = f.uint(4, "delay", 0, MAX_UINT32, required=False)
    max_events = f.uint(5, "max-events", MIN_MAX_EVENTS, required=False)
    source = f.port_name(6, "source", required=False)
    message = Open(Mode(mode), port, channels, delay, max_events, source)
    return message


def _accept(f: _Fields) -> Accept:
    port = f.port_name(1, "port")
    kind = f.uint(2, "kind", 0, 1)
    channels = f.uint(3, "channels", 1, MAX_UINT32)
    time = f.uint(4, "time")
    max_events = f.uint(5, "max-events", MIN_MAX_EVENTS, required=False)
    return Accept(port, Kind(kind), channels, time, max_events)


def _batch_fields(f: _Fields) -> Batch:
    seq = f.uint(1, "seq")
    base = f.uint(2, "base")
    count = f.uint(3, "count", 1)
    ch = f.raw_bytes(4, "ch")
    dt = f.raw_bytes(5, "dt")
    val = f.raw_bytes(6, "val", required=False)
    if seq + count > MAX_UINT53:
        raise _invalid("seq + count above 2^53 - 1")
    return Batch(seq, base, count, ch, dt, val)


def _batch_contents(message: Batch, context: DecodeContext) -> Batch:
    if message.count > context.max_events:
        raise ProtocolError("too-many-events",
                            f"batch of {message.count} events over the limit of {context.max_events}")
    if context.kind is Kind.SPIKE and message.val is not None:
        raise ProtocolError("kind-mismatch", "val on a spike port")
    if context.kind is Kind.WEIGHTED and message.val is None:
        raise ProtocolError("kind-mismatch", "no val on a weighted port")
    events = decode_events(message.base, message.count, message.ch, message.dt, message.val,
                           channel_count=context.channels, channel_filter=context.filter)
    return Batch(message.seq, message.base, message.count, message.ch, message.dt, message.val, events)


def _fields(kind: MessageType, f: _Fields, context: DecodeContext) -> Message:
    if kind is MessageType.DESCRIBE_REQUEST:
        return DescribeRequest()
    if kind is MessageType.DESCRIPTION:
        return _description(f)
    if kind is MessageType.OPEN:
        return _open(f, context)
    if kind is MessageType.ACCEPT:
        return _accept(f)
    if kind is MessageType.REJECT:
        return Reject(f.uint(1, "code", 1), f.text(2, "reason", required=False))
    if kind is MessageType.BATCH:
        return _batch_fields(f)
    if kind is MessageType.WATERMARK:
        return Watermark(f.uint(1, "seq"), f.uint(2, "time"))
    if kind is MessageType.LOSS:
        seq, count, reason = f.uint(1, "seq"), f.uint(2, "count", 1), f.uint(3, "reason")
        if seq + count > MAX_UINT53:
            raise _invalid("seq + count above 2^53 - 1")
        return Loss(seq, count, reason)
    if kind is MessageType.CLOSE:
        return Close(f.uint(1, "code"), f.text(2, "reason", required=False))
    if kind is MessageType.CLOCK_REQUEST:
        return ClockRequest(f.uint(1, "id", 0, MAX_UINT32), f.uint(2, "t1"))
    response = ClockResponse(f.uint(1, "id", 0, MAX_UINT32), f.uint(2, "t1"), f.uint(3, "t2"), f.uint(4, "t3"))
    if response.t3 < response.t2:
        raise _invalid("clock-response t3 before t2")
    return response


def message_type(item: Any) -> MessageType:
    """§7.5 step 3 on a decoded item: its message type, or invalid-message / unknown-message-type."""
    if type(item) is not CborMap:
        raise _invalid("the item is not a map")
    for key, value in item:
        if type(key) is int and key == 0:
            if not _is_uint(value):
                raise _invalid("key 0 does not hold an unsigned integer")
            try:
                return MessageType(value)
            except ValueError:
                raise ProtocolError("unknown-message-type", f"message type {value}") from None
    raise _invalid("key 0 (message type) missing")


def decode_message(item: bytes | bytearray | memoryview, context: DecodeContext = NO_CONTEXT) -> Message:
    """Decode one frame body (§7.5 steps 2 to 6); raises ProtocolError with the first failure's code."""
    decoded = cbor.decode(item)
    kind = message_type(decoded)
    message = _fields(kind, _Fields(decoded, kind.wire_name), context)
    if context.expected is not None and kind not in context.expected:
        raise ProtocolError("unexpected-message", f"{kind.wire_name} not allowed here")
    # Rules that relate the message to the stream's context come after the stream state (Appendix B, rev. 4).
    if kind is MessageType.ACCEPT and context.port is not None:
        assert isinstance(message, Accept)
        if message.port != context.port:
            raise _invalid(f"accept names port {message.port!r}, the open named {context.port!r}")
    if kind is MessageType.OPEN and context.channels is not None:
        assert isinstance(message, Open)
        if message.channels is not None and message.channels[-1] >= context.channels:
            raise ProtocolError("channel-out-of-range",
                                f"filter id {message.channels[-1]} at or above the channel count {context.channels}")
    if kind is MessageType.BATCH:
        assert isinstance(message, Batch)
        message = _batch_contents(message, context)
    return message


# ----------------------------------------------------------------------------------------------- encoding


def _model_map(model: Model) -> dict[int, Any]:
    out: dict[int, Any] = {1: model.name}
    if model.params is not None:
        out[2] = [[p.name, _param_value(p.value), p.unit] for p in model.params]
    return out


def _param_value(value: ParamValue) -> ParamValue:
    # An integral number is a CBOR integer (Appendix A): 1.0 and 1 mean the same and encode as 1.
    if type(value) is float and value.is_integer() and abs(value) <= MAX_UINT53:
        return int(value)
    return value


def message_map(message: Message) -> dict[int, Any]:
    """The CBOR map of a message (optional fields absent when None)."""
    out: dict[int, Any] = {0: int(message.TYPE)}

    def put(key: int, value: Any) -> None:
        if value is not None:
            out[key] = value

    if isinstance(message, Description):
        put(1, message.name)
        put(2, message.role)
        ports = []
        for port in message.ports:
            p: dict[int, Any] = {1: port.name, 2: int(port.direction), 3: int(port.kind), 4: port.channels}
            if port.model is not None:
                p[5] = _model_map(port.model)
            ports.append(p)
        put(3, ports)
        put(4, message.software)
        put(5, None if message.model is None else _model_map(message.model))
        put(6, None if message.protocols is None else list(message.protocols))
    elif isinstance(message, Open):
        put(1, int(message.mode))
        put(2, message.port)
        put(3, None if message.channels is None else list(message.channels))
        put(4, message.delay)
        put(5, message.max_events)
        put(6, message.source)
    elif isinstance(message, Accept):
        put(1, message.port)
        put(2, int(message.kind))
        put(3, message.channels)
        put(4, message.time)
        put(5, message.max_events)
    elif isinstance(message, (Reject, Close)):
        put(1, message.code)
        put(2, message.reason)
    elif isinstance(message, Batch):
        put(1, message.seq)
        put(2, message.base)
        put(3, message.count)
        put(4, message.ch)
        put(5, message.dt)
        put(6, message.val)
    elif isinstance(message, Watermark):
        put(1, message.seq)
        put(2, message.time)
    elif isinstance(message, Loss):
        put(1, message.seq)
        put(2, message.count)
        put(3, message.reason)
    elif isinstance(message, ClockRequest):
        put(1, message.id)
        put(2, message.t1)
    elif isinstance(message, ClockResponse):
        put(1, message.id)
        put(2, message.t1)
        put(3, message.t2)
        put(4, message.t3)
    return out


def encode_message(message: Message) -> bytes:
    """The deterministic CBOR item of a message (the frame body)."""
    return cbor.encode(message_map(message))


def frame(message: Message) -> bytes:
    """The frame of a message: length prefix and CBOR item."""
    return frame_item(encode_message(message))
