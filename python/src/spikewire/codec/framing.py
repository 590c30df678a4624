"""Framing (spec §5): a minimal LEB128 length prefix of at most 4 bytes, then one CBOR item."""

from __future__ import annotations

from spikewire.errors import ProtocolError

#: Every receiver accepts frames of up to 1 MiB, and no sender sends larger ones (§5.2).
DEFAULT_MAX_FRAME = 1_048_576
#: The largest length a 4-byte prefix can express (§5.1).
PREFIX_LIMIT = (1 << 28) - 1


def encode_prefix(length: int) -> bytes:
    """The minimal varint prefix for a body of ``length`` bytes (1 to 2^28 - 1)."""
    if not 1 <= length <= PREFIX_LIMIT:
        raise ValueError(f"frame length out of range: {length}")
    out = bytearray()
    while length >= 0x80:
        out.append((length & 0x7F) | 0x80)
        length >>= 7
    out.append(length)
    return bytes(out)


def frame(item: bytes) -> bytes:
    """One frame: the prefix and the CBOR item."""
    return encode_prefix(len(item)) + item


def parse_prefix(data: bytes | bytearray | memoryview, pos: int, max_frame: int) -> tuple[int, int] | None:
    """Read a length prefix at ``pos``: (body length, body start), or None while the prefix is incomplete.

    Raises malformed-frame for a prefix that is too long, not minimal or zero, and frame-too-large for a
    length above ``max_frame`` as soon as the prefix is complete (§5.3 steps 1 and 2).
    """
    length = 0
    end = len(data)
    for index in range(4):
        if pos + index >= end:
            return None
        byte = data[pos + index]
        length |= (byte & 0x7F) << (7 * index)
        if byte & 0x80:
            continue
        if index > 0 and byte == 0:
            raise ProtocolError("malformed-frame", "length prefix not in minimal form")
        if length == 0:
            raise ProtocolError("malformed-frame", "zero-length frame")
        if length > max_frame:
            raise ProtocolError("frame-too-large", f"frame of {length} bytes over the limit of {max_frame}")
        return length, pos + index + 1
    raise ProtocolError("malformed-frame", "length prefix longer than 4 bytes")


class FrameDecoder:
    """Reassembles frames from a byte stream delivered in arbitrary chunks (§5.3).

    ``feed(chunk)`` returns the complete frame bodies, in order; ``finish()`` is called at the end of the
    stream and raises malformed-frame when the stream ended inside a prefix or a body. After an error the
    decoder accepts nothing more.
    """

    __slots__ = ("max_frame", "_buffer", "_need", "_failed")

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        if not 1 <= max_frame <= PREFIX_LIMIT:
            raise ValueError(f"max frame size must be within 1 .. 2^28 - 1, not {max_frame}")
        self.max_frame = max_frame
        self._buffer = bytearray()
        self._need = 0  # bytes the buffer must hold before parsing can progress (a known body)
        self._failed = False

    @property
    def buffered(self) -> int:
        """Bytes held for a frame not yet complete."""
        return len(self._buffer)

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[bytes]:
        if self._failed:
            raise ProtocolError("malformed-frame", "the stream already failed")
        buffer = self._buffer
        buffer += chunk
        if len(buffer) < self._need:
            return []
        items: list[bytes] = []
        pos = 0
        end = len(buffer)
        try:
            while pos < end:
                parsed = parse_prefix(buffer, pos, self.max_frame)
                if parsed is None:
                    self._need = 0
                    break
                length, start = parsed
                if start + length > end:
                    self._need = start + length - pos
                    break
                items.append(bytes(buffer[start:start + length]))
                pos = start + length
            else:
                self._need = 0
        except ProtocolError:
            self._failed = True
            raise
        if pos:
            del buffer[:pos]
        if not buffer:
            self._need = 0
        return items

    def finish(self) -> None:
        """The stream ended: fine between frames, malformed-frame inside one (§5.3 step 3)."""
        if self._failed:
            return
        if self._buffer:
            self._failed = True
            raise ProtocolError("malformed-frame", f"stream ended inside a frame ({len(self._buffer)} bytes held)")


def split_frames(data: bytes, max_frame: int = DEFAULT_MAX_FRAME) -> list[bytes]:
    """All frame bodies of a complete byte stream (that then ends); raises as FrameDecoder does."""
    decoder = FrameDecoder(max_frame)
    items = decoder.feed(data)
    decoder.finish()
    return items
