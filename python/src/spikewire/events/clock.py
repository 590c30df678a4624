"""The node's clock for event times: integer µs since the Unix epoch that never run backwards (spec §6.1).

It reads the wall clock once and then follows the monotonic clock, so a step of the system clock does not
make times go back on a stream.
"""
from __future__ import annotations

import time
from typing import Callable

Clock = Callable[[], int]


def monotonic_wall_clock() -> Clock:
    base_wall = time.time_ns() // 1000
    base_mono = time.monotonic_ns() // 1000

    def now_us() -> int:
        return base_wall + (time.monotonic_ns() // 1000 - base_mono)

    return now_us


now_us: Clock = monotonic_wall_clock()
