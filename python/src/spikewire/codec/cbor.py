"""Strict deterministic CBOR (spec §7.1, §7.2): a reader that accepts exactly what §7 allows, and an encoder
that writes exactly the deterministic form.

Decoded values:

- unsigned integers (major 0) and negative integers (major 1) are ``int`` (negative ones are < 0);
- byte strings are ``bytes``, text strings ``str``, arrays ``list``;
- maps are :class:`CborMap`, a list of (key, value) pairs in wire order (keys are unique and ascending by
  their encodings; a key can be any item, even an array, so maps are not decoded into dicts);
- floats are ``float``, ``false``/``true`` are ``bool``, ``null`` is ``None``.

Every failure raises :class:`~spikewire.errors.ProtocolError` with code ``invalid-cbor``.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from spikewire.errors import ProtocolError

#: Deepest array/map nesting accepted; the top-level item is at level 1 (§7.2).
MAX_DEPTH = 16

_HALF = struct.Struct(">e")
_SINGLE = struct.Struct(">f")
_DOUBLE = struct.Struct(">d")
_CANONICAL_NAN = b"\xf9\x7e\x00"


class CborMap(list[tuple[Any, Any]]):
    """A decoded CBOR map: (key, value) pairs in wire order."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "CborMap(" + list.__repr__(self) + ")"


def _fail(message: str) -> ProtocolError:
    return ProtocolError("invalid-cbor", message)


class _Reader:
    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self.data = bytes(data)
        self.pos = 0
        self.end = len(self.data)

    def head(self) -> tuple[int, int, int]:
        """Read an item head: (major type, additional information, argument). Checks the shortest form."""
        data, pos = self.data, self.pos
        if pos >= self.end:
            raise _fail("item cut off")
        initial = data[pos]
        major, info = initial >> 5, initial & 0x1F
        pos += 1
        if info < 24:
            self.pos = pos
            return major, info, info
        if info > 27:
            if info == 31:
                if major == 7:
                    raise _fail("break byte outside an indefinite-length item")
                if major in (2, 3, 4, 5):
                    raise _fail("indefinite length")
                raise _fail(f"additional information 31 on major type {major}")
            raise _fail(f"reserved additional information {info}")
        size = 1 << (info - 24)
        if pos + size > self.end:
            raise _fail("item cut off")
        argument = int.from_bytes(data[pos:pos + size], "big")
        self.pos = pos + size
        if major != 7:
            if (info == 24 and argument < 24) or (info > 24 and argument < (1 << (8 << (info - 25)))):
                raise _fail("integer or length in a longer head than needed")
        return major, info, argument

    def take(self, length: int) -> bytes:
        if length > self.end - self.pos:
            raise _fail("string cut off")
        start = self.pos
        self.pos = start + length
        return self.data[start:self.pos]

    def item(self, depth: int) -> Any:
        start = self.pos
        major, info, argument = self.head()
        if major == 0:
            return argument
        if major == 1:
            return -1 - argument
        if major == 2:
            return self.take(argument)
        if major == 3:
            raw = self.take(argument)
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise _fail(f"text string is not valid UTF-8 ({error.reason})") from None
        if major == 4:
            if depth >= MAX_DEPTH:
                raise _fail(f"nesting deeper than {MAX_DEPTH} levels")
            # Each element takes at least one byte: never allocate more than the input holds.
            if argument > self.end - self.pos:
                raise _fail("array cut off")
            return [self.item(depth + 1) for _ in range(argument)]
        if major == 5:
            if depth >= MAX_DEPTH:
                raise _fail(f"nesting deeper than {MAX_DEPTH} levels")
            if argument > (self.end - self.pos) // 2:
                raise _fail("map cut off")
            pairs = CborMap()
            previous = b""
            data = self.data
            for index in range(argument):
                key_start = self.pos
                key = self.item(depth + 1)
                encoded_key = data[key_start:self.pos]
                if index > 0:
                    if encoded_key == previous:
                        raise _fail("duplicate map key")
                    if encoded_key < previous:
                        raise _fail("map keys out of order")
                previous = encoded_key
                pairs.append((key, self.item(depth + 1)))
            return pairs
        if major == 6:
            raise _fail("tag")
        # major 7
        if info < 24:
            if argument == 20:
                return False
            if argument == 21:
                return True
            if argument == 22:
                return None
            if argument == 23:
                raise _fail("simple value undefined")
            raise _fail(f"simple value {argument}")
        if info == 24:
            raise _fail(f"simple value {argument}")
        raw = self.data[start:self.pos]
        if info == 25:
            value = _HALF.unpack(raw[1:])[0]
            if math.isnan(value) and raw != _CANONICAL_NAN:
                raise _fail("NaN not encoded as f9 7e 00")
            return value
        if info == 26:
            value = _SINGLE.unpack(raw[1:])[0]
            if math.isnan(value) or _fits_half(value):
                raise _fail("float in a longer form than needed")
            return value
        value = _DOUBLE.unpack(raw[1:])[0]
        if math.isnan(value) or _fits_single(value):
            raise _fail("float in a longer form than needed")
        return value


