"""The Python side of the interop harness and of spikewire.bench, checked against the TypeScript harness
they must agree with: the event generator (interop-tests/lib/generator.ts), the benchmark's channel table
(bench/stream-roles.ts), the true clock offset of bench/timing-peer.ts, and quantiles as bench/report.ts
takes them. Node 24 comes from the repository's node_modules/.bin; without it these tests fail."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from _tsnode import REPO, node_binary
from spikewire.bench.pyside import channel_table, true_offset
from spikewire.bench.tsrpc import quantile

sys.path.insert(0, str(REPO / "interop-tests" / "impls" / "py"))
from pyimpl.generator import EventChecker, GeneratorSpec, generate  # noqa: E402


def run_ts(source: str) -> object:
    """Run a TypeScript snippet (cwd = repository root) and parse the JSON it prints."""
    out = subprocess.run([node_binary(), "--input-type=module", "-e", source], cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


SPECS = [
    GeneratorSpec(seed=1, n=5000, channels=64, max_gap_us=40),
    GeneratorSpec(seed=7, n=2000, channels=8, max_gap_us=100, weighted=True),
    GeneratorSpec(seed=4294967295, n=3000, channels=1024, max_gap_us=30_000, min_gap_us=8000, weighted=True),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"seed{s.seed}")
def test_generator_matches_the_typescript_harness(spec: GeneratorSpec) -> None:
    js = json.dumps({"seed": spec.seed, "n": spec.n, "channels": spec.channels, "max_gap_us": spec.max_gap_us,
                     "min_gap_us": spec.min_gap_us, "weighted": spec.weighted})
    ts = run_ts(f"import {{ generate }} from './interop-tests/lib/generator.ts'; "
                f"const g = generate({js}); console.log(JSON.stringify(g))")
    g = generate(spec)
    assert g.channels.tolist() == ts["channels"]
    assert g.offsets.tolist() == ts["offsets"]
    if spec.weighted:
        assert g.values is not None and g.values.tolist() == ts["values"]
    else:
        assert g.values is None and ts.get("values") is None


def test_checker_counts_what_differs_and_keeps_examples() -> None:
    spec = GeneratorSpec(seed=3, n=100, channels=16, max_gap_us=60)
    g = generate(spec)
    c = EventChecker(spec)
    t0 = 1_000_000
    c.check(0, g.channels[:50], t0 + g.offsets[:50])
    assert c.mismatches == 0 and c.t0 == t0
    wrong = g.channels[50:].copy()
    wrong[[3, 7]] ^= 1
    c.check(50, wrong, t0 + g.offsets[50:])
    assert c.mismatches == 2 and len(c.examples) == 2
    c.check(100, [0], [t0 + 10**9])  # beyond the generator's n
    assert c.mismatches == 3


def test_bench_channel_table_matches_the_typescript_producer() -> None:
    ts = run_ts("import { CHANNEL_TABLE } from './bench/stream-roles.ts'; "
                "console.log(JSON.stringify(Array.from(CHANNEL_TABLE.slice(0, 4096))))")
    assert channel_table()[:4096].tolist() == ts


def test_true_offset_and_quantile_follow_the_typescript_benches() -> None:
    info = {"baseUs": 1_000_010.0, "refBaseUs": 2_000_000.0, "offsetAtRefUs": 1_500_000.0, "driftPpm": 100.0}
    ts = run_ts("import { trueOffset } from './bench/timing-peer.ts'; "
                f"console.log(JSON.stringify(trueOffset({json.dumps(info)}, 1000000, 5000000)))")
    assert true_offset(info, 1_000_000.0, 5_000_000.0) == pytest.approx(ts, abs=1e-6)
    xs = sorted(np.arange(1, 101, dtype=float).tolist())
    assert quantile(xs, 0.5) == 51 and quantile(xs, 0.99) == 100 and quantile([], 0.5) != quantile([], 0.5)
