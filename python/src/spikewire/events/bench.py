"""Throughput of events streams between Python and TypeScript nodes over loopback, for
``python -m spikewire.bench`` (py-interop) and for people: ``python -m spikewire.events.bench --json``.

Each measurement runs a Poisson source at a target rate (spikes/s over 64 channels) for a while and
reports what the subscriber received: events/s over the stream's life (from the open to the end, as the
TypeScript tap's summary counts them), sequence gaps and reported losses. The baseline, measured in the
same run at the same rate, is TypeScript subscriber ← TypeScript publisher.

- :func:`py_subscriber_from_ts` — Python subscribes to a TypeScript node's port.
- :func:`ts_subscriber_from_py` — the TypeScript ``spikewire tap`` subscribes to a Python node's port.
- :func:`ts_subscriber_from_ts` — the baseline.
- :func:`sustained` — the highest rate of a ladder that one direction carries with zero loss.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import trio

from ..net.host import open_host
from .subscription import Subscription
from .tsproc import ts_node, ts_tap

CHANNELS = 64


def _source(rate: float) -> dict[str, Any]:
    return {"type": "poisson", "rateHz": rate / CHANNELS, "seed": 1}


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def py_subscriber_from_ts(rate: float, seconds: float = 5.0) -> dict[str, Any]:
    cfg = {"name": "bench-ts-pub", "ports": [{"name": "spikes", "direction": "out", "channels": CHANNELS,
                                               "source": _source(rate)}]}
    with tempfile.TemporaryDirectory() as tmp, ts_node(cfg, Path(tmp)) as (_proc, started):
        addr = started["multiaddrs"][0]

        async def main() -> dict[str, Any]:
            async with open_host() as host:
                sub = Subscription(host, addr, "spikes", max_events=65536)
                cpu0 = _cpu()
                t_open = time.monotonic()
                t_first = None
                n_first = 0
                async with sub:
                    with trio.move_on_after(seconds + 20):
                        async for _b in sub:
                            if t_first is None:
                                t_first, n_first = time.monotonic(), sub.stats.events
                            if time.monotonic() - t_open >= seconds:
                                break
                t_end = time.monotonic()
                dt = t_end - t_open
                s = sub.stats
                steady = (s.events - n_first) / (t_end - t_first) if t_first is not None and t_end > t_first else 0
                return {"events": s.events, "seconds": round(dt, 3), "events_per_s": round(s.events / dt),
                        # From the first batch on: the rate without the dial and the open.
                        "steady_events_per_s": round(steady),
                        "batches": s.batches, "gaps": s.gap_events, "losses": s.lost_events,
                        "stream_errors": dict(s.stream_errors), "connects": s.connects,
                        "cpu_s": round(_cpu() - cpu0, 3)}

        return trio.run(main)


def _tap_summary(addr: str, seconds: float) -> dict[str, Any]:
    tap = ts_tap(addr, "spikes", "--duration", str(seconds), "--quiet", "--json")
    try:
        tap.p.wait(seconds + 30)
        s = tap.json_line(lambda o: o.get("summary") is True, timeout=5)
    finally:
        tap.kill()
    return {"events": s["events"], "seconds": s["duration_s"], "events_per_s": round(s["rate"]),
            "batches": s["batches"], "gaps": s["gaps"], "losses": s["losses"],
            "stream_errors": s["stream_errors"], "connects": s["streams"]}


def ts_subscriber_from_py(rate: float, seconds: float = 5.0) -> dict[str, Any]:
    from ..node import Node
    cfg = {"name": "bench-py-pub", "ports": [{"name": "spikes", "direction": "out", "channels": CHANNELS,
                                               "source": _source(rate)}]}

    async def main() -> dict[str, Any]:
        async with Node(config=cfg) as node:
            cpu0 = _cpu()
            res = await trio.to_thread.run_sync(_tap_summary, node.addrs[0], seconds)
            res["publisher_cpu_s"] = round(_cpu() - cpu0, 3)
            await node.shutdown()
            return res

    return trio.run(main)


def ts_subscriber_from_ts(rate: float, seconds: float = 5.0) -> dict[str, Any]:
    cfg = {"name": "bench-ts-base", "ports": [{"name": "spikes", "direction": "out", "channels": CHANNELS,
                                                "source": _source(rate)}]}
    with tempfile.TemporaryDirectory() as tmp, ts_node(cfg, Path(tmp)) as (_proc, started):
        return _tap_summary(started["multiaddrs"][0], seconds)


def zero_loss(r: dict[str, Any]) -> bool:
    return r["gaps"] == 0 and r["losses"] == 0 and not r["stream_errors"] and r["connects"] == 1


DIRECTIONS: dict[str, Callable[[float, float], dict[str, Any]]] = {
    "py-sub-from-ts": py_subscriber_from_ts,
    "ts-sub-from-py": ts_subscriber_from_py,
}


def measure(direction: str, rate: float, seconds: float = 5.0) -> dict[str, Any]:
    """One JSON-line record: the direction at ``rate``, with the TS ← TS baseline of the same run."""
    result = DIRECTIONS[direction](rate, seconds)
    baseline = ts_subscriber_from_ts(rate, seconds)
    return {"bench": f"events-{direction}", "unit": "spikes/s", "offered_per_s": rate,
            "value": result["events_per_s"], "zero_loss": zero_loss(result), "result": result,
            "baseline": {"name": "ts-sub-from-ts", "value": baseline["events_per_s"],
                         "zero_loss": zero_loss(baseline), "result": baseline},
            "target_per_s": 1_000_000,
            # Both sides count the same way (from the subscription's start), so the target is met when the
            # offered rate is at least 1M/s, nothing is lost, and the rate is within 5 % of the baseline's.
            "meets_target": rate >= 1_000_000 and zero_loss(result)
            and result["events_per_s"] >= 0.95 * baseline["events_per_s"]}


def sustained(direction: str, rates: tuple[float, ...] = (250_000, 500_000, 1_000_000, 1_500_000, 2_000_000),
              seconds: float = 5.0) -> dict[str, Any]:
    """The highest rate of ``rates`` carried with zero loss and at least 95 % of the offered rate."""
    best = None
    runs = []
    for r in rates:
        res = DIRECTIONS[direction](r, seconds)
        ok = zero_loss(res) and res["events_per_s"] >= 0.95 * r * _startup_factor(res, seconds)
        runs.append({"offered_per_s": r, "ok": ok, **res})
        if not ok:
            break
        best = res["events_per_s"]
    return {"bench": f"events-{direction}-sustained", "unit": "spikes/s", "value": best, "runs": runs}


def _startup_factor(res: dict[str, Any], seconds: float) -> float:
    # The tap's rate counts from its start, connection time included.
    return 0.9 if "publisher_cpu_s" in res else 1.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m spikewire.events.bench")
    p.add_argument("--json", action="store_true")
    p.add_argument("--rate", type=float, default=1_000_000)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--direction", choices=[*DIRECTIONS, "both"], default="both")
    ns = p.parse_args(argv)
    for d in (DIRECTIONS if ns.direction == "both" else [ns.direction]):
        rec = measure(d, ns.rate, ns.seconds)
        if ns.json:
            print(json.dumps(rec), flush=True)
        else:
            print(f"{rec['bench']}: {rec['value']:,} spikes/s (offered {ns.rate:,.0f}), zero loss {rec['zero_loss']}; "
                  f"baseline ts<-ts {rec['baseline']['value']:,} spikes/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
