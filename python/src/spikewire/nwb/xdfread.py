"""Read the spikewire streams of an XDF recording: the checked structure from ``xdfscan``, the samples
from pyxdf (the standard reader), and the event-as-sample layout of LAB-DESIGN / docs/recording.md turned
back into events — channel ids, integer µs times and values as numpy arrays.

A spikewire stream has ``<desc><spikewire>`` in its header; other streams of the file (an EEG amplifier
recorded next to it, say) are listed as skipped and not read.
"""

from __future__ import annotations

import io
import json
import logging
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import NwbExportError
from .xdfscan import ChunkView, ScanLimits, scan

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
    first_us: int | None           # the stream's observed span, publisher clock, µs
    last_us: int | None
    inexact_times: int = 0         # time stamps that were not a whole number of µs (rounded)
    clock_offsets: list[tuple[float, float]] = field(default_factory=list)
    footer: dict[str, str] = field(default_factory=dict)   # the footer's <spikewire> counts, as written
    gaps_us: list[tuple[int, int]] = field(default_factory=list)   # reconnect gaps, publisher clock
    theta_us: float | None = None  # publisher clock − recorder clock (the last estimate)
    origin_us: int = 0             # the stream's time origin (its stamps are seconds since it)

    def theta_at(self, recorder_us: np.ndarray) -> np.ndarray | None:
        """θ (µs, publisher − recorder) at recorder-clock times: linear between the ClockOffset chunks'
        estimates, constant before the first and after the last; None without any estimate."""
        if not self.clock_offsets:
            return None if self.theta_us is None else np.full(np.shape(recorder_us), self.theta_us)
        c = np.array([(self.origin_us + t * 1e6, -v * 1e6) for t, v in self.clock_offsets], dtype=np.float64)
        c = c[np.argsort(c[:, 0], kind="stable")]
        return np.interp(np.asarray(recorder_us, dtype=np.float64), c[:, 0], c[:, 1])

    def to_recorder_clock(self) -> None:
        """Map every time of the port (events, span, gaps) into the recorder's clock: T − θ(T), rounded to
        the µs, θ interpolated between the clock estimates. Leaves the port unchanged without an estimate."""
        if self.theta_at(np.zeros(1)) is None:
            return

        def m(us: np.ndarray) -> np.ndarray:
            us = np.asarray(us, dtype=np.int64)
            first = self.theta_at(us.astype(np.float64) - (self.theta_us or 0.0))
            assert first is not None
            return us - np.rint(first).astype(np.int64)

        self.time_us = m(self.time_us)
        if self.first_us is not None:
            self.first_us = int(m(np.array([self.first_us]))[0])
        if self.last_us is not None:
            self.last_us = int(m(np.array([self.last_us]))[0])
        self.gaps_us = [(int(a), int(b)) for a, b in zip(m(np.array([g[0] for g in self.gaps_us], dtype=np.int64)),
                                                          m(np.array([g[1] for g in self.gaps_us], dtype=np.int64)))]
        self.mapped = True

    mapped: bool = False           # times are in the recorder's clock (--clock recorder)

    def intervals_us(self) -> list[tuple[int, int]]:
        """When the port was observed: its span without the reconnect gaps (a gap that holds an event
        is not subtracted: the event proves the port was observed then)."""
        if self.first_us is None or self.last_us is None:
            return []
        out = [(self.first_us, self.last_us)]
        t = np.sort(self.time_us)
        for a, b in sorted(self.gaps_us):
            if not a < b:
                continue
            i = int(np.searchsorted(t, a, side="right"))
            if i < t.size and t[i] < b:
                continue
            nxt: list[tuple[int, int]] = []
            for lo, hi in out:
                if b <= lo or a >= hi:
                    nxt.append((lo, hi))
                    continue
                if lo < a:
                    nxt.append((lo, a))
                if b < hi:
                    nxt.append((b, hi))
            out = nxt
        return out


@dataclass
class Recording:
    path: str
    header: dict[str, str]         # FileHeader <info> leaf children and its <spikewire> children, as text
    ports: list[PortStream]
    skipped: list[str]             # names of the streams that are not spikewire streams
    truncated_bytes: int
    boundaries: int
    log: list[dict[str, Any]] = field(default_factory=list)   # the recorder's log entries
    log_unreadable: int = 0        # log samples that were not a JSON object


#: Most log entries kept (a recording's log holds one entry per open, gap, loss, reconnect, close).
MAX_LOG_ENTRIES = 1_000_000


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


def _times_us(ts: np.ndarray, origin_us: int, sid: int) -> tuple[np.ndarray, int]:
    """XDF time stamps (seconds since the time origin) -> integer µs since the epoch, and how many stamps
    were not exactly (n − origin) / 1e6 for an integer n (rounded to the µs)."""
    ts = np.asarray(ts, dtype=np.float64)
    if ts.size:
        if not (np.all(np.isfinite(ts)) and np.abs(ts).max() * 1e6 <= MAX_TIME_US):
            raise NwbExportError("xdf-bad-sample", f"stream {sid}: a time stamp that is not finite or too large")
    rel = np.rint(ts * 1e6).astype(np.int64)
    us = rel + np.int64(origin_us)
    if us.size and (us.min() < 0 or us.max() > MAX_TIME_US):
        raise NwbExportError("xdf-bad-sample", f"stream {sid}: a time outside 0 to 2^53 µs since the epoch")
    return us, int(np.count_nonzero(rel / 1e6 != ts))


