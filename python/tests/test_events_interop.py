"""Events between Python and real TypeScript nodes over loopback: Python subscribes to a TS Poisson
port; the TS `spikewire tap` subscribes to a Python out port; Python pushes into a TS in port and TS
pushes into a Python in port; malformed input to a Python node gets its code and the node keeps serving."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import trio

from spikewire.events.clock import now_us
from spikewire.events.subscription import Subscription
from spikewire.net.host import open_host
from spikewire.node import Node

from spikewire.events.tsproc import ts_node, ts_tap

DEADLINE = 40


def test_python_subscribes_to_a_ts_poisson_port_without_loss(tmp_path: Path) -> None:
    cfg = {"name": "tspub", "ports": [{"name": "spikes", "direction": "out", "channels": 16,
                                        "source": {"type": "poisson", "rateHz": 500, "seed": 3}}]}
    with ts_node(cfg, tmp_path) as (_proc, started):
        addr = started["multiaddrs"][0]

        async def main() -> dict:
            with trio.fail_after(DEADLINE):
                async with open_host() as host:
                    sub = Subscription(host, addr, "spikes", channels=[0, 2, 4, 6, 8, 10, 12, 14])
                    last = None
                    async with sub:
                        t_end = None
                        async for b in sub:
                            assert set(np.unique(b.channels).tolist()) <= {0, 2, 4, 6, 8, 10, 12, 14}
                            if last is not None:
                                assert int(b.times[0]) >= last
                            last = int(b.times[-1])
                            if t_end is None:
                                t_end = trio.current_time() + 3
                            if trio.current_time() >= t_end:
                                break
                    return {"events": sub.stats.events, "gaps": sub.stats.gap_events, "lost": sub.stats.lost_events,
                            "expected": sub.receiver.expected, "wm": sub.stats.watermarks}

        r = trio.run(main)
    # 8 channels × 500 Hz for about 3 s: thousands of events, every sequence number received.
    assert r["events"] > 3000
    assert r["gaps"] == 0 and r["lost"] == 0
    assert r["expected"] == r["events"]


def _py_source_config(tmp: Path) -> dict:
    return {"name": "pypub", "ports": [{"name": "spikes", "direction": "out", "channels": 8,
                                        "source": {"type": "poisson", "rateHz": 1000, "seed": 1}}]}


def test_ts_tap_subscribes_to_a_python_out_port(tmp_path: Path) -> None:
    async def main() -> tuple[dict, dict]:
        with trio.fail_after(DEADLINE):
            async with Node(config=_py_source_config(tmp_path)) as node:
                tap = ts_tap(node.addrs[0], "spikes", "--duration", "3", "--quiet")
                try:
                    while tap.p.poll() is None:
                        await trio.sleep(0.1)
                    summary = tap.json_line(lambda o: o.get("summary") is True, timeout=5)
                finally:
                    tap.kill()
                return summary, {"rc": tap.p.returncode, "emitted": node.events.port("spikes").stats.emitted}

    summary, info = trio.run(main)
    assert info["rc"] == 0
    assert summary["events"] > 5000
    assert summary["gaps"] == 0 and summary["losses"] == 0
    assert summary["streams"] == 1 and summary["stream_errors"] == {}


def test_python_pushes_into_a_ts_in_port(tmp_path: Path) -> None:
    async def main() -> dict:
        with trio.fail_after(DEADLINE):
            async with Node() as node:
                out = node.add_out_port("src", channels=4)
                cfg = {"name": "tssink", "ports": [{"name": "in", "direction": "in", "channels": 4,
                                                     "push": [str(node.peer_id)]}]}
                with ts_node(cfg, tmp_path, stats_s=0.5) as (proc, started):
                    link = node.events.push(out, started["multiaddrs"][0], "in")
                    with trio.fail_after(20):
                        await link.open.wait()
                    n = 0
                    for _ in range(50):
                        out.emit(np.arange(200) % 4, np.full(200, now_us()))
                        n += 200
                        await trio.sleep(0.01)

                    def done(o: dict) -> bool:
                        return o.get("event") == "stats" and o["ports"][0]["events"] >= n

                    stats = await trio.to_thread.run_sync(lambda: proc.json_line(done, 20))
                    link.stop()
                    await link.wait_done()
                    return {"ts": stats["ports"][0], "n": n, "sent": link.stats.sent, "dropped": link.stats.dropped}

    r = trio.run(main)
    assert r["ts"]["events"] == r["n"] == r["sent"]
    assert r["ts"]["gapEvents"] == 0 and r["ts"]["lostEvents"] == 0 and r["dropped"] == {}


def test_ts_pushes_into_a_python_in_port(tmp_path: Path) -> None:
    async def main() -> dict:
        with trio.fail_after(DEADLINE):
            async with Node() as node:
                inp = node.events.add_in_port("in", channels=4, push="*")
                cfg = {"name": "tssrc", "ports": [{"name": "out", "direction": "out", "channels": 4,
                                                    "source": {"type": "pacemaker", "rateHz": 200}}],
                       "links": [{"from": "out", "to": node.addrs[0], "port": "in"}]}
                with ts_node(cfg, tmp_path):
                    got = 0
                    last = None
                    reader = inp.reader()
                    async for b in reader:
                        assert b.source == "out"
                        if last is not None:
                            assert int(b.times[0]) >= last
                        last = int(b.times[-1])
                        got += len(b)
                        if got >= 2000:
                            break
                    reader.close()
                return {"got": got, "gaps": inp.stats.gaps, "lost": inp.stats.lost, "dropped": inp.stats.dropped_events}

    r = trio.run(main)
    assert r["got"] >= 2000
    assert r["gaps"] == 0 and r["lost"] == {} and r["dropped"] == 0


def test_subscription_reconnects_when_the_ts_node_restarts(tmp_path: Path) -> None:
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    cfg = {"name": "tsrestart", "listen": [f"/ip4/127.0.0.1/tcp/{port}"], "identity": str(tmp_path / "ts.key"),
           "ports": [{"name": "spikes", "direction": "out", "channels": 2,
                      "source": {"type": "pacemaker", "rateHz": 100}}]}
    statuses: list[dict] = []

    async def main() -> dict:
        with trio.fail_after(60):
            async with open_host() as host:
                with ts_node(cfg, tmp_path) as (_p, started):
                    addr = started["multiaddrs"][0]
                    sub = Subscription(host, addr, "spikes", max_backoff_s=0.5, on_status=statuses.append)
                    async for _ in sub:
                        if sub.stats.events >= 50:
                            break
                # The node is stopped (close{shutdown}); start it again with the same key and address.
                with ts_node(cfg, tmp_path):
                    async for _ in sub:
                        if sub.stats.connects == 2 and sub.stats.events >= 150:
                            break
                    await sub.aclose()
                return {"connects": sub.stats.connects, "closes": sub.stats.closes,
                        "gaps": sub.stats.gap_events, "reconnect_gaps": sub.stats.reconnect_gaps}

    r = trio.run(main)
    assert r["connects"] == 2 and r["reconnect_gaps"] == 1
    assert r["closes"] == {"shutdown": 1}
    assert r["gaps"] == 0
    assert any(s["event"] == "gap" and s["reason"] == "reconnect" for s in statuses)


def test_ts_pushes_with_a_delay_and_python_maps_delivery_times(tmp_path: Path) -> None:
    async def main() -> dict:
        with trio.fail_after(DEADLINE):
            async with Node() as node:
                inp = node.add_in_port("in", channels=2, push="*")
                cfg = {"name": "tsdelay", "ports": [{"name": "out", "direction": "out", "channels": 2,
                                                      "source": {"type": "pacemaker", "rateHz": 100}}],
                       "links": [{"from": "out", "to": node.addrs[0], "port": "in", "delay": 20000}]}
                with ts_node(cfg, tmp_path):
                    reader = inp.reader()
                    async for b in reader:
                        if b.offset_us is not None and len(b) > 0:
                            break
                    reader.close()
                return {"delay": b.delay_us, "due": b.due_us, "times": b.times, "offset": b.offset_us,
                        "u": b.offset_uncertainty_us}

    r = trio.run(main)
    assert r["delay"] == 20000
    # Same machine: the TS clock is this clock, so θ is near 0 and delivery is about 20 ms after the event.
    assert abs(r["offset"]) <= max(5000, r["u"])
    assert np.all(r["due"] - r["times"] == 20000 - round(r["offset"]))
