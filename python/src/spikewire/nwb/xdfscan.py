"""A bounded structural scan of an XDF 1.0 file, before pyxdf reads it.

pyxdf trusts its input: a huge sample count allocates before anything is checked, a Samples chunk whose
samples do not fill it exactly desynchronises the reader, a missing header field raises a bare KeyError.
A file is hostile input, so the export walks every chunk first (lengths against the file size and the
bounds below, tags, stream ids, XML well-formed and free of DTDs, the sample count and sizes of every
Samples chunk against its length), keeps the raw header XML (pyxdf drops XML attributes), and then hands
pyxdf a *view* of the file made of the checked chunks of the streams it exports (``ChunkView``). A file cut
short inside its last chunk (a killed recorder) is read up to its last complete chunk, and the bytes left
over are reported.
"""

from __future__ import annotations

import io
import os
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from .errors import NwbExportError

MAGIC = b"XDF:"
BOUNDARY_UUID = bytes.fromhex("43a546dccbf5410fb30ed5467383cbe4")
TAG_FILE_HEADER, TAG_STREAM_HEADER, TAG_SAMPLES, TAG_CLOCK_OFFSET, TAG_BOUNDARY, TAG_STREAM_FOOTER = 1, 2, 3, 4, 5, 6
FORMAT_BYTES = {"int8": 1, "int16": 2, "int32": 4, "int64": 8, "float32": 4, "double64": 8}


@dataclass(frozen=True)
class ScanLimits:
    """What the scan accepts before it allocates."""
    max_chunk_bytes: int = 64 * 1024 * 1024
    max_xml_bytes: int = 1024 * 1024
    max_streams: int = 4096
    max_channels: int = 65_536


@dataclass
class StreamScan:
    stream_id: int
    header: ET.Element            # the <info> element, attributes kept
    channel_count: int
    channel_format: str
    footer: ET.Element | None = None
    samples: int = 0
    clock_offsets: list[tuple[float, float]] = field(default_factory=list)
    chunks: list[tuple[int, int]] = field(default_factory=list)   # (file offset, length) of its chunks


@dataclass
class FileScan:
    path: str
    size: int
    header: ET.Element | None
    streams: dict[int, StreamScan]
    boundaries: int
    unknown_chunks: int
    header_chunk: tuple[int, int] | None
    complete_bytes: int           # offset just past the last complete chunk
    truncated_bytes: int          # bytes after it (a file cut short inside a chunk)


def parse_xml(raw: bytes, offset: int, limits: ScanLimits) -> ET.Element:
    if len(raw) > limits.max_xml_bytes:
        raise NwbExportError("xdf-too-large", f"XML of {len(raw)} bytes (limit {limits.max_xml_bytes})", offset)
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise NwbExportError("xdf-bad-xml", "XML with a DTD or entity declarations", offset)
    try:
        return ET.fromstring(raw)
    except ET.ParseError as e:
        raise NwbExportError("xdf-bad-xml", f"header or footer XML: {e}", offset) from None


def _text(e: ET.Element | None, name: str) -> str | None:
    c = e.find(name) if e is not None else None
    return c.text.strip() if c is not None and c.text is not None else None


def _stream_header(sid: int, info: ET.Element, offset: int, limits: ScanLimits) -> StreamScan:
    if info.tag != "info":
        raise NwbExportError("xdf-bad-stream", f"stream {sid}: header root <{info.tag}>, not <info>", offset)
    count, fmt, srate = _text(info, "channel_count"), _text(info, "channel_format"), _text(info, "nominal_srate")
    if count is None or not count.isdigit() or not 1 <= int(count) <= limits.max_channels:
        raise NwbExportError("xdf-bad-stream", f"stream {sid}: channel_count {count!r} (1 to {limits.max_channels})", offset)
    if fmt not in FORMAT_BYTES and fmt != "string":
        raise NwbExportError("xdf-bad-stream", f"stream {sid}: channel_format {fmt!r}", offset)
    try:
        if srate is None or not float(srate) >= 0 or float(srate) == float("inf"):
            raise ValueError
    except ValueError:
        raise NwbExportError("xdf-bad-stream", f"stream {sid}: nominal_srate {srate!r}", offset) from None
    return StreamScan(sid, info, int(count), fmt)


