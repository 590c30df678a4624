"""The adversary's reading glasses: split what a peer sends into frames and name each message (its type,
and the code of a close or reject). Deliberately lenient and independent of the library's codec: the
adversary reports what arrived, the harness judges it. Writes the few messages the adversary sends
itself (open, close{normal}), encoded by hand in deterministic CBOR (spec §7.1)."""
from __future__ import annotations

from typing import Any

TYPES = {1: "describe-request", 2: "description", 3: "open", 4: "accept", 5: "reject", 6: "batch",
         7: "watermark", 8: "loss", 9: "close", 10: "clock-request", 11: "clock-response"}
CODES = ["normal", "malformed-frame", "frame-too-large", "invalid-cbor", "invalid-message",
         "unknown-message-type", "unexpected-message", "invalid-varint", "column-mismatch", "time-overflow",
         "time-regression", "channel-out-of-range", "too-many-events", "kind-mismatch", "invalid-sequence",
         "unknown-port", "wrong-direction", "unauthorized", "too-many-streams", "slow-consumer", "timeout",
         "shutdown", "unsupported", "internal-error"]


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _head(major: int, n: int) -> bytes:
    m = major << 5
    if n < 24:
        return bytes([m | n])
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([m | extra]) + n.to_bytes(size, "big")
    raise ValueError("too large")


def _text(s: str) -> bytes:
    b = s.encode()
    return _head(3, len(b)) + b


def frame(body: bytes) -> bytes:
    return varint(len(body)) + body


def open_subscribe(port: str) -> bytes:
    return frame(_head(5, 3) + b"\x00\x03" + b"\x01\x01" + b"\x02" + _text(port))


def accept(port: str, kind: str, channels: int, time_us: int) -> bytes:
    return frame(_head(5, 5) + b"\x00\x04" + b"\x01" + _text(port) + b"\x02" + _head(0, 0 if kind == "spike" else 1)
                 + b"\x03" + _head(0, channels) + b"\x04" + _head(0, time_us))


def watermark(seq: int, time_us: int) -> bytes:
    return frame(_head(5, 3) + b"\x00\x07" + b"\x01" + _head(0, seq) + b"\x02" + _head(0, time_us))


def close_normal() -> bytes:
    return frame(b"\xa2\x00\x09\x01\x00")


class _Cut(Exception):
    pass


def _item(b: bytes, i: int) -> tuple[Any, int]:
    """A lenient CBOR reader for the few shapes messages have (maps, uints, texts, bytes, arrays)."""
    if i >= len(b):
        raise _Cut()
    ib = b[i]
    major, info = ib >> 5, ib & 0x1F
    i += 1
    if info < 24:
        n = info
    elif 24 <= info <= 27:
        size = 1 << (info - 24)
        if i + size > len(b):
            raise _Cut()
        n = int.from_bytes(b[i:i + size], "big")
        i += size
    else:
        raise ValueError("unsupported CBOR head")
    if major == 0:
        return n, i
    if major == 1:
        return -1 - n, i
    if major in (2, 3):
        if i + n > len(b):
            raise _Cut()
        raw = b[i:i + n]
        return (raw if major == 2 else raw.decode("utf-8", "replace")), i + n
    if major == 4:
        out = []
        for _ in range(n):
            v, i = _item(b, i)
            out.append(v)
        return out, i
    if major == 5:
        m: dict[Any, Any] = {}
        for _ in range(n):
            k, i = _item(b, i)
            v, i = _item(b, i)
            m[k if isinstance(k, (int, str)) else repr(k)] = v
        return m, i
    if major == 7:
        return None, i
    if major == 6:
        return _item(b, i)
    raise ValueError("unsupported CBOR")


def name_message(body: bytes) -> dict[str, Any]:
    """{"type", "code"?} of one frame body; {"type": "undecodable"} if it is not a message map."""
    try:
        m, end = _item(body, 0)
    except (ValueError, _Cut, UnicodeDecodeError):
        return {"type": "undecodable"}
    if not isinstance(m, dict) or end != len(body) or not isinstance(m.get(0), int):
        return {"type": "undecodable"}
    t = TYPES.get(m[0], f"type-{m[0]}")
    out: dict[str, Any] = {"type": t}
    if t in ("close", "reject") and isinstance(m.get(1), int):
        c = m[1]
        out["code"] = CODES[c] if 0 <= c < len(CODES) else c
    if t == "open":
        out["message"] = {"type": "open", "mode": {1: "subscribe", 2: "push"}.get(m.get(1), m.get(1)), "port": m.get(2)}
        if 3 in m:
            out["message"]["channels"] = m[3]
        if 4 in m:
            out["message"]["delay"] = m[4]
        if 5 in m:
            out["message"]["max_events"] = m[5]
    return out


class FrameSplitter:
    """Splits a byte stream into frame bodies (length prefix of spec §5, lenient: up to 16 MiB)."""

    def __init__(self, max_frame: int = 16 * 1024 * 1024) -> None:
        self._buf = bytearray()
        self._max = max_frame
        self.broken = False

    def feed(self, data: bytes) -> list[bytes]:
        if self.broken:
            return []
        self._buf += data
        out: list[bytes] = []
        while True:
            n = 0
            shift = 0
            i = 0
            while True:
                if i >= len(self._buf):
                    return out
                b = self._buf[i]
                n |= (b & 0x7F) << shift
                shift += 7
                i += 1
                if not b & 0x80:
                    break
                if i >= 5:
                    self.broken = True
                    return out
            if n == 0 or n > self._max:
                self.broken = True
                return out
            if len(self._buf) < i + n:
                return out
            out.append(bytes(self._buf[i:i + n]))
            del self._buf[:i + n]
