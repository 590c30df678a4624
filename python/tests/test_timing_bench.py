"""The timing microbenchmarks run and report consistent counts (their speed is not asserted)."""
from __future__ import annotations

from spikewire.timing.bench import bench_merge, bench_playout


def test_bench_merge_small() -> None:
    line = bench_merge(streams=3, events=30_000, batch=500)
    assert line["bench"] == "py-merge-throughput"
    assert line["released"] == line["events"] == 30_000
    assert line["in_order"] and line["late"] == 0 and line["overflow"] == 0
    assert line["events_per_s"] > 0 and line["baseline"]["events_per_s"] > 0


def test_bench_playout_small() -> None:
    line = bench_playout(rate_hz=1000, seconds=0.2, delay_us=20_000)
    for run in (line, line["baseline"]):
        assert run["events"] == 200 and run["abandoned"] == 0 and run["out_of_order"] == 0
        assert run["lateness_p50_us"] >= 0 and run["lateness_p99_us"] >= run["lateness_p50_us"]


def test_bench_playout_contended_small() -> None:
    from spikewire.timing.bench import bench_playout_contended
    line = bench_playout_contended(seconds=0.2)
    for run in (line, line["baseline"]):
        assert run["events"] == 200 and run["abandoned"] == 0 and run["out_of_order"] == 0
