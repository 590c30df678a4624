"""A broken or hostile XDF file ends the export with a typed error (a stable code, exit status 2), never a
crash or an allocation the file asks for; foreign streams are skipped and reported."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _xdfrec import chunk, file_header, footer, samples, stream_header, varlen
from spikewire.nwb import EXPORT_CODES, ExportOptions, NwbExportError, build_nwbfile, export, read_recording

MAGIC = b"XDF:"
T0 = 1_800_000_000.0          # s, a 2027 time stamp


def valid(n: int = 40) -> bytes:
    times = [T0 + i * 0.001 for i in range(n)]
    return (MAGIC + file_header() + stream_header(1, "spike", 4)
            + samples(1, times, [[i % 4] for i in range(n)])
            + stream_header(2, "weighted", 2)
            + samples(2, times[:10], [[i % 2, 0.25 * i] for i in range(10)], "double64")
            + footer(1, times[0], times[-1], n))


def samples_raw(sid: int, body: bytes) -> bytes:
    return chunk(3, struct.pack("<I", sid) + body)


CASES: dict[str, tuple[bytes, str]] = {
    "bad magic": (b"XDF!" + valid()[4:], "xdf-bad-magic"),
    "length field of 3 bytes": (MAGIC + file_header() + b"\x03\x00\x00\x00\x02\x00", "xdf-corrupt"),
    "chunk length 1": (MAGIC + file_header() + b"\x01\x01\x02", "xdf-corrupt"),
    "chunk of 2^40 bytes": (MAGIC + file_header() + b"\x08" + struct.pack("<Q", 2**40) + b"\x03\x00" + b"\x00" * 64,
                            "xdf-too-large"),
    "2^31 samples claimed": (MAGIC + stream_header(1) + samples_raw(1, varlen(2**31) + b"\x08" + b"\x00" * 12),
                             "xdf-too-large"),
    "samples do not fill the chunk": (MAGIC + stream_header(1) + samples_raw(1, varlen(1) + b"\x08" + b"\x00" * 13),
                                      "xdf-corrupt"),
    "samples run past the chunk": (MAGIC + stream_header(1) + samples_raw(1, varlen(2) + b"\x08" + b"\x00" * 12),
                                   "xdf-corrupt"),
    "TimeStampBytes 3": (MAGIC + stream_header(1) + samples_raw(1, varlen(1) + b"\x03" + b"\x00" * 7), "xdf-corrupt"),
    "samples before their header": (MAGIC + samples(1, [T0], [[0]]), "xdf-corrupt"),
    "two headers for one stream": (MAGIC + stream_header(1) + stream_header(1), "xdf-corrupt"),
    "stream id missing": (MAGIC + chunk(2, b"\x01\x00"), "xdf-corrupt"),
    "clock offset of 8 bytes": (MAGIC + stream_header(1) + chunk(4, struct.pack("<Id", 1, 0.0)), "xdf-corrupt"),
    "clock offset NaN": (MAGIC + stream_header(1) + chunk(4, struct.pack("<Idd", 1, float("nan"), 0.0)), "xdf-corrupt"),
    "boundary without its UUID": (MAGIC + chunk(5, b"\x00" * 16), "xdf-corrupt"),
    "header XML broken": (MAGIC + chunk(2, struct.pack("<I", 1) + b"<info><name>x</info>"), "xdf-bad-xml"),
    "header XML with entities": (MAGIC + chunk(1, b'<!DOCTYPE x [<!ENTITY a "aaaa">]><info>&a;</info>'), "xdf-bad-xml"),
    "header XML of 2 MiB": (MAGIC + chunk(1, b"<info>" + b"a" * (2 << 20) + b"</info>"), "xdf-too-large"),
    "channel_count 0": (MAGIC + stream_header(1, count=0), "xdf-bad-stream"),
    "channel_count 2^20": (MAGIC + stream_header(1, count=2**20), "xdf-bad-stream"),
    "channel_format float128": (MAGIC + stream_header(1, fmt="float128"), "xdf-bad-stream"),
    "spike port as double64": (MAGIC + stream_header(1, "spike", fmt="double64"), "xdf-layout"),
    "weighted port as 1 channel": (MAGIC + stream_header(1, "weighted", count=1), "xdf-layout"),
    "kind neither spike nor weighted": (MAGIC + stream_header(1, "burst"), "xdf-layout"),
    "port channels 0": (MAGIC + stream_header(1, "spike", 0), "xdf-layout"),
    "channel outside the port": (MAGIC + stream_header(1, "spike", 4) + samples(1, [T0], [[4]]), "xdf-bad-sample"),
    "negative channel": (MAGIC + stream_header(1, "spike", 4) + samples(1, [T0], [[-1]]), "xdf-bad-sample"),
    "time NaN": (MAGIC + stream_header(1) + samples(1, [float("nan")], [[0]]), "xdf-bad-sample"),
    "time before the epoch": (MAGIC + stream_header(1) + samples(1, [-1.0], [[0]]), "xdf-bad-sample"),
    "time before the epoch with an origin": (MAGIC + stream_header(1, extra="<time_origin_us>1000000</time_origin_us>")
                                             + samples(1, [-1.5], [[0]]), "xdf-bad-sample"),
    "time origin not a number": (MAGIC + stream_header(1, extra="<time_origin_us>soon</time_origin_us>")
                                 + samples(1, [1.0], [[0]]), "xdf-layout"),
    "time beyond 2^53 µs": (MAGIC + stream_header(1) + samples(1, [1e10], [[0]]), "xdf-bad-sample"),
    "weighted channel 0.5": (MAGIC + stream_header(1, "weighted", 2) + samples(1, [T0], [[0.5, 1.0]], "double64"),
                             "xdf-bad-sample"),
    "weighted value infinite": (MAGIC + stream_header(1, "weighted", 2)
                                + samples(1, [T0], [[0, float("inf")]], "double64"), "xdf-bad-sample"),
    "no spikewire stream": (MAGIC + file_header() + chunk(2, struct.pack("<I", 1) + b"<info><name>eeg</name>"
                            b"<channel_count>1</channel_count><channel_format>float32</channel_format>"
                            b"<nominal_srate>100</nominal_srate></info>"), "xdf-no-streams"),
    "empty file after the magic": (MAGIC, "xdf-no-streams"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_has_a_typed_error(name: str, tmp_path: Path) -> None:
    data, code = CASES[name]
    assert code in EXPORT_CODES
    path = tmp_path / "bad.xdf"
    path.write_bytes(data)
    with pytest.raises(NwbExportError) as info:
        export(str(path), str(tmp_path / "out.nwb"))
    assert info.value.code == code, info.value
    assert not (tmp_path / "out.nwb").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.xdf"], "no temporary file is left behind"


def test_cli_reports_the_code_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.xdf"
    path.write_bytes(CASES["2^31 samples claimed"][0])
    r = subprocess.run([sys.executable, "-m", "spikewire.nwb", str(path), "--out", str(tmp_path / "o.nwb"), "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    line = json.loads(r.stdout)
    assert line["event"] == "error" and line["code"] == "xdf-too-large"
    assert line["offset"] == len(MAGIC + stream_header(1)), "the offset of the Samples chunk"
    assert "Traceback" not in r.stderr and "spikewire.nwb: xdf-too-large:" in r.stderr
    r = subprocess.run([sys.executable, "-m", "spikewire.nwb", str(tmp_path / "missing.xdf"), "--out",
                        str(tmp_path / "o.nwb")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "xdf-not-found" in r.stderr and "Traceback" not in r.stderr


def test_too_many_units(tmp_path: Path) -> None:
    path = tmp_path / "wide.xdf"
    path.write_bytes(MAGIC + stream_header(1, "spike", 3000) + samples(1, [T0], [[2999]]))
    with pytest.raises(NwbExportError) as info:
        export(str(path), str(tmp_path / "o.nwb"), ExportOptions(max_units=2999))
    assert info.value.code == "too-many-units"
    s = export(str(path), str(tmp_path / "o.nwb"), ExportOptions(max_units=3000, compression=False))
    assert s.units == 3000 and s.spikes == 1
    path.write_bytes(MAGIC + stream_header(1, "spike", 2**32 - 1) + samples(1, [T0], [[5]]))
    with pytest.raises(NwbExportError) as info:   # the default limit, before anything is allocated per unit
        export(str(path), str(tmp_path / "o2.nwb"))
    assert info.value.code == "too-many-units"


def test_foreign_streams_skipped_and_mixed_time_stamps(tmp_path: Path) -> None:
    """A string stream (not spikewire) is skipped and named; samples that leave their time stamp out
    (TimeStampBytes 0: same time as the previous sample, at nominal rate 0) are read."""
    marker = (chunk(2, struct.pack("<I", 9) + b"<info><name>markers</name><channel_count>1</channel_count>"
                    b"<channel_format>string</channel_format><nominal_srate>0</nominal_srate></info>")
              + samples_raw(9, varlen(1) + b"\x08" + struct.pack("<d", T0) + varlen(3) + b"abc"))
    no_stamp = samples_raw(1, varlen(2) + b"\x08" + struct.pack("<d", T0 + 1) + struct.pack("<i", 1)
                           + b"\x00" + struct.pack("<i", 2))
    path = tmp_path / "mixed.xdf"
    path.write_bytes(valid() + marker + no_stamp)
    rec = read_recording(str(path))
    assert rec.skipped == ["markers"]
    spikes = next(p for p in rec.ports if p.kind == "spike")
    assert spikes.time_us[-2:].tolist() == [int(round((T0 + 1) * 1e6))] * 2
    assert spikes.channel[-2:].tolist() == [1, 2]
    s = export(str(path), str(tmp_path / "o.nwb"))
    assert s.skipped_streams == ["markers"] and s.spikes == 42 and s.events == 10


def test_mutated_files_never_crash(tmp_path: Path) -> None:
    """400 random mutations of a valid file (byte changes, cuts, insertions): each one reads and builds an
    NWB file, or ends with an NwbExportError; nothing else escapes."""
    base = valid(200)
    rng = np.random.default_rng(11)
    path = tmp_path / "m.xdf"
    outcomes: dict[str, int] = {}
    for _ in range(400):
        data = bytearray(base)
        op = rng.integers(0, 3)
        if op == 0:
            for _ in range(int(rng.integers(1, 4))):
                data[int(rng.integers(4, len(data)))] = int(rng.integers(0, 256))
        elif op == 1:
            data = data[: int(rng.integers(4, len(data)))]
        else:
            at = int(rng.integers(4, len(data)))
            data[at:at] = bytes(rng.integers(0, 256, int(rng.integers(1, 9))).astype(np.uint8))
        path.write_bytes(bytes(data))
        try:
            build_nwbfile(read_recording(str(path)), ExportOptions())
            key = "ok"
        except NwbExportError as e:
            key = e.code
        outcomes[key] = outcomes.get(key, 0) + 1
    assert outcomes.get("ok", 0) > 0 and len(outcomes) > 3, outcomes


def test_time_origin_and_stamps_before_it(tmp_path: Path) -> None:
    """Stamps are seconds since the stream's time origin (docs/recording.md); a publisher whose clock is
    behind the recorder's has stamps below 0, which are valid times."""
    origin = 1_800_000_000_000_000
    extra = f"<time_origin_us>{origin}</time_origin_us>"
    path = tmp_path / "origin.xdf"
    path.write_bytes(MAGIC + stream_header(1, "spike", 2, extra=extra)
                     + samples(1, [-0.25, 0.0, 1.000001], [[0], [1], [0]]) + footer(1, -0.25, 1.000001, 3))
    rec = read_recording(str(path))
    p = rec.ports[0]
    assert p.time_us.tolist() == [origin - 250_000, origin, origin + 1_000_001]
    assert p.inexact_times == 0
    assert p.first_us == origin - 250_000   # the first event (the stream was created at 1.0 s, later)
    assert p.last_us == origin + 1_000_001


