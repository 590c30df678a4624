"""Build an NWB 2 file from a spikewire XDF recording (see docs/nwb.md for the mapping).

- spike ports -> the Units table: one unit per channel (spike_times, obs_intervals, the port and channel as
  columns, the electrode group of the port);
- weighted ports -> one EventsTable each in /events (NWB core 2.10+): timestamp, channel, value;
- every port -> a Device (peer, node, port, model and its parameters, the clock estimate), and for spike
  ports an ElectrodeGroup linking the units to it;
- the file -> session metadata: session_start_time is the recording's first time, to the µs.

Times: every recorded time is an integer n µs; NWB holds (n − n0) / 1e6 s as a double, where n0 is the
session start in µs (exact in a datetime, whose resolution is 1 µs). docs/nwb.md gives the argument that
rounding (t · 1e6) recovers n − n0 exactly.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from .errors import NwbExportError
from .xdfread import PortStream, Recording, read_recording
from .xdfscan import ScanLimits

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
RESOLUTION_S = 1e-6


@dataclass
class ExportOptions:
    session_description: str | None = None
    identifier: str | None = None
    experimenter: list[str] = field(default_factory=list)
    institution: str | None = None
    lab: str | None = None
    keywords: list[str] = field(default_factory=list)
    experiment_description: str | None = None
    #: Subject fields (NWB Subject: subject_id, species, sex, age, description). A subject is written when
    #: subject_id is given; DANDI and nwbinspector require one (with species, sex and age).
    subject: dict[str, str] = field(default_factory=dict)
    max_units: int = 65_536
    #: "publisher": times as recorded, each port in its publisher's clock (exact to the µs); "recorder":
    #: mapped into the recorder's clock with the recorded clock estimates (T − θ, rounded to the µs)
    clock: str = "publisher"
    compression: bool = True
    overwrite: bool = False


@dataclass
class ExportSummary:
    xdf: str
    nwb: str
    ports: int
    units: int
    spikes: int
    events: int
    skipped_streams: list[str]
    truncated_bytes: int
    inexact_times: int
    session_start_us: int
    read_s: float
    write_s: float
    xdf_bytes: int
    nwb_bytes: int

    def as_json(self) -> dict[str, Any]:
        return {"event": "exported", **self.__dict__}


def us_to_datetime(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


def seconds_since(time_us: np.ndarray, start_us: int) -> np.ndarray:
    """(n − n0) / 1e6 as doubles: the subtraction in int64 is exact, the division correctly rounded."""
    return (time_us.astype(np.int64) - np.int64(start_us)) / 1e6


def _fmt_param(p: Any) -> str:
    v = p.value
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        v = int(v)
    return f"{p.name}={v}{(' ' + p.unit) if p.unit else ''}"


def describe_port(p: PortStream) -> str:
    parts = [f"spikewire {p.kind} port '{p.port}' ({p.channels} channel{'s' if p.channels != 1 else ''}) of node "
             f"'{p.node or '?'}', peer {p.peer or '?'}"]
    if p.model:
        parts.append(f"model {p.model}" + (f": {', '.join(_fmt_param(x) for x in p.params)}" if p.params else ""))
    elif p.params:
        parts.append("parameters: " + ", ".join(_fmt_param(x) for x in p.params))
    if p.clock:
        parts.append("clock " + ", ".join(f"{k}={v}" for k, v in sorted(p.clock.items())))
    if p.extra:
        parts.append(", ".join(f"{k}={v}" for k, v in sorted(p.extra.items())))
    counts = {k: v for k, v in p.footer.items() if k in ("events", "missing", "lost", "reconnects", "reconnect_gap_us", "clock_offset_us", "clock_uncertainty_us")}
    if counts:
        parts.append("recorder counts " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return "; ".join(parts)


def _unique_names(ports: list[PortStream]) -> list[str]:
    """A name per port, safe for NWB (no '/' or ':'), unique within the file."""
    names: list[str] = []
    seen: set[str] = set()
    for p in ports:
        base = re.sub(r"[/:]", "_", p.port) or f"stream{p.stream_id}"
        if base in seen and p.node:
            base = re.sub(r"[/:]", "_", f"{p.node}.{p.port}")
        name, k = base, 2
        while name in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        names.append(name)
    return names


def session_start_us(rec: Recording) -> int:
    """The recording's first time, µs: the earliest stream start (when the recorder created the stream,
    its footer's first time stamp or its first event, whichever is earliest)."""
    starts = [p.first_us for p in rec.ports if p.first_us is not None]
    if not starts:
        raise NwbExportError("xdf-no-streams", "the recording has no time to start the session at (no events)")
    return min(starts)


