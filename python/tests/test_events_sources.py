"""The built-in sources: Poisson, pacemaker and replay (parameters of docs/config.md, file format of
src/models/REPLAY-FORMAT.md)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spikewire.errors import ConfigError
from spikewire.events.sources import Pacemaker, Poisson, Replay, ReplayError, from_config, parse_replay

T0 = 1_767_225_600_000_000


def test_poisson_rate_per_channel_and_order() -> None:
    p = Poisson(channels=10, rate_hz=1000, seed=5, start_us=T0)
    chs, ts = [], []
    for k in range(1, 1001):  # 1 s in 1 ms windows
        ch, t = p.advance(T0 + k * 1000)
        chs.append(ch)
        ts.append(t)
    ch, t = np.concatenate(chs), np.concatenate(ts)
    assert np.all(np.diff(t) >= 0) and t[0] > T0 and t[-1] <= T0 + 1_000_000
    # 10 channels × 1000 Hz for 1 s: 10,000 expected, Poisson sd 100.
    assert abs(len(t) - 10_000) < 500
    counts = np.bincount(ch, minlength=10)
    assert counts.min() > 800 and counts.max() < 1200
    # A seed fixes the train.
    q = Poisson(channels=10, rate_hz=1000, seed=5, start_us=T0)
    ch2 = np.concatenate([q.advance(T0 + k * 1000)[0] for k in range(1, 1001)])
    assert np.array_equal(ch, ch2)
    with pytest.raises(ConfigError):
        Poisson(channels=1, rate_hz=100_001)


def test_pacemaker_times_phase_and_channels_in_step() -> None:
    p = Pacemaker(channels=3, rate_hz=100, phase=0.5, start_us=T0)
    ch, t = p.advance(T0 + 30_000)
    assert t.tolist() == [T0 + 5000] * 3 + [T0 + 15000] * 3 + [T0 + 25000] * 3
    assert ch.tolist() == [0, 1, 2] * 3
    ch, t = p.advance(T0 + 35_000)
    assert t.tolist() == [T0 + 35000] * 3
    assert len(p.advance(T0 + 35_000)[1]) == 0


def test_replay_csv_and_ndjson_and_time_bases(tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text("channel,time_us\n0,1000\n 3 , 1250.5\n\n0,2000\n")
    ch, t = parse_replay(csv)
    assert ch.tolist() == [0, 3, 0] and t.tolist() == [1000, 1250.5, 2000]
    nd = tmp_path / "b.ndjson"
    nd.write_text('{"channel":0,"time_us":1000}\r\n{"ch":3,"t":1250.5}\n')
    assert parse_replay(nd)[0].tolist() == [0, 3]
    r = Replay(ch, t, time_base="relative", start_us=T0)
    c1, t1 = r.advance(T0 + 300)
    assert t1.tolist() == [T0, T0 + 251]  # 250.5 µs rounds up to a whole µs
    assert r.advance(T0 + 10_000)[1].tolist() == [T0 + 1000] and r.done
    a = Replay(ch, t, time_base="absolute", start_us=1200)
    assert a.skipped == 1 and a.advance(5000)[1].tolist() == [1251, 2000]


@pytest.mark.parametrize("text,code", [
    ("channel,time\n0,1\n", "bad-header"),
    ("channel,time_us\n0,1,2\n", "bad-field-count"),
    ("channel,time_us\n-1,1\n", "bad-channel"),
    ("channel,time_us\n0,1e3\n", "bad-time"),
    ("channel,time_us\n0,10\n0,5\n", "time-regression"),
    ("channel,time_us\n", "empty-file"),
    ("hello\n", "unknown-format"),
    ('{"channel":0}\n', "bad-record"),
    ('{"channel":0.5,"time_us":1}\n', "bad-channel"),
    ('{"channel":0,"time_us":"1"}\n', "bad-time"),
    ("[1]\n", "unknown-format"),
])
def test_replay_rejects_broken_files(tmp_path: Path, text: str, code: str) -> None:
    f = tmp_path / "x.txt"
    f.write_text(text)
    with pytest.raises(ReplayError) as e:
        parse_replay(f)
    assert e.value.code == code


def test_replay_channel_bound_and_size(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("channel,time_us\n4,1\n")
    with pytest.raises(ReplayError) as e:
        parse_replay(f, channels=4)
    assert e.value.code == "bad-channel" and e.value.line == 2
    with pytest.raises(ReplayError) as e:
        parse_replay(f, max_bytes=5)
    assert e.value.code == "file-too-large"


def test_sources_from_config(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("channel,time_us\n0,0\n1,10\n")
    assert isinstance(from_config({"type": "poisson", "rateHz": 5}, channels=2, base_dir=None, now=T0), Poisson)
    assert isinstance(from_config({"type": "pacemaker", "rateHz": 5, "phase": 0.1}, channels=2, base_dir=None,
                                  now=T0), Pacemaker)
    r = from_config({"type": "replay", "file": "r.csv"}, channels=2, base_dir=tmp_path, now=T0)
    assert isinstance(r, Replay) and r.advance(T0 + 10)[1].tolist() == [T0, T0 + 10]