def _varlen(buf: bytes, pos: int, offset: int) -> tuple[int, int]:
    """An XDF variable-length integer at buf[pos]: (value, next position)."""
    if pos >= len(buf):
        raise NwbExportError("xdf-corrupt", "sample count missing", offset)
    n = buf[pos]
    if n not in (1, 4, 8) or pos + 1 + n > len(buf):
        raise NwbExportError("xdf-corrupt", f"bad variable-length integer (size byte {n})", offset)
    return int.from_bytes(buf[pos + 1:pos + 1 + n], "little"), pos + 1 + n


def check_string_samples(content: bytes, s: StreamScan, offset: int) -> int:
    """Check a Samples chunk of a string stream: every sample (time stamp flag, time stamp, one
    length-prefixed string per channel) lies inside the chunk and the samples fill it exactly."""
    nsamples, pos = _varlen(content, 0, offset)
    if nsamples > (len(content) - pos) // (1 + 2 * s.channel_count):
        raise NwbExportError("xdf-too-large", f"stream {s.stream_id}: {nsamples} samples claimed in {len(content) - pos} bytes", offset)
    for _ in range(nsamples):
        flag = content[pos] if pos < len(content) else -1
        if flag not in (0, 8):
            raise NwbExportError("xdf-corrupt", f"stream {s.stream_id}: bad sample (TimeStampBytes {flag})", offset)
        pos += 1 + flag
        for _ in range(s.channel_count):
            n, pos = _varlen(content, pos, offset)
            pos += n
            if pos > len(content):
                raise NwbExportError("xdf-corrupt", f"stream {s.stream_id}: a string runs past its chunk", offset)
    if pos != len(content):
        raise NwbExportError("xdf-corrupt", f"stream {s.stream_id}: {nsamples} samples do not fill the chunk", offset)
    return nsamples


def check_samples(content: bytes, s: StreamScan, offset: int) -> int:
    """Check a Samples chunk's content (after the stream id): the samples exactly fill it. Returns the
    number of samples."""
    if s.channel_format == "string":
        return check_string_samples(content, s, offset)
    nsamples, pos = _varlen(content, 0, offset)
    size = s.channel_count * FORMAT_BYTES[s.channel_format]
    body = len(content) - pos
    if nsamples > body // (1 + size):
        raise NwbExportError("xdf-too-large", f"stream {s.stream_id}: {nsamples} samples claimed in {body} bytes", offset)
    if body == nsamples * (9 + size):
        # the usual case: every sample carries its time stamp (TimeStampBytes 8)
        flags = np.frombuffer(content, np.uint8, count=nsamples * (9 + size), offset=pos)[::9 + size]
        if nsamples == 0 or bool(np.all(flags == 8)):
            return nsamples
    for _ in range(nsamples):   # mixed: some samples leave their time stamp out (TimeStampBytes 0)
        if pos >= len(content):
            break
        flag = content[pos]
        if flag not in (0, 8):
            raise NwbExportError("xdf-corrupt", f"stream {s.stream_id}: TimeStampBytes {flag} (0 or 8)", offset)
        pos += 1 + flag + size
    else:
        if pos == len(content):
            return nsamples
    raise NwbExportError("xdf-corrupt", f"stream {s.stream_id}: {nsamples} samples do not fill the chunk", offset)