def build_nwbfile(rec: Recording, opts: ExportOptions) -> tuple[Any, dict[str, int]]:
    from hdmf.backends.hdf5.h5_utils import H5DataIO
    from hdmf.common import VectorData, VectorIndex
    from pynwb import NWBFile
    from pynwb.device import Device
    from pynwb.ecephys import ElectrodeGroup
    from pynwb.file import Subject
    from pynwb.event import EventsTable, TimestampVectorData
    from pynwb.misc import Units

    if not rec.ports:
        raise NwbExportError("xdf-no-streams", "no spikewire stream in the file"
                             + (f" (other streams: {', '.join(rec.skipped)})" if rec.skipped else ""))
    if opts.clock not in ("publisher", "recorder"):
        raise ValueError(f"clock {opts.clock!r}: publisher or recorder")
    if opts.clock == "recorder":
        for p in rec.ports:
            if not p.mapped:
                p.to_recorder_clock()
    spike_ports = [p for p in rec.ports if p.kind == "spike"]
    n_units = sum(p.channels for p in spike_ports)
    if n_units > opts.max_units:
        raise NwbExportError("too-many-units", f"the spike ports have {n_units} channels in all "
                             f"(limit {opts.max_units}, --max-units)")
    n0 = session_start_us(rec)

    def io(data: np.ndarray) -> Any:
        if opts.compression and data.size >= 4096:
            return H5DataIO(data, compression="gzip", compression_opts=4, shuffle=True)
        return data

    peers = sorted({(p.node or "?", p.peer or "?") for p in rec.ports})
    description = opts.session_description or (
        f"spikewire recording of {len(rec.ports)} port{'s' if len(rec.ports) != 1 else ''} from "
        + "; ".join(f"node '{node}' (peer {peer}): "
                    + ", ".join(f"{p.port} ({p.kind}, {p.channels} ch)" for p in rec.ports if (p.node or '?', p.peer or '?') == (node, peer))
                    for node, peer in peers)
        + (". Times are as recorded: each port's events in its publisher's clock, µs resolution; the offset of "
           "each publisher's clock to the recorder's is in its device description." if opts.clock == "publisher" else
           ". Times are in the recorder's clock: each publisher's times mapped with the recorded spikewire clock "
           "estimates (T - offset, rounded to the µs)"
           + ("" if all(p.mapped for p in rec.ports) else "; not mapped (no estimate in the file): "
              + ", ".join(p.port for p in rec.ports if not p.mapped)) + "."))
    if opts.identifier:
        identifier = opts.identifier
    elif rec.header.get("recorder") and rec.header.get("started_us"):
        # the same recording always gets the same identifier; two recordings never share one
        identifier = str(uuid.uuid5(uuid.NAMESPACE_URL, f"spikewire-recording:{rec.header['recorder']}/{rec.header['started_us']}"))
    else:
        identifier = str(uuid.uuid4())
    nwb = NWBFile(
        session_description=description, identifier=identifier, session_start_time=us_to_datetime(n0),
        experimenter=opts.experimenter or None, institution=opts.institution, lab=opts.lab,
        keywords=opts.keywords or ["spikewire", "spikes"], experiment_description=opts.experiment_description,
        subject=Subject(**opts.subject) if opts.subject.get("subject_id") else None,
        source_script="spikewire.nwb (python -m spikewire.nwb)", source_script_file_name="spikewire/nwb/convert.py",
        notes=f"Exported from the XDF file {os.path.basename(rec.path)}"
              + (f"; {rec.truncated_bytes} bytes after its last complete chunk were ignored" if rec.truncated_bytes else "")
              + (f"; streams not exported: {', '.join(rec.skipped)}" if rec.skipped else ""))

    names = _unique_names(rec.ports)
    counts = {"units": 0, "spikes": 0, "events": 0}
    unit_ids: list[int] = []
    flat: list[np.ndarray] = []
    ends: list[int] = []
    obs: list[list[float]] = []
    obs_ends: list[int] = []
    col_port: list[str] = []
    col_channel: list[int] = []
    col_group: list[Any] = []
    total = 0
    for p, name in zip(rec.ports, names):
        empty = p.kind == "weighted" and p.time_us.size == 0
        device = Device(name=name, description=describe_port(p) + ("; no events were recorded (no events table)"
                                                                  if empty else ""),
                        serial_number=p.source_id or None)
        nwb.add_device(device)
        if empty:      # an empty EventsTable is a best-practice violation; the Device still names the port
            continue
        if p.kind == "weighted":
            order = np.argsort(p.time_us, kind="stable")
            ts = seconds_since(p.time_us[order], n0)
            assert p.value is not None
            values = p.value[order]
            with np.errstate(over="ignore"):
                as32 = values.astype(np.float32)
            values_out = as32 if np.array_equal(as32.astype(np.float64), values) else values
            table = EventsTable(
                name=name,
                description=f"Weighted events of {describe_port(p)}. One row per event: timestamp (s from the "
                            f"session start, exact to the µs), channel (the port's channel id), value (the event's "
                            f"weight, as the port sent it).",
                source_description=f"spikewire port '{p.port}' of peer {p.peer or '?'}, recorded to XDF by spikewire record",
                id=io(np.arange(p.time_us.size, dtype=np.int64)),   # an array, not a list of ints: fast to write
                columns=[
                    TimestampVectorData(name="timestamp", description="Time of each event, s from the session start.",
                                        data=io(ts), resolution=RESOLUTION_S),
                    VectorData(name="channel", description="Channel id of the event within the port.",
                               data=io(p.channel[order].astype(np.uint32))),
                    VectorData(name="value", description="Value (weight) carried by the event.", data=io(values_out)),
                ])
            nwb.add_events_table(table)
            counts["events"] += int(p.time_us.size)
            continue
        group = ElectrodeGroup(name=name, description=f"Channels of {describe_port(p)}",
                               location="unknown (a spikewire port; its channels are the units below)", device=device)
        nwb.add_electrode_group(group)
        order = np.lexsort((p.time_us, p.channel))            # by channel, then time (stable)
        ch_sorted = p.channel[order]
        t_sorted = seconds_since(p.time_us[order], n0)
        bounds = np.searchsorted(ch_sorted, np.arange(p.channels + 1, dtype=np.int64), side="left")
        intervals = [[(a - n0) / 1e6, (b - n0) / 1e6] for a, b in p.intervals_us()]
        for c in range(p.channels):
            a, b = int(bounds[c]), int(bounds[c + 1])
            flat.append(t_sorted[a:b])
            total += b - a
            ends.append(total)
            obs.extend(intervals)
            obs_ends.append(len(obs))
            unit_ids.append(len(unit_ids))
            col_port.append(name)
            col_channel.append(c)
            col_group.append(group)
        counts["spikes"] += int(p.time_us.size)
    counts["units"] = len(unit_ids)
    if unit_ids:
        spike_times = VectorData(name="spike_times", description="Spike times of each unit, s from the session start "
                                 "(exact to the µs).", data=io(np.concatenate(flat) if flat else np.zeros(0)))
        st_index = VectorIndex(name="spike_times_index", data=np.asarray(ends, dtype=np.int64), target=spike_times)
        obs_data = VectorData(name="obs_intervals", description="Observation intervals of each unit: when its "
                              "port was recorded, s from the session start.",
                              data=np.asarray(obs, dtype=np.float64).reshape(-1, 2))
        obs_index = VectorIndex(name="obs_intervals_index", data=np.asarray(obs_ends, dtype=np.int64), target=obs_data)
        units = Units(
            name="units", description="One unit per channel of each recorded spikewire spike port.",
            resolution=RESOLUTION_S, id=np.asarray(unit_ids, dtype=np.int64),
            columns=[spike_times, st_index, obs_data, obs_index,
                     VectorData(name="electrode_group", description="The group (spikewire port) of the unit.",
                                data=col_group),
                     VectorData(name="port", description="spikewire port of the unit.", data=col_port),
                     VectorData(name="channel", description="Channel id of the unit within its port.",
                                data=np.asarray(col_channel, dtype=np.uint32))])
        nwb.units = units
    return nwb, counts


