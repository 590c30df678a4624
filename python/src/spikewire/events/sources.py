"""Built-in sources that drive an out port in real time, with the parameters of the node config
(docs/config.md, "Sources"): ``poisson`` (rateHz per channel, seed), ``pacemaker`` (rateHz, phase) and
``replay`` (file, format, timeBase, start; file format: src/models/REPLAY-FORMAT.md).

A source is sans-IO: ``advance(to_us)`` returns the events with times in (previous horizon, to_us] as
numpy columns. :func:`drive` runs one against the clock and emits into the port every ``tick_s``.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import trio

from ..errors import ConfigError, SpikewireError
from .clock import Clock
from .ports import OutPort

Columns = tuple[np.ndarray, np.ndarray]
EMPTY: Columns = (np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.int64))


class Poisson:
    """``channels`` independent Poisson trains of ``rate_hz`` each. Over a window of length L the number of
    spikes is Poisson(rate · channels · L), their times uniform in the window and their channels uniform:
    the superposition of independent homogeneous Poisson processes. A seed fixes the whole train for a
    given sequence of windows."""

    def __init__(self, *, channels: int, rate_hz: float, seed: int = 0, start_us: int = 0) -> None:
        if not 0 <= rate_hz <= 100_000:
            raise ConfigError("poisson rateHz must be from 0 to 100000")
        self.channels = channels
        self.rate_hz = rate_hz
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.horizon = start_us
        self.spikes = 0

    def start_at(self, t_us: int) -> None:
        self.horizon = t_us

    def advance(self, to_us: int) -> Columns:
        span = to_us - self.horizon
        if span <= 0:
            return EMPTY
        lam = self.rate_hz * self.channels * span / 1e6
        n = int(self.rng.poisson(lam))
        lo = self.horizon
        self.horizon = to_us
        if n == 0:
            return EMPTY
        times = np.sort(lo + 1 + self.rng.integers(0, span, n, dtype=np.int64))
        ch = self.rng.integers(0, self.channels, n, dtype=np.int64).astype(np.uint32)
        self.spikes += n
        return ch, times

    def describe(self) -> dict[str, Any]:
        return {"name": "poisson", "params": [["channels", self.channels, ""], ["rate", self.rate_hz, "Hz"],
                                               ["seed", self.seed, ""]]}


class Pacemaker:
    """Regular spikes on every channel at once: times start + (k + phase) · period, k = 0, 1, …"""

    def __init__(self, *, channels: int, rate_hz: float, phase: float = 0.0, start_us: int = 0) -> None:
        if not 0.000001 <= rate_hz <= 100_000:
            raise ConfigError("pacemaker rateHz must be from 0.000001 to 100000")
        if not 0 <= phase <= 0.999999:
            raise ConfigError("pacemaker phase must be from 0 to 0.999999")
        self.channels = channels
        self.rate_hz = rate_hz
        self.phase = phase
        self.period_us = 1e6 / rate_hz
        self.start_us = start_us
        self.next_k = 0
        self.horizon = start_us
        self.spikes = 0

    def start_at(self, t_us: int) -> None:
        self.start_us = t_us
        self.horizon = t_us

    def _time(self, k: int) -> int:
        return self.start_us + round((k + self.phase) * self.period_us)

    def advance(self, to_us: int) -> Columns:
        self.horizon = max(self.horizon, to_us)
        last = math.floor((to_us - self.start_us) / self.period_us - self.phase)
        while last >= self.next_k and self._time(last) > to_us:
            last -= 1
        if last < self.next_k:
            return EMPTY
        ks = np.arange(self.next_k, last + 1, dtype=np.int64)
        self.next_k = last + 1
        times = self.start_us + np.round((ks + self.phase) * self.period_us).astype(np.int64)
        times = np.repeat(times, self.channels)
        ch = np.tile(np.arange(self.channels, dtype=np.uint32), len(ks))
        self.spikes += len(times)
        return ch, times

    def describe(self) -> dict[str, Any]:
        return {"name": "pacemaker", "params": [["channels", self.channels, ""], ["rate", self.rate_hz, "Hz"],
                                                 ["phase", self.phase, ""]]}


class ReplayError(SpikewireError):
    """A replay file breaks a rule of REPLAY-FORMAT.md; ``line`` is 1-based (0: the whole file)."""

    def __init__(self, code: str, line: int, message: str) -> None:
        super().__init__(code, f"line {line}: {message}")
        self.line = line


_CSV_CH = re.compile(r"[0-9]{1,10}")
_CSV_T = re.compile(r"[0-9]{1,16}(\.[0-9]{1,9})?")
MAX_TIME = 2**53 - 1


def parse_replay(path: str | Path, *, format: str | None = None, channels: int | None = None,
                 max_bytes: int = 64 << 20, max_line_chars: int = 1024,
                 max_events: int = 10_000_000) -> tuple[np.ndarray, np.ndarray]:
    """Read a replay file (channels uint32, times float64 µs), rejecting it on the first broken rule."""
    p = Path(path)
    size = p.stat().st_size
    if size > max_bytes:
        raise ReplayError("file-too-large", 0, f"{size} bytes over {max_bytes}")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ReplayError("bad-encoding", 0, "not UTF-8") from err
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    fmt = format
    if fmt is None:
        suffix = p.suffix.lower()
        fmt = "csv" if suffix == ".csv" else "ndjson" if suffix in (".ndjson", ".jsonl") else None
    chs: list[int] = []
    ts: list[float] = []
    header_seen = False
    prev = -1.0
    for i, line in enumerate(lines, 1):
        if line.endswith("\r"):
            line = line[:-1]
        if len(line) > max_line_chars:
            raise ReplayError("line-too-long", i, f"over {max_line_chars} characters")
        if line.strip(" \t") == "":
            continue
        if fmt is None:
            s = line.lstrip(" \t")
            fmt = "ndjson" if s.startswith("{") else "csv" if s.startswith("channel") else None
            if fmt is None:
                raise ReplayError("unknown-format", i, "neither NDJSON nor CSV")
        if fmt == "csv":
            if not header_seen:
                if [f.strip(" \t") for f in line.split(",")] != ["channel", "time_us"]:
                    raise ReplayError("bad-header", i, "the header is not channel,time_us")
                header_seen = True
                continue
            fields = [f.strip(" \t") for f in line.split(",")]
            if len(fields) != 2:
                raise ReplayError("bad-field-count", i, "two fields expected")
            if not _CSV_CH.fullmatch(fields[0]):
                raise ReplayError("bad-channel", i, f"bad channel {fields[0]!r}")
            if not _CSV_T.fullmatch(fields[1]):
                raise ReplayError("bad-time", i, f"bad time {fields[1]!r}")
            ch, t = int(fields[0]), float(fields[1])
        else:
            try:
                rec = json.loads(line)
            except ValueError as err:
                raise ReplayError("bad-json", i, "not JSON") from err
            if not isinstance(rec, dict):
                raise ReplayError("bad-record", i, "not an object")
            keys = set(rec)
            if keys == {"channel", "time_us"}:
                c, tv = rec["channel"], rec["time_us"]
            elif keys == {"ch", "t"}:
                c, tv = rec["ch"], rec["t"]
            else:
                raise ReplayError("bad-record", i, "keys must be channel and time_us, or ch and t")
            if isinstance(c, bool) or not isinstance(c, (int, float)) or float(c) != int(c):
                raise ReplayError("bad-channel", i, "channel is not an integer number")
            if isinstance(tv, bool) or not isinstance(tv, (int, float)) or not math.isfinite(tv):
                raise ReplayError("bad-time", i, "time is not a finite number")
            ch, t = int(c), float(tv)
        if not 0 <= ch <= 2**32 - 2 or (channels is not None and ch >= channels):
            raise ReplayError("bad-channel", i, f"channel {ch} out of range")
        if not 0 <= t <= MAX_TIME:
            raise ReplayError("bad-time", i, f"time {t} out of range")
        if t < prev:
            raise ReplayError("time-regression", i, "time before the previous event's")
        prev = t
        chs.append(ch)
        ts.append(t)
        if len(chs) > max_events:
            raise ReplayError("too-many-events", i, f"over {max_events} events")
    if fmt == "csv" and not header_seen:
        raise ReplayError("bad-header", 0, "no header")
    if not chs:
        raise ReplayError("empty-file", 0, "no events")
    return np.asarray(chs, dtype=np.uint32), np.asarray(ts, dtype=np.float64)


class Replay:
    """A recorded train played once. ``time_base`` relative: t_out = start + (t − t_first); absolute:
    t_out = t, events before the start skipped and counted."""

    def __init__(self, channels_arr: np.ndarray, times: np.ndarray, *, time_base: str = "relative",
                 start_us: int = 0) -> None:
        self.src_ch = channels_arr
        self.src_t = times
        self.time_base = time_base
        self.skipped = 0
        self.spikes = 0
        self.i = 0
        self.start_at(start_us)

    def start_at(self, t_us: int) -> None:
        self.start_us = t_us
        if self.time_base == "relative":
            # Whole µs on the wire: halves round up, as JavaScript's Math.round does.
            self.out_t = (t_us + np.floor(self.src_t - self.src_t[0] + 0.5)).astype(np.int64)
        else:
            self.out_t = np.floor(self.src_t + 0.5).astype(np.int64)
            self.i = int(np.searchsorted(self.out_t, t_us, side="left"))
            self.skipped = self.i
        self.horizon = t_us

    @property
    def done(self) -> bool:
        return self.i >= len(self.out_t)

    def advance(self, to_us: int) -> Columns:
        self.horizon = max(self.horizon, to_us)
        j = int(np.searchsorted(self.out_t, to_us, side="right"))
        if j <= self.i:
            return EMPTY
        ch, t = self.src_ch[self.i:j], self.out_t[self.i:j]
        self.i = j
        self.spikes += len(t)
        return ch, t

    def describe(self) -> dict[str, Any]:
        return {"name": "replay", "params": [["events", len(self.out_t), ""]]}


def from_config(spec: dict[str, Any], *, channels: int, base_dir: Path | None, now: int) -> Any:
    """A source from a port's ``source`` object of the node config."""
    kind = spec["type"]
    if kind == "poisson":
        return Poisson(channels=channels, rate_hz=float(spec["rateHz"]), seed=int(spec.get("seed", 0)),
                       start_us=now)
    if kind == "pacemaker":
        return Pacemaker(channels=channels, rate_hz=float(spec["rateHz"]), phase=float(spec.get("phase", 0)),
                         start_us=now)
    if kind == "replay":
        f = Path(spec["file"])
        if base_dir is not None and not f.is_absolute():
            f = base_dir / f
        ch, t = parse_replay(f, format=spec.get("format"), channels=channels)
        return Replay(ch, t, time_base=spec.get("timeBase", "relative"), start_us=now)
    raise ConfigError(f"unknown source type {kind!r}")


async def drive(source: Any, port: OutPort, clock: Clock, *, tick_s: float = 0.001,
                start: str = "now") -> None:
    """Run a source in real time: every tick, emit the events up to now into the port. The port's
    idle watermarks never pass what the source has produced (its horizon)."""
    if start == "first-subscriber":
        attached = trio.Event()
        port.on_first_attach(attached.set)
        if port.streams == 0:
            await attached.wait()
        source.start_at(clock())
    port.horizon = source.horizon
    while True:
        now = clock()
        ch, t = source.advance(now)
        port.horizon = source.horizon
        if len(t):
            port.emit(ch, t)
        if getattr(source, "done", False):
            port.horizon = None
            return
        await trio.sleep(tick_s)