def scan(path: str, limits: ScanLimits = ScanLimits()) -> FileScan:
    """Walk every chunk of the file at `path`. Raises NwbExportError on a malformed file; a file cut short
    inside its last chunk is accepted (``truncated_bytes`` > 0)."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise NwbExportError("xdf-not-found", f"{path}: {e.strerror}") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        if f.read(4) != MAGIC:
            raise NwbExportError("xdf-bad-magic", f"{path} does not start with 'XDF:'", 0)
        pos, header, header_chunk = 4, None, None
        streams: dict[int, StreamScan] = {}
        boundaries = unknown = 0
        while pos < size:
            head = f.read(11)
            nb = head[0]
            if nb not in (1, 4, 8):
                raise NwbExportError("xdf-corrupt", f"chunk length field of {nb} bytes (1, 4 or 8)", pos)
            if len(head) < 1 + nb:
                break                                   # cut short inside the length field
            length = int.from_bytes(head[1:1 + nb], "little")
            start = pos + 1 + nb
            if length < 2:
                raise NwbExportError("xdf-corrupt", f"chunk length {length}", pos)
            if length > limits.max_chunk_bytes:
                raise NwbExportError("xdf-too-large", f"chunk of {length} bytes (limit {limits.max_chunk_bytes})", pos)
            if start + length > size:
                break                                   # the last chunk is incomplete
            tag = int.from_bytes(head[1 + nb:3 + nb], "little")
            f.seek(start + 2)
            content = f.read(length - 2)
            if tag == TAG_FILE_HEADER:
                if header is not None:
                    raise NwbExportError("xdf-corrupt", "a second FileHeader chunk", pos)
                header, header_chunk = parse_xml(content, pos, limits), (pos, 1 + nb + length)
            elif tag in (TAG_STREAM_HEADER, TAG_SAMPLES, TAG_CLOCK_OFFSET, TAG_STREAM_FOOTER):
                if len(content) < 4:
                    raise NwbExportError("xdf-corrupt", f"chunk (tag {tag}) without a stream id", pos)
                sid = struct.unpack_from("<I", content)[0]
                body = content[4:]
                if tag == TAG_STREAM_HEADER:
                    if sid in streams:
                        raise NwbExportError("xdf-corrupt", f"a second StreamHeader for stream {sid}", pos)
                    if len(streams) >= limits.max_streams:
                        raise NwbExportError("xdf-too-large", f"more than {limits.max_streams} streams", pos)
                    streams[sid] = _stream_header(sid, parse_xml(body, pos, limits), pos, limits)
                else:
                    s = streams.get(sid)
                    if s is None:
                        raise NwbExportError("xdf-corrupt", f"chunk (tag {tag}) of stream {sid} before its header", pos)
                    if tag == TAG_SAMPLES:
                        s.samples += check_samples(body, s, pos)
                    elif tag == TAG_CLOCK_OFFSET:
                        if len(body) != 16:
                            raise NwbExportError("xdf-corrupt", f"ClockOffset chunk of {len(body)} bytes (16)", pos)
                        t, v = struct.unpack("<dd", body)
                        if not (np.isfinite(t) and np.isfinite(v)):
                            raise NwbExportError("xdf-corrupt", "ClockOffset not finite", pos)
                        s.clock_offsets.append((t, v))
                    else:
                        if s.footer is not None:
                            raise NwbExportError("xdf-corrupt", f"a second StreamFooter for stream {sid}", pos)
                        s.footer = parse_xml(body, pos, limits)
                s = streams[sid]
                s.chunks.append((pos, 1 + nb + length))
            elif tag == TAG_BOUNDARY:
                if content != BOUNDARY_UUID:
                    raise NwbExportError("xdf-corrupt", "Boundary chunk without the boundary UUID", pos)
                boundaries += 1
            else:
                unknown += 1                            # a later XDF version's chunk: skipped
            pos = start + length
            f.seek(pos)
    return FileScan(path, size, header, streams, boundaries, unknown, header_chunk, pos, size - pos)


class ChunkView(io.RawIOBase):
    """A read-only file made of the magic bytes and the given (offset, length) ranges of a real file, in
    order: what pyxdf reads instead of the file itself."""

    def __init__(self, path: str, ranges: list[tuple[int, int]]) -> None:
        super().__init__()
        self._f: BinaryIO = open(path, "rb")
        self._parts: list[tuple[int, int, int]] = [(0, -1, len(MAGIC))]   # (view offset, file offset, length)
        at = len(MAGIC)
        for off, n in ranges:
            self._parts.append((at, off, n))
            at += n
        self._size, self._pos = at, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, b: "bytearray | memoryview") -> int:  # type: ignore[override]
        out = memoryview(b).cast("B")
        done = 0
        while done < len(out) and self._pos < self._size:
            lo, hi = 0, len(self._parts) - 1
            while lo < hi:                                # the part holding self._pos
                mid = (lo + hi + 1) // 2
                if self._parts[mid][0] <= self._pos:
                    lo = mid
                else:
                    hi = mid - 1
            vstart, foff, n = self._parts[lo]
            k = min(len(out) - done, vstart + n - self._pos)
            if foff < 0:
                out[done:done + k] = MAGIC[self._pos - vstart:self._pos - vstart + k]
            else:
                self._f.seek(foff + self._pos - vstart)
                got = self._f.readinto(out[done:done + k])
                if not got:
                    break
                k = got
            done += k
            self._pos += k
        return done

    def close(self) -> None:
        if not self.closed:
            self._f.close()
        super().close()
