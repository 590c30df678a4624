"""Columnar batches (spec §8.6) <-> numpy arrays, with vectorised LEB128: no Python object per event.

Decoded columns: ``channels`` uint32, ``times`` int64 µs (absolute, sender's clock), ``values`` float32 or
None. The checks run in the order of §7.5 step 6 (after ``too-many-events`` and ``kind-mismatch``, which
need only the message fields and are checked in :mod:`spikewire.codec.messages`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spikewire.errors import ProtocolError

MAX_TIME = (1 << 53) - 1
MAX_CHANNEL = (1 << 32) - 1
#: (longest varint in bytes, largest value) of the two varint columns.
CH_BOUNDS = (5, MAX_CHANNEL)
DT_BOUNDS = (8, MAX_TIME)

U8 = npt.NDArray[np.uint8]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
F32 = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True, eq=False)
class Events:
    """The events of a batch, one array per column."""

    channels: U32
    times: I64
    values: F32 | None

    def __len__(self) -> int:
        return int(self.channels.shape[0])


def decode_varints(column: bytes, count: int, bounds: tuple[int, int], name: str) -> U64:
    """Decode a column of minimal LEB128 varints (§8.6 steps 3 and 4).

    Raises invalid-varint for a varint that is not minimal, longer than ``bounds[0]`` bytes, above
    ``bounds[1]`` or cut off, then column-mismatch when the column holds other than ``count`` varints.
    """
    max_len, max_value = bounds
    raw: U8 = np.frombuffer(column, dtype=np.uint8)
    if raw.size == 0:
        if count != 0:
            raise ProtocolError("column-mismatch", f"{name} holds 0 varints, count is {count}")
        return np.zeros(0, dtype=np.uint64)
    more = raw >= 0x80
    if not more.any():
        # The common case: every varint is one byte (ids and deltas below 128).
        if raw.size != count:
            raise ProtocolError("column-mismatch", f"{name} holds {raw.size} varints, count is {count}")
        return raw.astype(np.uint64)
    if more[-1]:
        raise ProtocolError("invalid-varint", f"{name}: varint cut off by the end of the column")
    ends = np.flatnonzero(~more)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts + 1
    if int(lengths.max()) > max_len:
        raise ProtocolError("invalid-varint", f"{name}: varint longer than {max_len} bytes")
    if bool(((raw[ends] == 0) & (lengths > 1)).any()):
        raise ProtocolError("invalid-varint", f"{name}: varint not in minimal form")
    # Sum the 7-bit groups: the first byte of every varint, then the k-th byte of those longer than k.
    low = raw & 0x7F
    values: U64 = low[starts].astype(np.uint64)
    for k in range(1, int(lengths.max())):
        rows = np.flatnonzero(lengths > k)
        values[rows] |= low[starts[rows] + k].astype(np.uint64) << np.uint64(7 * k)
    if int(values.max()) > max_value:
        raise ProtocolError("invalid-varint", f"{name}: varint above {max_value}")
    if values.size != count:
        raise ProtocolError("column-mismatch", f"{name} holds {values.size} varints, count is {count}")
    return values


def encode_varints(values: npt.ArrayLike) -> bytes:
    """Minimal LEB128 varints of non-negative integers (below 2^63), vectorised."""
    v = np.asarray(values)
    if v.size == 0:
        return b""
    if v.dtype.kind == "i" and int(v.min()) < 0:
        raise ValueError("varints encode non-negative integers only")
    v = v.astype(np.uint64, copy=False)
    top = int(v.max())
    if top < 0x80:
        return v.astype(np.uint8).tobytes()
    lengths = np.ones(v.size, dtype=np.intp)
    threshold = 0x80
    while top >= threshold:
        lengths += v >= threshold
        threshold <<= 7
    ends = np.cumsum(lengths)
    starts = ends - lengths
    out = np.empty(int(ends[-1]), dtype=np.uint8)
    # Byte k of each varint: bits 7k.. of its value, with the continuation bit unless it is the last byte.
    out[starts] = (v & 0x7F).astype(np.uint8) | ((lengths > 1).view(np.uint8) << 7)
    for k in range(1, int(lengths.max())):
        rows = np.flatnonzero(lengths > k)
        part = ((v[rows] >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8)
        part |= (lengths[rows] > k + 1).view(np.uint8) << 7
        out[starts[rows] + k] = part
    return out.tobytes()


def event_times(base: int, deltas: U64) -> I64:
    """Absolute times base + dt_0 + ... + dt_i; raises time-overflow above 2^53 - 1 (§8.6 step 6)."""
    if deltas.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Exact int64 sums cannot wrap when the largest possible total stays below 2^63.
    if base + int(deltas.max()) * deltas.size < (1 << 63):
        times = np.cumsum(deltas.astype(np.int64))
        times += base
        if int(times[-1]) > MAX_TIME:
            raise ProtocolError("time-overflow", "event time above 2^53 - 1")
        return times
    # Otherwise check in doubles first: partial sums of values at most 2^53 - 1 that pass 2^53 - 1 round to
    # at least 2^53, and sums of non-negative numbers never decrease (§8.6, note).
    total = np.cumsum(deltas.astype(np.float64))[-1] + float(base)
    if total > MAX_TIME:
        raise ProtocolError("time-overflow", "event time above 2^53 - 1")
    times = np.cumsum(deltas.astype(np.int64))
    times += base
    return times


def decode_values(column: bytes, count: int) -> F32:
    """The ``val`` column: 4 x count bytes of little-endian binary32, finite (§8.6 step 5)."""
    if len(column) != 4 * count:
        raise ProtocolError("column-mismatch", f"val holds {len(column)} bytes for {count} events")
    values: F32 = np.frombuffer(column, dtype="<f4").astype(np.float32)
    if not bool(np.isfinite(values).all()):
        raise ProtocolError("invalid-message", "event value is a NaN or an infinity")
    return values


def check_channels(channels: U32, channel_count: int | None, channel_filter: U32 | None) -> None:
    """§8.6 step 7: ids below the port's channel count and within the stream's filter."""
    if channels.size == 0:
        return
    if channel_count is not None and int(channels.max()) >= channel_count:
        raise ProtocolError("channel-out-of-range", f"channel id at or above the channel count {channel_count}")
    if channel_filter is not None:
        where = np.searchsorted(channel_filter, channels)
        where[where >= channel_filter.size] = 0
        if not bool((channel_filter[where] == channels).all()):
            raise ProtocolError("channel-out-of-range", "channel id outside the stream's channel filter")


#: Batches of at most this many events are decoded by a plain loop: for a few events, the fixed cost of
#: each numpy call is most of the work (a batch per event is the low-latency case).
SMALL_BATCH = 8


def _small_varints(column: bytes, count: int, bounds: tuple[int, int], name: str) -> list[int]:
    """decode_varints for a short column, without numpy: the same checks and codes (every invalid-varint
    before column-mismatch)."""
    max_len, max_value = bounds
    out: list[int] = []
    value = shift = length = 0
    for byte in column:
        length += 1
        if length > max_len:
            raise ProtocolError("invalid-varint", f"{name}: varint longer than {max_len} bytes")
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            if byte == 0 and length > 1:
                raise ProtocolError("invalid-varint", f"{name}: varint not in minimal form")
            if value > max_value:
                raise ProtocolError("invalid-varint", f"{name}: varint above {max_value}")
            out.append(value)
            value = shift = length = 0
    if length:
        raise ProtocolError("invalid-varint", f"{name}: varint cut off by the end of the column")
    if len(out) != count:
        raise ProtocolError("column-mismatch", f"{name} holds {len(out)} varints, count is {count}")
    return out


def _decode_small(base: int, count: int, ch: bytes, dt: bytes, val: bytes | None,
                  channel_count: int | None, channel_filter: U32 | None) -> Events:
    chs = _small_varints(ch, count, CH_BOUNDS, "ch")
    deltas = _small_varints(dt, count, DT_BOUNDS, "dt")
    values = decode_values(val, count) if val is not None else None
    times: list[int] = []
    t = base
    for d in deltas:
        t += d
        times.append(t)
    if times and times[-1] > MAX_TIME:
        raise ProtocolError("time-overflow", "event time above 2^53 - 1")
    if chs:
        if channel_count is not None and max(chs) >= channel_count:
            raise ProtocolError("channel-out-of-range", f"channel id at or above the channel count {channel_count}")
        if channel_filter is not None:
            allowed = set(channel_filter.tolist())
            if any(c not in allowed for c in chs):
                raise ProtocolError("channel-out-of-range", "channel id outside the stream's channel filter")
    return Events(np.array(chs, dtype=np.uint32), np.array(times, dtype=np.int64), values)


def decode_events(base: int, count: int, ch: bytes, dt: bytes, val: bytes | None, *,
                  channel_count: int | None = None, channel_filter: U32 | None = None) -> Events:
    """Decode and check the columns of a batch (§8.6 steps 3 to 7), in the order of §7.5 step 6."""
    if count <= SMALL_BATCH and len(ch) <= SMALL_BATCH * CH_BOUNDS[0] and len(dt) <= SMALL_BATCH * DT_BOUNDS[0]:
        return _decode_small(base, count, ch, dt, val, channel_count, channel_filter)
    return _decode_numpy(base, count, ch, dt, val, channel_count, channel_filter)


def _decode_numpy(base: int, count: int, ch: bytes, dt: bytes, val: bytes | None,
                  channel_count: int | None, channel_filter: U32 | None) -> Events:
    channels = decode_varints(ch, count, CH_BOUNDS, "ch").astype(np.uint32)
    deltas = decode_varints(dt, count, DT_BOUNDS, "dt")
    values = decode_values(val, count) if val is not None else None
    times = event_times(base, deltas)
    check_channels(channels, channel_count, channel_filter)
    return Events(channels, times, values)


@dataclass(frozen=True, slots=True)
class Columns:
    """Encoded columns of a batch: base time and the ch, dt, val byte strings."""

    base: int
    count: int
    ch: bytes
    dt: bytes
    val: bytes | None


def encode_events(channels: npt.ArrayLike, times: npt.ArrayLike, values: npt.ArrayLike | None = None,
                  base: int | None = None) -> Columns:
    """Columns for events given as arrays: channel ids, absolute times (µs, not decreasing), values.

    ``base`` defaults to the first event's time (dt_0 = 0, as §8.6 recommends). Raises ValueError for
    arrays a sender must not send: unequal lengths, no events, decreasing or out-of-range times, channel ids
    above 2^32 - 1, non-finite values.
    """
    ch = np.asarray(channels)
    t = np.asarray(times)
    n = int(ch.shape[0]) if ch.ndim == 1 else -1
    if ch.ndim != 1 or t.ndim != 1 or t.shape[0] != n or n == 0:
        raise ValueError("channels and times must be 1-D arrays of the same, non-zero length")
    if ch.dtype.kind not in "iu" or t.dtype.kind not in "iu":
        raise ValueError("channels and times must be integer arrays")
    if (ch.dtype.kind == "i" and int(ch.min()) < 0) or int(ch.max()) > MAX_CHANNEL:
        raise ValueError("channel ids must be within 0 .. 2^32 - 1")
    t = t.astype(np.int64, copy=False)
    first = int(t[0])
    start = first if base is None else base
    if start < 0 or start > first or int(t[-1]) > MAX_TIME:
        raise ValueError("times must be within base .. 2^53 - 1")
    deltas = np.empty(n, dtype=np.int64)
    deltas[0] = first - start
    np.subtract(t[1:], t[:-1], out=deltas[1:])
    if n > 1 and int(deltas[1:].min()) < 0:
        raise ValueError("times must not decrease within a batch")
    val: bytes | None = None
    if values is not None:
        v = np.asarray(values, dtype=np.float32)
        if v.shape != (n,):
            raise ValueError("values must have one entry per event")
        if not bool(np.isfinite(v).all()):
            raise ValueError("values must be finite")
        val = v.astype("<f4", copy=False).tobytes()
    return Columns(start, n, encode_varints(ch), encode_varints(deltas), val)