def _footer_us(footer: ET.Element | None, name: str, origin_us: int) -> int | None:
    """A time stamp field (seconds since the time origin) as µs since the epoch, None when absent or absurd."""
    raw = _child_text(footer, name)
    if raw is None:
        return None
    try:
        v = float(raw)
    except ValueError:
        return None
    if not (math.isfinite(v) and abs(v) * 1e6 <= MAX_TIME_US):
        return None
    us = origin_us + int(round(v * 1e6))
    return us if 0 <= us <= MAX_TIME_US else None


def _origin_us(sw: ET.Element | None, header_origin: int, sid: int) -> int:
    """The stream's time origin (µs since the epoch; the recorder writes a whole second): its desc's
    time_origin_us, else the file header's, else 0 (time stamps are then seconds since the epoch)."""
    raw = _child_text(sw, "time_origin_us")
    if raw is None:
        return header_origin
    if not raw.isdigit() or int(raw) > MAX_TIME_US:
        raise NwbExportError("xdf-layout", f"stream {sid}: time_origin_us {raw!r} (0 to 2^53 µs)")
    return int(raw)


def _port(s, data: dict, header_origin: int) -> PortStream:  # type: ignore[no-untyped-def]
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
             if k not in clock and k not in ("port", "kind", "channels", "peer", "node", "time_stamps", "time_origin_us")}

    ts = np.asarray(data["time_stamps"], dtype=np.float64).reshape(-1)
    series = np.asarray(data["time_series"])
    if ts.size != s.samples or series.shape[0] != s.samples:
        raise NwbExportError("xdf-corrupt", f"stream {sid}: pyxdf read {ts.size} samples, the chunks hold {s.samples}")
    origin = _origin_us(sw, header_origin, sid)
    time_us, inexact = _times_us(ts, origin, sid)
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
    footer = _flat(s.footer.find("spikewire")) if s.footer is not None else {}
    theta: float | None = None
    try:
        theta = float(footer["clock_offset_us"])
    except (KeyError, ValueError):
        if s.clock_offsets:   # XDF's value is what to add to a stamp to reach the recorder clock: −θ
            theta = -s.clock_offsets[-1][1] * 1e6
    if theta is not None and not (math.isfinite(theta) and abs(theta) < 1e15):
        theta = None
    first, last = _footer_us(s.footer, "first_timestamp", origin), _footer_us(s.footer, "last_timestamp", origin)
    created = _footer_us(info, "created_at", origin)           # the recorder's clock: mapped by θ when known
    if created is not None:
        created = created + int(round(theta or 0))
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
        first_us=first, last_us=last, inexact_times=inexact, clock_offsets=list(s.clock_offsets),
        footer=footer, theta_us=theta, origin_us=origin)


def read_recording(path: str, limits: ScanLimits = ScanLimits()) -> Recording:
    """Scan the file, read its spikewire streams with pyxdf, and check every event."""
    import pyxdf

    fscan = scan(path, limits)
    logs = [s for s in fscan.streams.values() if s.header.find("desc/spikewire/log") is not None
            and (s.channel_count, s.channel_format) == (1, "string")]
    ours = [s for s in fscan.streams.values() if s.header.find("desc/spikewire") is not None and s not in logs]
    skipped = [(_child_text(s.header, "name") or f"stream{s.stream_id}") for s in fscan.streams.values()
               if s not in ours and s not in logs]
    ranges = ([fscan.header_chunk] if fscan.header_chunk else []) + sorted(r for s in ours + logs for r in s.chunks)
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
    header = _flat(fscan.header) if fscan.header is not None else {}
    if fscan.header is not None:
        header.update(_flat(fscan.header.find("spikewire")))
    header_origin = 0
    raw = header.get("time_origin_us")
    if raw is not None:
        if not raw.isdigit() or int(raw) > MAX_TIME_US:
            raise NwbExportError("xdf-layout", f"file header: time_origin_us {raw!r} (0 to 2^53 µs)")
        header_origin = int(raw)
    ports = []
    for s in ours:
        if s.stream_id not in by_id:
            raise NwbExportError("xdf-corrupt", f"pyxdf did not return stream {s.stream_id}")
        ports.append(_port(s, by_id[s.stream_id], header_origin))
    entries, unreadable = [], 0
    for s in logs:
        for line in by_id[s.stream_id]["time_series"]:
            try:
                e = json.loads(line[0])
            except (ValueError, TypeError, IndexError, RecursionError):
                e = None
            if isinstance(e, dict) and len(entries) < MAX_LOG_ENTRIES:
                entries.append(e)
            else:
                unreadable += 1
    _apply_log(ports, entries)
    return Recording(path, header, ports, skipped, fscan.truncated_bytes, fscan.boundaries, entries, unreadable)


def _us(v: Any) -> int | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 <= v <= MAX_TIME_US:
        return None
    return int(round(v))


def _apply_log(ports: list[PortStream], entries: list[dict[str, Any]]) -> None:
    """What the recorder's log adds to each port's observed span: its reconnect gaps (publisher clock, as
    the subscription reports them) and the end of the recording (the "stop" entry, recorder clock, mapped
    into the publisher's clock by θ)."""
    by_stream = {p.stream_id: p for p in ports}
    stop = None
    for e in entries:
        if e.get("event") == "stop":
            stop = _us(e.get("time_us"))
        p = by_stream.get(e.get("stream")) if isinstance(e.get("stream"), int) else None
        if p is None or e.get("event") != "gap" or e.get("reason") != "reconnect":
            continue
        a, b = _us(e.get("fromUs")), _us(e.get("toUs"))
        if a is not None and b is not None and a < b:
            p.gaps_us.append((a, b))
    if stop is not None:
        for p in ports:
            end = stop + int(round(p.theta_us or 0))
            p.last_us = end if p.last_us is None else max(p.last_us, end)
