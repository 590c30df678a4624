"""A small benchmark of the batch codec: events/s decoded and encoded, with a per-event Python loop as the
baseline measured in the same run. ``python -m spikewire.codec.bench`` prints one JSON line per figure.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable

import numpy as np

from spikewire.codec.messages import Batch, DecodeContext, Kind, decode_message, encode_message


def _events(batch_events: int, channels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, channels, batch_events, dtype=np.uint32)
    gaps = rng.geometric(1 / 50, batch_events).astype(np.int64)  # mean 50 µs: 1- and 2-byte deltas
    gaps[0] = 0
    return ids, 1_767_225_600_000_000 + np.cumsum(gaps)


def _loop_decode(column: bytes) -> list[int]:
    """The baseline: a plain per-byte Python LEB128 decoder (no checks beyond the varint boundaries)."""
    out: list[int] = []
    value = shift = 0
    for byte in column:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            out.append(value)
            value = shift = 0
    return out


def _rate(run: Callable[[], int], budget_s: float) -> float:
    """Events/s of ``run`` (which returns the events it handled), repeated for about ``budget_s``."""
    run()  # warm up
    events = 0
    started = time.perf_counter()
    deadline = started + budget_s
    while True:
        events += run()
        now = time.perf_counter()
        if now >= deadline:
            return events / (now - started)


def bench_codec(batch_events: int = 4096, channels: int = 1024, batches: int = 16, budget_s: float = 1.5,
                rounds: int = 3, seed: int = 1) -> list[dict[str, Any]]:
    """Decode and encode rates of spike batches of ``batch_events`` events, and the Python-loop baseline."""
    data = [_events(batch_events, channels, seed + i) for i in range(batches)]
    built = [Batch.from_arrays(i * batch_events, ids, times) for i, (ids, times) in enumerate(data)]
    bodies = [encode_message(b) for b in built]
    context = DecodeContext.make(kind=Kind.SPIKE, channels=channels, max_events=batch_events)

    def decode() -> int:
        for body in bodies:
            decode_message(body, context)
        return batches * batch_events

    def encode() -> int:
        for i, (ids, times) in enumerate(data):
            encode_message(Batch.from_arrays(i * batch_events, ids, times))
        return batches * batch_events

    def baseline() -> int:
        for b in built:
            _loop_decode(b.ch)
            _loop_decode(b.dt)
        return batches * batch_events

    # Interleave the three measurements and keep each one's best round, so that a busy machine slows
    # them alike instead of whichever happened to run during a burst of other work.
    best = {"baseline": 0.0, "decode": 0.0, "encode": 0.0}
    runs = {"baseline": baseline, "decode": decode, "encode": encode}
    for _ in range(rounds):
        for name, run in runs.items():
            best[name] = max(best[name], _rate(run, budget_s / rounds))
    common = {"batch_events": batch_events, "channels": channels, "frame_bytes_mean": sum(map(len, bodies)) / batches,
              "baseline": "per-event Python loop decoding ch and dt",
              "baseline_events_per_s": round(best["baseline"])}
    return [
        {"bench": "py-codec-decode", "events_per_s": round(best["decode"]), **common},
        {"bench": "py-codec-encode", "events_per_s": round(best["encode"]), **common},
    ]


def main() -> int:
    for line in bench_codec():
        sys.stdout.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
