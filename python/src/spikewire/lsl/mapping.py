"""How spikewire events and LSL samples map onto each other, and how times cross the two clocks.

Pure functions and small classes (no liblsl, no network), so they are tested on their own.

An event is one LSL sample (docs/lsl.md, LAB-DESIGN "an event as a sample"):
- spike port: channel_count 1, int32, the sample is the channel id; type "Spikes".
- weighted port: channel_count 2, double64, the sample is [channel id, value]; type "Events".
- LSL string streams (markers, channel_count 1) are ingested as spike events: a marker that is a decimal
  integer is that channel id; any other marker gets the lowest channel id not yet used by a name or by an
  integer marker, in order of first appearance (the table is logged and reported in the stats). An integer
  marker naming an id a name already holds is counted under ``marker-conflict``, not mapped.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger("spikewire.lsl.mapping")

SPIKE_TYPE = "Spikes"
WEIGHTED_TYPE = "Events"

MAX_CHANNEL = 2**32 - 2


@dataclass
class Unmapped:
    """Samples the ingest bridge could not turn into events, by reason (never dropped silently)."""
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, reason: str, n: int = 1) -> None:
        if n:
            self.counts[reason] = self.counts.get(reason, 0) + n

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# ------------------------------------------------------------------------------------------ samples ↔ events

def events_to_samples(channels: np.ndarray, values: np.ndarray | None) -> np.ndarray:
    """An (n, 1) int32 array for a spike port, an (n, 2) float64 array [channel, value] for a weighted one."""
    if values is None:
        return np.ascontiguousarray(channels, dtype=np.int64).astype(np.int32).reshape(-1, 1)
    out = np.empty((len(channels), 2), dtype=np.float64)
    out[:, 0] = channels
    out[:, 1] = values
    return out


class SampleMapper:
    """LSL samples → (channels, values, keep mask) for an out port of ``channels`` channels.

    Numeric streams: channel_count 1 is a spike stream (the sample is the channel id), channel_count 2 a
    weighted stream ([channel id, value]); other channel counts are refused when the bridge starts. A channel
    id must be an integer in 0 .. channels-1 and a value finite; other samples are counted under
    ``non-integer-channel``, ``channel-out-of-range`` or ``non-finite-value``.
    String streams (markers): see the module docstring; markers beyond the channel count are counted under
    ``channel-out-of-range``.
    """

    def __init__(self, channel_count: int, is_string: bool, channels: int) -> None:
        if is_string and channel_count != 1:
            raise ValueError("a marker stream must have one channel")
        if not is_string and channel_count not in (1, 2):
            raise ValueError("a numeric stream must have 1 channel (spike) or 2 ([channel, value])")
        self.is_string = is_string
        self.weighted = (not is_string) and channel_count == 2
        self.channels = channels
        self.unmapped = Unmapped()
        self.markers: dict[str, int] = {}
        self._used: set[int] = set()
        self._named: set[int] = set()
        self._next_marker = 0

    @property
    def kind(self) -> str:
        return "weighted" if self.weighted else "spike"

    def _marker_channel(self, raw: Any) -> int:
        """The channel of a marker, or -1 (counted) for an integer marker whose id a name holds."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else str(raw)
        ch = self.markers.get(text)
        if ch is not None:
            return ch
        s = text.strip()
        if s.isdigit() or (s.startswith("+") and s[1:].isdigit()):
            ch = int(s)
            if ch in self._named:
                self.unmapped.add("marker-conflict")
                return -1
            self._used.add(ch)
            return ch
        while self._next_marker in self._used:
            self._next_marker += 1
        ch = self._next_marker
        self._used.add(ch)
        self._named.add(ch)
        self.markers[text] = ch
        log.info("marker %r is channel %d", text, ch)
        return ch

    def map(self, samples: Any) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(channels uint32-valued int64, values float32 or None, keep mask) for n samples."""
        if self.is_string:
            flat = [s[0] if isinstance(s, (list, tuple, np.ndarray)) else s for s in samples]
            ch = np.fromiter((self._marker_channel(x) for x in flat), dtype=np.int64, count=len(flat))
            ok = (ch >= 0) & (ch < self.channels)
            self.unmapped.add("channel-out-of-range", int((ch >= self.channels).sum()))
            return np.where(ok, ch, 0), None, ok
        arr = np.asarray(samples, dtype=np.float64).reshape(-1, 2 if self.weighted else 1)
        raw = arr[:, 0]
        finite = np.isfinite(raw)
        integral = finite & (np.floor(np.where(finite, raw, 0)) == np.where(finite, raw, 0))
        in_range = integral & (raw >= 0) & (raw < self.channels)
        self.unmapped.add("non-integer-channel", int((~integral).sum()))
        self.unmapped.add("channel-out-of-range", int((integral & ~in_range).sum()))
        ch = np.where(in_range, raw, 0).astype(np.int64)
        ok = in_range
        values = None
        if self.weighted:
            values = arr[:, 1].astype(np.float32)
            fin = np.isfinite(values)
            self.unmapped.add("non-finite-value", int((ok & ~fin).sum()))
            ok = ok & fin
        return ch, values, ok


# ------------------------------------------------------------------------------------------------- time

@dataclass
class ClockAnchor:
    """One reading of two clocks at (nearly) the same instant: ``us`` on the bridge's spikewire clock (µs)
    and ``lsl`` on liblsl's ``local_clock()`` (s). Both follow the machine's monotonic clock, so the pair,
    measured once at start, maps one onto the other for the life of the bridge. ``spread_us`` is the width of
    the reading window (the mapping's own uncertainty)."""
    us: int
    lsl: float
    spread_us: float

    def to_lsl(self, local_us: np.ndarray) -> np.ndarray:
        """Bridge µs → LSL seconds (differences taken in integers, so µs survive the epoch's size)."""
        rel = (np.asarray(local_us, dtype=np.int64) - self.us).astype(np.float64)
        return self.lsl + rel / 1e6

    def to_us(self, lsl_s: np.ndarray) -> np.ndarray:
        """LSL seconds → bridge µs (rounded to the nearest µs)."""
        rel = (np.asarray(lsl_s, dtype=np.float64) - self.lsl) * 1e6
        return self.us + np.rint(rel).astype(np.int64)


def measure_anchor(now_ns: Any, local_clock: Any, tries: int = 25) -> ClockAnchor:
    """The anchor of the narrowest of ``tries`` bracketed readings (ns clock, LSL clock, ns clock)."""
    best: tuple[int, int, float] | None = None
    for _ in range(tries):
        a = now_ns()
        lsl = local_clock()
        b = now_ns()
        if best is None or b - a < best[1] - best[0]:
            best = (a, b, lsl)
    assert best is not None
    a, b, lsl = best
    mid_ns = (a + b) // 2
    # Anchor on a whole µs: move the LSL reading by the sub-µs remainder.
    us = (mid_ns + 500) // 1000
    lsl += (us * 1000 - mid_ns) / 1e9
    return ClockAnchor(us=us, lsl=lsl, spread_us=(b - a) / 1000)


class SlewedOffset:
    """The clock offset the bridge applies, following a changing estimate without stepping the times.

    While the estimate stays within ``tolerance`` (its own uncertainty) of the applied offset, nothing moves;
    beyond that the applied offset walks toward the estimate at most ``max_slew_ppm`` of the elapsed time
    (so an interval of d µs between two events changes by at most d × max_slew_ppm / 1e6). A jump larger
    than ``step_us`` (the remote clock was stepped, or the first estimates were wrong) is applied at once and
    counted in ``steps`` and logged: intervals across it are not kept.
    """

    def __init__(self, max_slew_ppm: float = 50.0, step_us: float = 5000.0) -> None:
        self.max_slew = max_slew_ppm / 1e6
        self.step_us = step_us
        self.applied: float | None = None
        self.last_t: float | None = None
        self.steps = 0
        self.max_lag_us = 0.0

    def update(self, target: float, tolerance: float, t: float) -> float:
        if self.applied is None or self.last_t is None:
            self.applied, self.last_t = float(target), float(t)
            return self.applied
        dt = max(0.0, float(t) - self.last_t)
        self.last_t = float(t)
        diff = float(target) - self.applied
        if abs(diff) > self.step_us:
            log.warning("clock offset stepped by %.1f µs (intervals across this point are not kept)", diff)
            self.steps += 1
            self.applied = float(target)
            return self.applied
        if abs(diff) > tolerance:
            move = min(abs(diff) - tolerance, dt * self.max_slew)
            self.applied += move if diff > 0 else -move
        self.max_lag_us = max(self.max_lag_us, abs(float(target) - self.applied))
        return self.applied

    def lag(self, target: float) -> float:
        return 0.0 if self.applied is None else abs(float(target) - self.applied)
