"""NWB export of recordings made by the real recorder (`spikewire record`, TypeScript): read back with pynwb
(every spike time equal to the recording's to the µs, every weighted event's channel, time and value),
validated with nwbinspector (no CRITICAL or BEST_PRACTICE_VIOLATION finding), the recording read with pyxdf
as the reference; a recording cut short inside its last chunk exports up to its last complete chunk."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyxdf

from _xdfrec import Recorded, record, wait_until

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

SUBJECT = ["--subject-id", "culture-1", "--species", "Rattus norvegicus", "--sex", "U", "--age", "P21D",
           "--subject-description", "dissociated hippocampal culture (a test recording of spikewire sources)",
           "--experimenter", "Doe, Jane", "--institution", "spikewire tests", "--lab", "lab-bridges",
           "--experiment-description", "spikewire record of a Poisson source and two weighted ports"]


def export_cli(xdf: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spikewire.nwb", str(xdf), "--out", str(out), "--json", *extra],
                          capture_output=True, text=True, timeout=120)


def reference(xdf: Path) -> dict[str, dict[str, Any]]:
    """The recording as pyxdf reads it (no clock synchronisation, no dejitter): per port, µs times,
    channels and values, in file order."""
    streams, _ = pyxdf.load_xdf(str(xdf), synchronize_clocks=False, dejitter_timestamps=False,
                                handle_clock_resets=False)
    out: dict[str, dict[str, Any]] = {}
    for s in streams:
        desc = s["info"]["desc"][0]
        if not desc or "spikewire" not in desc or "kind" not in desc["spikewire"][0]:
            continue
        sw = desc["spikewire"][0]
        ts = np.asarray(s["time_stamps"], dtype=np.float64)
        series = np.asarray(s["time_series"])
        rel = np.rint(ts * 1e6).astype(np.int64)
        assert np.array_equal(rel / 1e6, ts), "the recorder's stamps are whole µs / 1e6"
        us = rel + int(sw["time_origin_us"][0])   # seconds since the file's time origin (docs/recording.md)
        entry: dict[str, Any] = {"kind": sw["kind"][0], "channels": int(sw["channels"][0]), "us": us,
                                 "peer": sw["peer"][0], "node": sw["node"][0]}
        if entry["kind"] == "spike":
            entry["ch"] = series.reshape(-1).astype(np.int64)
        else:
            entry["ch"] = series[:, 0].astype(np.int64)
            entry["value"] = series[:, 1].astype(np.float64)
        out[sw["port"][0]] = entry
    return out


def inspect(nwb: Path) -> list[Any]:
    from nwbinspector import inspect_nwbfile
    return list(inspect_nwbfile(nwbfile_path=str(nwb)))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    return record(tmp_path_factory.mktemp("nwb-rec"), duration_s=3.0)


def test_recorder_file_exports_exactly(recorded: Recorded, tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    ref = reference(recorded.xdf)
    assert set(ref) == {"spikes", "stim", "weights"}
    assert recorded.summary["missing"] == 0 and recorded.summary["lost"] == 0
    assert ref["spikes"]["us"].size > 100 and ref["stim"]["us"].size > 10 and ref["weights"]["us"].size > 50

    out = tmp_path / "rec.nwb"
    r = export_cli(recorded.xdf, out, *SUBJECT)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.splitlines()[-1])
    assert summary["event"] == "exported"
    assert summary["spikes"] == ref["spikes"]["us"].size
    assert summary["events"] == ref["stim"]["us"].size + ref["weights"]["us"].size
    assert summary["units"] == 8 and summary["inexact_times"] == 0 and summary["truncated_bytes"] == 0

    with NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        n0 = (nwb.session_start_time - EPOCH) // timedelta(microseconds=1)
        # the session starts at the recording's first time, to the µs
        assert n0 == summary["session_start_us"]
        assert n0 <= min(int(e["us"].min()) for e in ref.values())
        for peer in (recorded.ts_peer, recorded.py_peer):
            assert peer in nwb.session_description
        for port in ("spikes", "stim", "weights"):
            assert port in nwb.session_description

        # Units: one per channel, every spike time equal to the recording's to the µs
        units = nwb.units
        assert len(units) == 8
        assert units.resolution == 1e-6
        spikes = ref["spikes"]
        for i in range(len(units)):
            ch = int(units["channel"][i])
            assert units["port"][i] == "spikes" and ch == i
            got = np.rint(np.asarray(units["spike_times"][i]) * 1e6).astype(np.int64) + n0
            want = np.sort(spikes["us"][spikes["ch"] == ch])
            assert np.array_equal(got, want), f"unit {i}"
            obs = np.asarray(units["obs_intervals"][i])
            assert obs.shape[1] == 2 and obs.shape[0] >= 1
            t = np.asarray(units["spike_times"][i])
            inside = np.zeros(t.size, bool)
            for a, b in obs:
                inside |= (t >= a) & (t <= b)
            assert inside.all(), "every spike lies in an observation interval"
            assert units["electrode_group"][i].device.name == "spikes"

        # weighted events: every event's time, channel and value
        for port in ("stim", "weights"):
            table = nwb.events[port]
            e = ref[port]
            order = np.argsort(e["us"], kind="stable")
            got_us = np.rint(np.asarray(table["timestamp"].data[:]) * 1e6).astype(np.int64) + n0
            assert np.array_equal(got_us, e["us"][order])
            assert np.array_equal(np.asarray(table["channel"].data[:]).astype(np.int64), e["ch"][order])
            assert np.array_equal(np.asarray(table["value"].data[:]).astype(np.float64), e["value"][order])
            assert table["timestamp"].resolution == 1e-6
            assert e["peer"] in table.source_description
        assert np.any(ref["weights"]["value"] != 0) and np.any(ref["weights"]["value"] == np.float32(1e-30))

        # devices: the port description, with the model and its parameters
        assert "model electrode: gain=2 mV" in nwb.devices["stim"].description
        assert "model stimulator: amplitude=1.5 uA" in nwb.devices["weights"].description
        assert nwb.devices["spikes"].serial_number == f"{recorded.ts_peer}/spikes"
        assert "rate=150 Hz" in nwb.devices["spikes"].description
        assert nwb.subject.species == "Rattus norvegicus"

    findings = inspect(out)
    bad = [f for f in findings if f.importance.name in ("CRITICAL", "BEST_PRACTICE_VIOLATION", "ERROR", "PYNWB_VALIDATION")]
    assert bad == [], [(f.importance.name, f.check_function_name, f.message) for f in bad]


def test_without_subject_only_the_subject_is_critical(recorded: Recorded, tmp_path: Path) -> None:
    out = tmp_path / "nosubject.nwb"
    r = export_cli(recorded.xdf, out)
    assert r.returncode == 0, r.stderr
    assert "--subject-id" in r.stderr
    findings = inspect(out)
    bad = {f.check_function_name for f in findings if f.importance.name in ("CRITICAL", "BEST_PRACTICE_VIOLATION")}
    assert bad == {"check_subject_exists"}


def test_identifier_is_stable_per_recording(recorded: Recorded, tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    from spikewire.nwb import NwbExportError, export

    ids = []
    for name in ("a.nwb", "b.nwb"):
        export(str(recorded.xdf), str(tmp_path / name))
        with NWBHDF5IO(str(tmp_path / name), "r") as io:
            ids.append(io.read().identifier)
    assert ids[0] == ids[1]
    with pytest.raises(NwbExportError) as info:
        export(str(recorded.xdf), str(tmp_path / "a.nwb"))
    assert info.value.code == "out-exists"


def test_cut_short_recording_exports_up_to_its_last_complete_chunk(recorded: Recorded, tmp_path: Path) -> None:
    """A killed recorder leaves a file cut inside a chunk: the export reads every complete chunk, reports the
    bytes it left, and its events are those pyxdf finds in the complete part."""
    from pynwb import NWBHDF5IO

    data = recorded.xdf.read_bytes()
    cut = tmp_path / "cut.xdf"
    cut.write_bytes(data[: len(data) * 2 // 3])
    r = export_cli(cut, tmp_path / "cut.nwb")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.splitlines()[-1])
    assert s["truncated_bytes"] > 0
    # pyxdf on the complete part alone (the reference reader; it cannot open the cut file cleanly)
    whole = tmp_path / "whole.xdf"
    whole.write_bytes(data[: len(data) * 2 // 3 - s["truncated_bytes"]])
    ref = reference(whole)
    assert s["spikes"] == ref["spikes"]["us"].size > 0
    assert s["events"] == sum(ref[p]["us"].size for p in ("stim", "weights") if p in ref)
    with NWBHDF5IO(str(tmp_path / "cut.nwb"), "r") as io:
        nwb = io.read()
        n0 = s["session_start_us"]
        got = np.sort(np.concatenate([np.rint(np.asarray(nwb.units["spike_times"][i]) * 1e6).astype(np.int64) + n0
                                      for i in range(len(nwb.units))]))
        assert np.array_equal(got, np.sort(ref["spikes"]["us"]))


def test_recorder_clock_agrees_with_pyxdf_synchronisation(recorded: Recorded, tmp_path: Path) -> None:
    """--clock recorder maps each publisher's times with the recorded clock estimates: every spike lands
    where pyxdf's own clock synchronisation puts it, within the estimate's uncertainty (footer)."""
    from pynwb import NWBHDF5IO
    from spikewire.nwb import ExportOptions, export

    s = export(str(recorded.xdf), str(tmp_path / "rc.nwb"), ExportOptions(clock="recorder"))
    streams, _ = pyxdf.load_xdf(str(recorded.xdf), synchronize_clocks=True, dejitter_timestamps=False)
    sp = next(x for x in streams if x["info"]["name"][0] == "spikes")
    sw = sp["info"]["desc"][0]["spikewire"][0]
    origin = int(sw["time_origin_us"][0])
    uncertainty = float(sp["footer"]["info"]["spikewire"][0]["clock_uncertainty_us"][0])
    synced = np.sort(origin + sp["time_stamps"] * 1e6)
    with NWBHDF5IO(str(tmp_path / "rc.nwb"), "r") as io:
        nwb = io.read()
        assert "recorder's clock" in nwb.session_description
        n0 = s.session_start_us
        got = np.sort(np.concatenate([np.asarray(nwb.units["spike_times"][i]) * 1e6 + n0
                                      for i in range(len(nwb.units))]))
    assert got.size == synced.size > 100
    # pyxdf fits one line through the offsets, the export interpolates between them: the two differ by at
    # most the spread of the estimates (early ones may not have converged) plus the last one's uncertainty
    values_us = -np.asarray(sp["clock_values"]) * 1e6
    spread = float(values_us.max() - values_us.min()) if values_us.size else 0.0
    assert np.max(np.abs(got - synced)) <= spread + uncertainty + 1


def test_publisher_restart_becomes_an_observation_gap(tmp_path: Path) -> None:
    """A publisher stopped and restarted (same key, same address) under the recorder: the recorder logs the
    reconnect gap, and every unit's obs_intervals leave it out — with every spike of both sides inside."""
    import socket
    import time

    from pynwb import NWBHDF5IO
    from spikewire.events.tsproc import BIN, ROOT, Proc, node_env

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = {"name": "restarting", "identity": "restarting.key", "listen": [f"/ip4/127.0.0.1/tcp/{port}"],
           "ports": [{"name": "spikes", "direction": "out", "channels": 2,
                      "source": {"type": "poisson", "rateHz": 200, "seed": 5}}]}
    (tmp_path / "pub.json").write_text(json.dumps(cfg))
    args = ["node", str(BIN), "node", "--config", str(tmp_path / "pub.json"), "--json"]
    xdf = tmp_path / "restart.xdf"
    pub = Proc(args)
    rec = None
    try:
        started = pub.json_line(lambda o: o.get("event") == "started")
        addr = next(a for a in started["multiaddrs"] if a.startswith("/ip4/127.0.0.1/"))
        rec = Proc(["node", str(BIN), "record", addr, "spikes", "--out", str(xdf), "--duration", "8", "--json",
                    "--progress", "60"])
        opens = lambda: sum('"open"' in line for line in rec.stderr)  # noqa: E731
        wait_until(lambda: opens() >= 1)
        time.sleep(1.5)
        pub.stop()
        time.sleep(1.0)
        pub = Proc(args)
        assert pub.json_line(lambda o: o.get("event") == "started")["peer"] == started["peer"]
        wait_until(lambda: opens() >= 2)
        summary = rec.json_line(lambda o: o.get("summary") is True, timeout=30)
    finally:
        pub.stop()
        if rec is not None:
            rec.stop()
    assert summary["streams"][0]["reconnects"] >= 1, summary

    r = export_cli(xdf, tmp_path / "restart.nwb")
    assert r.returncode == 0, r.stderr
    with NWBHDF5IO(str(tmp_path / "restart.nwb"), "r") as io:
        nwb = io.read()
        for i in range(len(nwb.units)):
            obs = np.asarray(nwb.units["obs_intervals"][i])
            t = np.asarray(nwb.units["spike_times"][i])
            assert obs.shape[0] >= 2, obs
            gap = obs[1][0] - obs[0][1]
            assert gap > 0.5, obs            # the publisher was down for about 1 s
            assert t.size and not np.any((t > obs[0][1]) & (t < obs[1][0]))
            assert np.all((t >= obs[0][0]) & (t <= obs[-1][1]))