def _fits_half(value: float) -> bool:
    try:
        return bool(_HALF.unpack(_HALF.pack(value))[0] == value)
    except OverflowError:
        return False


def _fits_single(value: float) -> bool:
    try:
        return bool(_SINGLE.unpack(_SINGLE.pack(value))[0] == value)
    except OverflowError:
        return False


def decode(data: bytes | bytearray | memoryview) -> Any:
    """Decode exactly one deterministic CBOR data item; raise invalid-cbor for anything else (§7.2)."""
    reader = _Reader(data)
    value = reader.item(0)
    if reader.pos != reader.end:
        raise _fail(f"{reader.end - reader.pos} bytes after the item")
    return value


# ---------------------------------------------------------------------------------------------- encoding


def _head(major: int, argument: int, out: bytearray) -> None:
    if argument < 24:
        out.append((major << 5) | argument)
    elif argument < 0x100:
        out.append((major << 5) | 24)
        out.append(argument)
    elif argument < 0x10000:
        out.append((major << 5) | 25)
        out += argument.to_bytes(2, "big")
    elif argument < 0x100000000:
        out.append((major << 5) | 26)
        out += argument.to_bytes(4, "big")
    elif argument < 0x10000000000000000:
        out.append((major << 5) | 27)
        out += argument.to_bytes(8, "big")
    else:
        raise ValueError(f"integer out of the CBOR range: {argument}")


def encode_float(value: float) -> bytes:
    """The shortest of binary16, binary32 and binary64 that holds ``value`` exactly; NaN as f9 7e 00."""
    if math.isnan(value):
        return _CANONICAL_NAN
    if _fits_half(value):
        return b"\xf9" + _HALF.pack(value)
    if _fits_single(value):
        return b"\xfa" + _SINGLE.pack(value)
    return b"\xfb" + _DOUBLE.pack(value)


def _encode(value: Any, out: bytearray) -> None:
    kind = type(value)
    if kind is int:
        if value >= 0:
            _head(0, value, out)
        else:
            _head(1, -1 - value, out)
    elif kind is bytes or kind is bytearray or kind is memoryview:
        raw = bytes(value)
        _head(2, len(raw), out)
        out += raw
    elif kind is str:
        raw = value.encode("utf-8")
        _head(3, len(raw), out)
        out += raw
    elif kind is list or kind is tuple:
        _head(4, len(value), out)
        for element in value:
            _encode(element, out)
    elif kind is dict or kind is CborMap:
        pairs = value.items() if kind is dict else value
        encoded = sorted((encode(key), element) for key, element in pairs)
        for index in range(1, len(encoded)):
            if encoded[index][0] == encoded[index - 1][0]:
                raise ValueError("duplicate map key")
        _head(5, len(encoded), out)
        for key_bytes, element in encoded:
            out += key_bytes
            _encode(element, out)
    elif kind is float:
        out += encode_float(value)
    elif value is False:
        out.append(0xF4)
    elif value is True:
        out.append(0xF5)
    elif value is None:
        out.append(0xF6)
    elif isinstance(value, int):  # int subclasses such as IntEnum
        _encode(int(value), out)
    else:
        raise TypeError(f"cannot encode {kind.__name__} as CBOR")


def encode(value: Any) -> bytes:
    """Encode ``value`` deterministically (§7.1). Dict keys are sorted by their encodings."""
    out = bytearray()
    _encode(value, out)
    return bytes(out)