def test_observation_intervals_from_the_recorder_log(tmp_path: Path) -> None:
    """The log stream's reconnect gap (publisher clock) is cut out of the port's observed span, which runs
    from the stream's creation to the log's stop entry (recorder clock + θ, the footer's offset); a gap
    that holds an event is kept; the Units table carries the intervals."""
    from pynwb import NWBHDF5IO

    o = 1_800_000_000_000_000
    extra = f"<time_origin_us>{o}</time_origin_us>"
    log_header = chunk(2, struct.pack("<I", 2) + (
        "<info><name>spikewire-recorder</name><type>Markers</type><channel_count>1</channel_count>"
        "<channel_format>string</channel_format><nominal_srate>0</nominal_srate><created_at>0</created_at>"
        f"<desc><spikewire><log>entries</log>{extra}</spikewire></desc></info>").encode())
    entries = [{"time_us": o + 3_000_000, "stream": 1, "event": "gap", "reason": "reconnect",
                "fromUs": o + 2_000_000, "toUs": o + 2_500_000},
               {"time_us": o + 4_000_000, "stream": 1, "event": "gap", "reason": "reconnect",
                "fromUs": o + 3_100_000, "toUs": o + 3_300_000},          # holds an event: kept
               "not json", {"time_us": o + 6_000_000, "event": "stop"}]
    body = bytearray(varlen(len(entries)))
    for e in entries:
        text = (e if isinstance(e, str) else json.dumps(e)).encode()
        body += b"\x08" + struct.pack("<d", 3.0) + varlen(len(text)) + text
    port_footer = chunk(6, struct.pack("<I", 1) + (
        "<info><first_timestamp>1.0</first_timestamp><last_timestamp>5.0</last_timestamp><sample_count>3"
        "</sample_count><spikewire><events>3</events><clock_offset_us>100</clock_offset_us>"
        "<clock_uncertainty_us>20</clock_uncertainty_us></spikewire></info>").encode())
    data = (MAGIC + file_header() + stream_header(1, "spike", 1, extra=extra).replace(b"<created_at>1.0", b"<created_at>0.5")
            + log_header + samples(1, [1.0, 3.2, 5.0], [[0], [0], [0]]) + samples_raw(2, bytes(body)) + port_footer)
    path = tmp_path / "log.xdf"
    path.write_bytes(data)
    rec = read_recording(str(path))
    assert rec.log_unreadable == 1 and len(rec.log) == 3
    p = rec.ports[0]
    assert p.theta_us == 100
    assert p.intervals_us() == [(o + 500_100, o + 2_000_000), (o + 2_500_000, o + 6_000_100)]
    s = export(str(path), str(tmp_path / "log.nwb"))
    assert s.session_start_us == o + 500_100
    with NWBHDF5IO(str(tmp_path / "log.nwb"), "r") as io:
        nwb = io.read()
        assert np.asarray(nwb.units["obs_intervals"][0]).tolist() == [[0.0, 1.4999], [1.9999, 5.5]]
        assert "clock_offset_us=100" in nwb.devices["p1"].description


