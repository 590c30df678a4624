"""Read the spikewire streams of an XDF recording: the checked structure from ``xdfscan``, the samples
from pyxdf (the standard reader), and the event-as-sample layout of LAB-DESIGN / docs/recording.md turned
back into events — channel ids, integer µs times and values as numpy arrays.

A spikewire stream has ``<desc><spikewire>`` in its header; other streams of the file (an EEG amplifier
recorded next to it, say) are listed as skipped and not read.
"""

from __future__ import annotations

import io
import logging
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np

from .errors import NwbExportError
from .xdfscan import FileScan, ChunkView, ScanLimits, scan

#: Largest time the export accepts, µs: 2^53 − 1 (the spec's time range; exact in a double).
MAX_TIME_US = 2**53 - 1


@dataclass(frozen=True)
class Param:
    name: str
    value: float | str
    unit: str


@dataclass
class PortStream:
    """One recorded port: its description and its events (sorted as recorded)."""
    stream_id: int
    name: str
    type: str
    source_id: str
    port: str
    kind: str                      # "spike" | "weighted"
    channels: int
    peer: str
    node: str
    model: str | None
    params: list[Param]
    clock: dict[str, str]          # clock_offset_us, clock_uncertainty_us, ... as written
    extra: dict[str, str]          # other <spikewire> fields, as written
    channel: np.ndarray            # uint32
    time_us: np.ndarray            # int64, µs
    value: np.ndarray | None       # float64 for weighted ports
    first_us: int | None           # the stream's span from its footer (or its events)
    last_us: int | None
    inexact_times: int = 0         # time stamps that were not a whole number of µs (rounded)
    clock_offsets: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class Recording:
    path: str
    header: dict[str, str]         # FileHeader <info> children as text
    ports: list[PortStream]
    skipped: list[str]             # names of the streams that are not spikewire streams
    truncated_bytes: int
    boundaries: int


def _child_text(e: ET.Element | None, name: str) -> str | None:
    c = e.find(name) if e is not None else None
    if c is None:
        return None
    return (c.text or "").strip()


def _flat(e: ET.Element | None) -> dict[str, str]:
    """The leaf children of `e` as {name: text}."""
    if e is None:
        return {}
    return {c.tag: (c.text or "").strip() for c in e if len(c) == 0}


def _number(s: str) -> float | str:
    try:
        v = float(s)
    except ValueError:
        return s
    return v if math.isfinite(v) else s


def parse_model(m: ET.Element | None) -> tuple[str | None, list[Param]]:
    """A port's model from `<model>`: the name as an attribute or a `<name>` child; each `<param>` with
    its name/unit as attributes or children and its value as text, a `value` attribute or a `<value>`
    child (the readers follow whichever the writer chose)."""
    if m is None:
        return None, []
    name = m.get("name") or _child_text(m, "name") or None
    params: list[Param] = []
    for p in m.iter("param"):
        pname = p.get("name") or _child_text(p, "name")
        if not pname:
            continue
        unit = p.get("unit") if p.get("unit") is not None else (_child_text(p, "unit") or "")
        raw = p.get("value")
        if raw is None:
            raw = _child_text(p, "value")
        if raw is None:
            raw = (p.text or "").strip()
        params.append(Param(pname, _number(raw), unit or ""))
    return name, params


def _int_field(sw: ET.Element, name: str, sid: int, lo: int, hi: int) -> int:
    raw = _child_text(sw, name)
    if raw is None or not raw.isdigit() or not lo <= int(raw) <= hi:
        raise NwbExportError("xdf-layout", f"stream {sid}: <spikewire><{name}> is {raw!r} ({lo} to {hi})")
    return int(raw)


def _times_us(ts: np.ndarray, sid: int) -> tuple[np.ndarray, int]:
    """Seconds (float64) -> integer µs, and how many were not exactly n / 1e6 for an integer n."""
    ts = np.asarray(ts, dtype=np.float64)
    if ts.size and not (np.all(np.isfinite(ts)) and ts.min() >= 0 and ts.max() * 1e6 <= MAX_TIME_US):
        raise NwbExportError("xdf-bad-sample", f"stream {sid}: a time stamp that is not finite or outside 0 to 2^53 µs")
    us = np.rint(ts * 1e6).astype(np.int64)
    return us, int(np.count_nonzero(us / 1e6 != ts))


def _footer_us(footer: ET.Element | None, name: str) -> int | None:
    raw = _child_text(footer, name)
    if raw is None:
        return None
    try:
        v = float(raw)
    except ValueError:
        return None
    if not (math.isfinite(v) and 0 <= v * 1e6 <= MAX_TIME_US):
        return None
    return int(round(v * 1e6))


