"""The event generator both sides of a run agree on (interop-tests/README.md, "Event generator"),
vectorised with numpy: the linear congruential states come from jump-ahead sums, not a Python loop.

    s_{k+1} = (s_k * 1664525 + 1013904223) mod 2^32      event k uses s_{k+1}
    channel_k = (s >> 16) mod channels
    gap_k     = 0 for k = 0, else min_gap + ((s >> 8) mod (max_gap - min_gap + 1))
    value_k   = (((s >> 20) mod 2001) - 1000) / 8         weighted ports only
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

A = 1664525
C = 1013904223
MASK = np.uint64(0xFFFFFFFF)


@dataclass
class GeneratorSpec:
    seed: int
    n: int
    channels: int
    max_gap_us: int
    min_gap_us: int = 0
    weighted: bool = False


@dataclass
class Generated:
    channels: np.ndarray  # uint32
    offsets: np.ndarray   # int64 µs from event 0
    values: np.ndarray | None  # float32


def states(seed: int, n: int) -> np.ndarray:
    """s_1 … s_n as uint64 (each < 2^32). Products wrap mod 2^64, which keeps them right mod 2^32."""
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        powers = np.cumprod(np.full(n, A, dtype=np.uint64))            # a^1 … a^n
        ones = np.concatenate(([np.uint64(1)], powers[:-1]))             # a^0 … a^(n-1)
        geometric = np.cumsum(ones, dtype=np.uint64)                     # Σ_{j<k} a^j, k = 1 … n
        s = powers * np.uint64(seed & 0xFFFFFFFF) + geometric * np.uint64(C)
    return s & MASK


def generate(spec: GeneratorSpec) -> Generated:
    span = spec.max_gap_us - spec.min_gap_us + 1
    if span < 1:
        raise ValueError("max_gap_us must be >= min_gap_us")
    s = states(spec.seed, spec.n)
    channels = ((s >> np.uint64(16)) % np.uint64(spec.channels)).astype(np.uint32)
    gaps = (np.uint64(spec.min_gap_us) + (s >> np.uint64(8)) % np.uint64(span)).astype(np.int64)
    if spec.n > 0:
        gaps[0] = 0
    offsets = np.cumsum(gaps, dtype=np.int64)
    values = None
    if spec.weighted:
        values = ((((s >> np.uint64(20)) % np.uint64(2001)).astype(np.int64) - 1000) / 8).astype(np.float32)
    return Generated(channels, offsets, values)


@dataclass
class EventChecker:
    """Compares received events with the generator by sequence number; keeps the first few differences."""
    spec: GeneratorSpec
    t0: int | None = None
    mismatches: int = 0
    examples: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.events = generate(self.spec)

    def check(self, seq: int, channels: Any, times: Any, values: Any = None) -> None:
        ch = np.asarray(channels).astype(np.int64)
        tm = np.asarray(times).astype(np.int64)
        count = len(ch)
        if count == 0:
            return
        if seq == 0 and self.t0 is None:
            self.t0 = int(tm[0])
        e = self.events
        n = len(e.channels)
        inside = max(0, min(count, n - seq))
        if seq >= n:
            inside = 0
        t0 = self.t0 if self.t0 is not None else (int(tm[0]) - int(e.offsets[seq]) if seq < n else 0)
        bad = np.ones(count, dtype=bool)
        if inside > 0:
            ok = (e.channels[seq:seq + inside].astype(np.int64) == ch[:inside]) & \
                 (t0 + e.offsets[seq:seq + inside] == tm[:inside])
            if e.values is not None:
                v = np.asarray(values, dtype=np.float32) if values is not None else None
                ok &= (v is not None) and (e.values[seq:seq + inside] == v[:inside])
            bad[:inside] = ~ok
        nbad = int(bad.sum())
        if nbad == 0:
            return
        self.mismatches += nbad
        for i in np.nonzero(bad)[0][: max(0, 3 - len(self.examples))]:
            k = seq + int(i)
            got = f"[{int(ch[i])}, {int(tm[i])}" + ("" if values is None else f", {float(np.asarray(values)[i])}") + "]"
            want = "nothing"
            if k < n:
                value = "" if e.values is None else f", {float(e.values[k])}"
                want = f"[{int(e.channels[k])}, {t0 + int(e.offsets[k])}{value}]"
            self.examples.append(f"event {k}: got {got}, want {want}")


def spec_from_params(params: dict[str, Any], seed: int | None = None) -> GeneratorSpec:
    def need(name: str) -> int:
        v = params.get(name)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise UsageError(f"SW_PARAMS.{name} must be a number")
        return int(v)
    return GeneratorSpec(
        seed=need("seed") if seed is None else seed,
        n=need("n"),
        channels=need("channels"),
        max_gap_us=need("max_gap_us"),
        min_gap_us=int(params.get("min_gap_us", 0)),
        weighted=params.get("kind") == "weighted",
    )


class UsageError(Exception):
    """Bad configuration from the harness (exit code 2)."""
