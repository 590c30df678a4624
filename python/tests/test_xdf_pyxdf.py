"""pyxdf, the standard XDF reader, loads every kind of file `spikewire record` writes: the recorder and a
TypeScript publisher of known events run as child processes; every event, channel, value and µs time is
found exactly; a file cut short loads up to its last complete chunk where pyxdf can (see
docs/recording.md, "Truncated files", for what pyxdf 1.17.5 does with each kind of cut)."""

from __future__ import annotations

import json
import random
import struct
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyxdf

from _tsnode import REPO, WAIT_S, Child, _env, node_binary

PUBLISHER = REPO / "bench" / "record-publisher.ts"
SPIKEWIRE = REPO / "bin" / "spikewire.js"


@contextmanager
def child(*args: str) -> Iterator[Child]:
    proc = subprocess.Popen([node_binary(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(), cwd=str(REPO))
    c = Child(proc)
    try:
        c.start_reader()
        yield c
    finally:
        c.stop()


def record(tmp: Path, name: str, *, kill: bool = False, rate: int = 1000, seconds: float = 1.5
           ) -> tuple[Path, dict[str, Any], list[dict[str, Any]]]:
    """Record the publisher's two ports; SIGINT after the publisher is done (or SIGKILL while it emits)."""
    out = tmp / f"{name}.xdf"
    events_file = tmp / f"{name}-events.json"
    with child(str(PUBLISHER), "--rate", str(rate), "--seconds", str(seconds), "--events", str(events_file)) as pub:
        addr = pub.wait_json(lambda o: o.get("event") == "started")["multiaddrs"][0]
        proc = subprocess.Popen([node_binary(), str(SPIKEWIRE), "record", addr, "spikes", addr, "weights",
                                 "--out", str(out), "--json", "--progress", "0.2", "--boundary-s", "0.5"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=str(REPO))
        try:
            pub.wait_json(lambda o: o.get("event") == "emitting")
            if kill:
                time.sleep(seconds / 2)
                proc.kill()
                proc.wait(WAIT_S)
                return out, {}, []
            pub.wait_json(lambda o: o.get("event") == "done")
            time.sleep(0.5)
            proc.send_signal(2)
            stdout, stderr = proc.communicate(timeout=WAIT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(WAIT_S)
        assert proc.returncode == 0, stderr
        summary = json.loads(stdout.strip().splitlines()[-1])
        return out, json.loads(events_file.read_text()), [summary]


def by_name(streams: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["info"]["name"][0]: s for s in streams}


def us(stamps: np.ndarray, origin: int = 0) -> list[int]:
    """µs since the epoch: the stream's time_origin_us + round(stamp * 1e6)."""
    return [origin + int(x) for x in np.rint(stamps * 1e6).astype(np.int64)]


def origin_of(stream: dict[str, Any]) -> int:
    return int(stream["info"]["desc"][0]["spikewire"][0]["time_origin_us"][0])


def test_pyxdf_finds_every_event_channel_value_and_time(tmp_path: Path) -> None:
    path, sent, (summary,) = record(tmp_path, "full")
    assert summary["missing"] == 0 and summary["lost"] == 0
    assert summary["events"] == len(sent["spikes"]) + len(sent["weights"])

    streams, header = pyxdf.load_xdf(str(path), synchronize_clocks=False, dejitter_timestamps=False)
    assert header["info"]["version"] == ["1.0"]
    s = by_name(streams)
    assert set(s) == {"spikes", "weights", "spikewire-recorder"}

    spikes, weights, log = s["spikes"], s["weights"], s["spikewire-recorder"]
    assert spikes["info"]["channel_format"] == ["int32"] and spikes["info"]["type"] == ["Spikes"]
    assert weights["info"]["channel_format"] == ["double64"] and weights["info"]["type"] == ["Events"]
    assert spikes["info"]["nominal_srate"] == ["0"]
    # Every event: channel and µs time exactly (the stamps are µs / 1e6 of the publisher's clock).
    assert [int(c) for c in spikes["time_series"][:, 0]] == [e[0] for e in sent["spikes"]]
    origin = origin_of(spikes)
    assert origin == int(header["info"]["spikewire"][0]["time_origin_us"][0]) == origin_of(weights)
    assert us(spikes["time_stamps"], origin) == [e[1] for e in sent["spikes"]]
    assert [int(c) for c in weights["time_series"][:, 0]] == [e[0] for e in sent["weights"]]
    assert list(weights["time_series"][:, 1]) == [e[2] for e in sent["weights"]]
    assert us(weights["time_stamps"], origin) == [e[1] for e in sent["weights"]]

    # The desc pyxdf gives (it drops XML attributes, so the recorder writes none).
    sw = spikes["info"]["desc"][0]["spikewire"][0]
    assert sw["port"] == ["spikes"] and sw["kind"] == ["spike"] and sw["channels"] == ["16"]
    assert spikes["info"]["source_id"] == [f"{sw['peer'][0]}/spikes"]
    model = sw["model"][0]
    assert model["name"] == ["poisson"] and model["param"][0]["name"] == ["rate"]
    # Footers: counts and clock offsets.
    for st in (spikes, weights):
        f = st["footer"]["info"]
        assert int(f["sample_count"][0]) == len(st["time_stamps"])
        assert float(f["first_timestamp"][0]) == st["time_stamps"][0]
        assert float(f["last_timestamp"][0]) == st["time_stamps"][-1]
        assert f["spikewire"][0]["missing"] == ["0"] and f["spikewire"][0]["lost"] == ["0"]
        assert len(st["clock_times"]) >= 1 and len(st["clock_values"]) == len(st["clock_times"])
    entries = [json.loads(x[0]) for x in log["time_series"]]
    assert [e["event"] for e in entries].count("open") == 2
    assert entries[-1]["event"] == "stop" and entries[-1]["events"] == summary["events"]

    # With pyxdf's defaults the stamps are mapped into the recorder's clock through the clock offsets: pyxdf
    # adds the line it fits through the recorded (collection time, offset) pairs. On one machine the offsets
    # are small; early (unconverged) estimates make the line's slope visible over a short recording.
    synced = by_name(pyxdf.load_xdf(str(path))[0])
    for name in ("spikes", "weights"):
        raw = s[name]["time_stamps"]
        shift = synced[name]["time_stamps"] - raw
        times, values = np.array(s[name]["clock_times"]), np.array(s[name]["clock_values"])
        assert np.all(np.abs(values) < 0.05) and np.all(np.abs(shift) < 0.05)
        if len(times) >= 2:
            slope, intercept = np.polyfit(times, values, 1)
            assert np.all(np.abs(shift - (intercept + slope * raw)) < 5e-4)


def chunks(data: bytes) -> list[tuple[int, int, int, int]]:
    """(start, content start, end, tag) of every complete chunk after the magic code."""
    out = []
    pos = 4
    while pos < len(data):
        n = data[pos]
        if pos + 1 + n > len(data):
            break
        length = int.from_bytes(data[pos + 1:pos + 1 + n], "little")
        body = pos + 1 + n
        if body + length > len(data):
            break
        out.append((pos, body, body + length, struct.unpack("<H", data[body:body + 2])[0]))
        pos = body + length
    return out


def cut_in(data: bytes, cut: int) -> tuple[int, int | None, int, int]:
    """For a file cut at `cut`: the end of the last complete chunk, the tag of the chunk the cut is in (None
    when the cut falls between chunks), how many bytes of that chunk remain, and its NumLengthBytes."""
    done = 4
    for start, _body, end, tag in chunks(data):
        if end <= cut:
            done = end
            continue
        if cut == start:
            return done, None, 0, 0
        return done, tag, cut - start, data[start]
    return done, None, 0, 0


def pyxdf_raises(tag: int | None, into: int, nlb: int) -> bool:
    """What pyxdf 1.17.5 does with a file that ends `into` bytes into a chunk (read from its load_xdf): a
    short length, stream id, Samples chunk, Boundary or footer ends the load with what it has; a short tag,
    a short StreamHeader or FileHeader XML or a short ClockOffset raises (struct.error, ParseError)."""
    if tag is None:
        return False
    head = 1 + nlb
    if into < head:
        return False  # the length field: caught, the load ends
    if into < head + 2:
        return True  # the tag: struct.error
    if tag == 1:
        return True
    if tag in (2, 3, 4, 6) and into < head + 6:
        return False  # the stream id: caught, pyxdf scans forward to the end
    return tag in (2, 4)


def load(path: Path) -> dict[str, dict[str, Any]]:
    return by_name(pyxdf.load_xdf(str(path), synchronize_clocks=False, dejitter_timestamps=False)[0])


def test_pyxdf_loads_a_truncated_file_up_to_its_last_complete_chunk(tmp_path: Path) -> None:
    path, _sent, _ = record(tmp_path, "cut", rate=500, seconds=1.0)
    data = path.read_bytes()
    whole = load(path)
    all_chunks = chunks(data)
    rng = random.Random(7)
    cuts = {rng.randrange(all_chunks[3][0], len(data)) for _ in range(80)}
    # A cut at every byte of a few chunks of each kind (Samples, ClockOffset, Boundary, footer).
    for kind in (3, 4, 5, 6):
        c = next(c for c in all_chunks[3:] if c[3] == kind)
        cuts |= set(range(c[0], c[2] + 1))
    outcomes = {"loaded": 0, "raised": 0, "last value cut": 0}
    widths = {"spikes": 4, "weights": 16}
    for cut in sorted(cuts):
        done, tag, into, nlb = cut_in(data, cut)
        p = tmp_path / "t.xdf"
        p.write_bytes(data[:cut])
        if pyxdf_raises(tag, into, nlb):
            with pytest.raises(Exception):
                load(p)
            outcomes["raised"] += 1
            continue
        got = load(p)
        ref_path = tmp_path / "c.xdf"
        ref_path.write_bytes(data[:done])
        ref = load(ref_path)
        for name, st in ref.items():
            n = len(st["time_stamps"])
            m = len(got[name]["time_stamps"])
            # Every time stamp pyxdf returns is the whole file's.
            assert us(got[name]["time_stamps"]) == us(whole[name]["time_stamps"][:m])
            if m == n:
                if name != "spikewire-recorder":
                    assert np.array_equal(got[name]["time_series"], whole[name]["time_series"][:n])
                continue
            # pyxdf 1.17.5 reads values with readinto/read and does not check their length: a file that ends
            # inside the LAST sample's value bytes of a Samples chunk gives that whole chunk, its last value
            # cut short (stale bytes for numbers, a prefix for strings). Only that case, only that value.
            assert tag == 3, (cut, name, m, n)
            start = cut - into
            end = start + 1 + nlb + int.from_bytes(data[start + 1:start + 1 + nlb], "little")
            if name in widths:
                assert end - cut < widths[name], (cut, name)
                assert np.array_equal(got[name]["time_series"][:m - 1], whole[name]["time_series"][:m - 1])
            else:
                assert whole[name]["time_series"][m - 1][0].startswith(got[name]["time_series"][m - 1][0])
            outcomes["last value cut"] += 1
        outcomes["loaded"] += 1
    assert outcomes["loaded"] > outcomes["raised"] > 0, outcomes


def test_pyxdf_loads_the_file_of_a_killed_recorder(tmp_path: Path) -> None:
    path, _sent, _ = record(tmp_path, "killed", kill=True, rate=2000, seconds=3.0)
    streams = by_name(pyxdf.load_xdf(str(path), synchronize_clocks=False, dejitter_timestamps=False)[0])
    assert "footer" not in streams["spikes"]
    assert len(streams["spikes"]["time_stamps"]) > 0
    assert np.all(np.diff(streams["spikes"]["time_stamps"]) >= 0)
    # The same with clock synchronisation (the default).
    assert len(by_name(pyxdf.load_xdf(str(path))[0])["spikes"]["time_stamps"]) == len(streams["spikes"]["time_stamps"])