def export(xdf_path: str, out_path: str, opts: ExportOptions | None = None,
           limits: ScanLimits = ScanLimits()) -> ExportSummary:
    """Read `xdf_path` and write `out_path` (via a temporary file in the same folder, renamed at the end,
    so a failed export leaves no partial file)."""
    from pynwb import NWBHDF5IO

    opts = opts or ExportOptions()
    if os.path.exists(out_path) and not opts.overwrite:
        raise NwbExportError("out-exists", f"{out_path} exists (use --overwrite)")
    t0 = time.perf_counter()
    rec = read_recording(xdf_path, limits)
    t1 = time.perf_counter()
    nwb, counts = build_nwbfile(rec, opts)
    folder = os.path.dirname(os.path.abspath(out_path))
    fd, tmp = tempfile.mkstemp(prefix=".spikewire-nwb-", suffix=".nwb", dir=folder)
    os.close(fd)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            with NWBHDF5IO(tmp, "w") as io:
                io.write(nwb)
        os.replace(tmp, out_path)
    except NwbExportError:
        raise
    except Exception as e:
        raise NwbExportError("nwb-write-failed", f"{type(e).__name__}: {e}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    t2 = time.perf_counter()
    return ExportSummary(
        xdf=xdf_path, nwb=out_path, ports=len(rec.ports), units=counts["units"], spikes=counts["spikes"],
        events=counts["events"], skipped_streams=rec.skipped, truncated_bytes=rec.truncated_bytes,
        inexact_times=sum(p.inexact_times for p in rec.ports), session_start_us=session_start_us(rec),
        read_s=round(t1 - t0, 6), write_s=round(t2 - t1, 6), xdf_bytes=os.path.getsize(xdf_path),
        nwb_bytes=os.path.getsize(out_path))