def test_recorder_clock_interpolates_the_estimates(tmp_path: Path) -> None:
    """θ = 100 µs at recorder time 0 s and 300 µs at 10 s (ClockOffset values are −θ in s): an event at
    publisher time 5 s (+θ) maps to T − 200 µs; a stream without estimates keeps its times."""
    o = 1_800_000_000_000_000
    extra = f"<time_origin_us>{o}</time_origin_us>"
    offsets = chunk(4, struct.pack("<Idd", 1, 0.0, -100e-6)) + chunk(4, struct.pack("<Idd", 1, 10.0, -300e-6))
    path = tmp_path / "clock.xdf"
    path.write_bytes(MAGIC + stream_header(1, "spike", 1, extra=extra) + offsets
                     + samples(1, [5.0002, 12.0], [[0], [0]])
                     + stream_header(2, "spike", 1, extra=extra) + samples(2, [5.0], [[0]]))
    rec = read_recording(str(path))
    p1, p2 = rec.ports
    assert p1.theta_us == pytest.approx(300)
    p1.to_recorder_clock()
    p2.to_recorder_clock()
    assert p1.time_us.tolist() == [o + 5_000_200 - 200, o + 12_000_000 - 300]
    assert p1.mapped and not p2.mapped and p2.time_us.tolist() == [o + 5_000_000]