def _port(s, data: dict, fscan: FileScan) -> PortStream:  # type: ignore[no-untyped-def]
    info = s.header
    sid = s.stream_id
    sw = info.find("desc/spikewire")
    assert sw is not None
    kind = _child_text(sw, "kind")
    if kind == "spike":
        if (s.channel_count, s.channel_format) != (1, "int32"):
            raise NwbExportError("xdf-layout", f"stream {sid}: a spike port is 1 channel of int32, not "
                                 f"{s.channel_count} of {s.channel_format}")
    elif kind == "weighted":
        if (s.channel_count, s.channel_format) != (2, "double64"):
            raise NwbExportError("xdf-layout", f"stream {sid}: a weighted port is 2 channels of double64, not "
                                 f"{s.channel_count} of {s.channel_format}")
    else:
        raise NwbExportError("xdf-layout", f"stream {sid}: <spikewire><kind> is {kind!r} (spike or weighted)")
    channels = _int_field(sw, "channels", sid, 1, 2**32 - 1)
    port = _child_text(sw, "port") or _child_text(info, "name") or f"stream{sid}"
    model, params = parse_model(sw.find("model"))
    fields = _flat(sw)
    clock = {k: v for k, v in fields.items() if k.startswith("clock_")}
    extra = {k: v for k, v in fields.items()
             if k not in clock and k not in ("port", "kind", "channels", "peer", "node")}

    ts = np.asarray(data["time_stamps"], dtype=np.float64).reshape(-1)
    series = np.asarray(data["time_series"])
    if ts.size != s.samples or series.shape[0] != s.samples:
        raise NwbExportError("xdf-corrupt", f"stream {sid}: pyxdf read {ts.size} samples, the chunks hold {s.samples}")
    time_us, inexact = _times_us(ts, sid)
    value: np.ndarray | None = None
    if kind == "spike":
        ch = series.reshape(-1).astype(np.int64)
    else:
        series = series.reshape(-1, 2).astype(np.float64)
        raw_ch, value = series[:, 0], series[:, 1].copy()
        if not np.all(np.isfinite(series)):
            raise NwbExportError("xdf-bad-sample", f"stream {sid}: a channel id or value that is not finite")
        if np.any(raw_ch != np.floor(raw_ch)):
            raise NwbExportError("xdf-bad-sample", f"stream {sid}: a channel id that is not a whole number")
        ch = raw_ch.astype(np.int64) if raw_ch.size else np.zeros(0, np.int64)
    if ch.size and (ch.min() < 0 or ch.max() >= channels):
        bad = int(ch[(ch < 0) | (ch >= channels)][0])
        raise NwbExportError("xdf-bad-sample", f"stream {sid}: channel {bad} outside the port's {channels} channels")
    first, last = _footer_us(s.footer, "first_timestamp"), _footer_us(s.footer, "last_timestamp")
    created = _footer_us(info, "created_at")
    if created is not None:
        first = created if first is None else min(first, created)
    if time_us.size:
        lo, hi = int(time_us.min()), int(time_us.max())
        first = lo if first is None else min(first, lo)
        last = hi if last is None else max(last, hi)
    return PortStream(
        stream_id=sid, name=_child_text(info, "name") or port, type=_child_text(info, "type") or "",
        source_id=_child_text(info, "source_id") or "", port=port, kind=kind, channels=channels,
        peer=_child_text(sw, "peer") or "", node=_child_text(sw, "node") or "", model=model, params=params,
        clock=clock, extra=extra, channel=ch.astype(np.uint32), time_us=time_us, value=value,
        first_us=first, last_us=last, inexact_times=inexact, clock_offsets=list(s.clock_offsets))


def read_recording(path: str, limits: ScanLimits = ScanLimits()) -> Recording:
    """Scan the file, read its spikewire streams with pyxdf, and check every event."""
    import pyxdf

    fscan = scan(path, limits)
    ours = [s for s in fscan.streams.values() if s.header.find("desc/spikewire") is not None]
    skipped = [(_child_text(s.header, "name") or f"stream{s.stream_id}") for s in fscan.streams.values() if s not in ours]
    ranges = ([fscan.header_chunk] if fscan.header_chunk else []) + sorted(r for s in ours for r in s.chunks)
    by_id: dict[int, dict] = {}
    if ours:
        view = io.BufferedReader(ChunkView(path, ranges), buffer_size=1 << 20)
        # pyxdf logs at ERROR when it meets corruption; the scan has already refused such files
        log = logging.getLogger("pyxdf.pyxdf")
        level = log.level
        log.setLevel(logging.CRITICAL)
        try:
            streams, _ = pyxdf.load_xdf(view, synchronize_clocks=False, handle_clock_resets=False,
                                         dejitter_timestamps=False)
        except NwbExportError:
            raise
        except Exception as e:   # the scan should have caught it; still a typed error, never a crash
            raise NwbExportError("xdf-corrupt", f"pyxdf could not read the file: {type(e).__name__}: {e}") from None
        finally:
            log.setLevel(level)
            view.close()
        by_id = {int(st["info"]["stream_id"]): st for st in streams}
    ports = []
    for s in ours:
        if s.stream_id not in by_id:
            raise NwbExportError("xdf-corrupt", f"pyxdf did not return stream {s.stream_id}")
        ports.append(_port(s, by_id[s.stream_id], fscan))
    header = _flat(fscan.header) if fscan.header is not None else {}
    return Recording(path, header, ports, skipped, fscan.truncated_bytes, fscan.boundaries)