def test_a_silent_weighted_port_has_no_empty_table(tmp_path: Path) -> None:
    """A weighted port that recorded nothing gets its Device (saying so) but no EventsTable (an empty table
    is a best-practice violation for nwbinspector); a silent spike channel is still a unit."""
    from nwbinspector import inspect_nwbfile
    from pynwb import NWBHDF5IO

    path = tmp_path / "silent.xdf"
    extra = "<time_origin_us>1700000000000000</time_origin_us>"   # 2023: not a future session start
    path.write_bytes(MAGIC + file_header() + stream_header(1, "spike", 3, extra=extra)
                     + samples(1, [0.000123, 1.5], [[0], [2]])
                     + stream_header(2, "weighted", 2, extra=extra) + footer(1, 0.000123, 1.5, 2))
    s = export(str(path), str(tmp_path / "o.nwb"), ExportOptions(
        subject={"subject_id": "s", "species": "Mus musculus", "sex": "U", "age": "P1D", "description": "d"},
        experimenter=["Doe, Jane"], institution="i", experiment_description="e"))
    assert s.units == 3 and s.events == 0
    with NWBHDF5IO(str(tmp_path / "o.nwb"), "r") as io:
        nwb = io.read()
        assert len(nwb.events) == 0 and "no events were recorded" in nwb.devices["p2"].description
        assert [len(nwb.units["spike_times"][i]) for i in range(3)] == [1, 0, 1]
    bad = [(f.importance.name, f.check_function_name) for f in inspect_nwbfile(nwbfile_path=str(tmp_path / "o.nwb"))
           if f.importance.name in ("CRITICAL", "BEST_PRACTICE_VIOLATION", "PYNWB_VALIDATION", "ERROR")]
    assert bad == []
