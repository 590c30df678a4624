"""clock (spec §9.3) between Python and TypeScript nodes, both directions, and the server's bounds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
from libp2p.custom_types import TProtocol

from _raw import collect, raw_stream
from _tsnode import REPO, SPIKEWIRE_JS, _env, node_binary, ts_node
from spikewire.codec.messages import ClockRequest, ClockResponse, Close, DescribeRequest, frame
from spikewire.errors import CODES, ProtocolError
from spikewire.net.host import listen_addrs, open_host
from spikewire.node import Node
from spikewire.protocols import clock as cp
from spikewire.protocols.clock import ClockClient, ClockServer, ClockServerLimits, ProbeSchedule, now_us

FAST = ProbeSchedule(burst_size=8, spacing_s=0.002, fast_period_s=0.05)
OFFSET_US = 1_500_000


def _check(est, true_offset: float) -> None:  # type: ignore[no-untyped-def]
    assert est is not None
    assert est.uncertainty_us >= est.delay_min_us / 2
    assert abs(est.offset_us - true_offset) <= est.uncertainty_us, (est.offset_us, est.uncertainty_us)


def test_python_client_against_typescript_server(tmp_path: Path) -> None:
    with ts_node({"name": "ts-clock"}, tmp_path) as ts:
        async def main() -> ClockClient:
            async with open_host() as h:
                client = ClockClient(await cp.open_clock(h, ts.addr), schedule=FAST)
                with trio.fail_after(20):
                    await client.run(bursts=6)
                return client
        client = trio.run(main)
    assert client.stats.probes == 48 and client.stats.answers == 48 and client.stats.timeouts == 0
    _check(client.estimate(), 0.0)  # one machine, one clock: the true offset is 0


def test_typescript_client_against_python_server_with_a_known_offset() -> None:
    async def main() -> list[dict]:
        async with Node(clock=lambda: now_us() + OFFSET_US) as node:
            with trio.fail_after(60):
                r = await trio.run_process([node_binary(), str(SPIKEWIRE_JS), "clock", node.addrs[0], "--json",
                                            "--duration", "3"], capture_stdout=True, capture_stderr=True,
                                           check=False, env=_env(), cwd=str(REPO))
            assert r.returncode == 0, r.stderr.decode()
            assert node.clock_server.stats.failed == 0
            return [json.loads(line) for line in r.stdout.decode().splitlines()]
    lines = trio.run(main)
    summary = lines[-1]
    assert summary["summary"] is True
    # The summary is taken when the duration ends: the probes of a burst still in flight are not answered yet.
    assert 0 < summary["answers"] <= summary["probes"] <= summary["answers"] + 16
    assert summary["timeouts"] == 0
    assert abs(summary["offset_us"] - OFFSET_US) <= summary["uncertainty_us"]


def test_python_client_against_python_server_with_a_known_offset() -> None:
    async def main() -> None:
        async with Node(clock=lambda: now_us() - OFFSET_US) as server, Node() as client:
            est = await client.clock(server.addrs[0])
            _check(est, -OFFSET_US)
    trio.run(main)


def test_server_answers_what_it_owes_then_ends_without_a_close() -> None:
    async def main() -> None:
        async with Node() as node, open_host() as h:
            s = await raw_stream(h, node.addrs[0], cp.PROTOCOL)
            t = now_us()
            await s.write(frame(ClockRequest(7, t)) + frame(ClockRequest(8, t + 1)) + frame(ClockRequest(9, t + 2))
                          + frame(Close(CODES["normal"])))
            await s.close()  # our write side
            ans = await collect(s)
            assert [(m.id, m.t1) for m in ans.messages] == [(7, t), (8, t + 1), (9, t + 2)]
            assert all(isinstance(m, ClockResponse) and m.t3 >= m.t2 for m in ans.messages)
            assert ans.ended == "eof"  # no close of its own (spec §9.3.1)
    trio.run(main)


def test_server_rejects_other_messages_and_times_out_idle_streams() -> None:
    async def main() -> None:
        async with open_host() as server, open_host() as h:
            srv = ClockServer(limits=ClockServerLimits(idle_s=0.5))
            server.set_stream_handler(TProtocol(cp.PROTOCOL), srv.handler)
            addr = listen_addrs(server)[0]
            s = await raw_stream(h, addr, cp.PROTOCOL)
            await s.write(frame(DescribeRequest()))
            ans = await collect(s)
            assert [m.code for m in ans.messages] == [CODES["unexpected-message"]] and ans.ended == "reset"
            s = await raw_stream(h, addr, cp.PROTOCOL)
            ans = await collect(s, timeout=10)
            assert [m.code for m in ans.messages] == [CODES["timeout"]] and ans.ended == "reset"
            assert srv.stats.timeouts == 1
    trio.run(main)


def test_rate_limit_delays_answers_between_t2_and_t3() -> None:
    async def main() -> None:
        async with open_host() as server, open_host() as h:
            srv = ClockServer(limits=ClockServerLimits(requests_per_second=20, burst=2))
            server.set_stream_handler(TProtocol(cp.PROTOCOL), srv.handler)
            s = await raw_stream(h, listen_addrs(server)[0], cp.PROTOCOL)
            t = now_us()
            await s.write(b"".join(frame(ClockRequest(i, t)) for i in range(8)))
            await s.close()
            ans = await collect(s)
            assert [m.id for m in ans.messages] == list(range(8))
            waits = [m.t3 - m.t2 for m in ans.messages]
            assert waits[-1] >= 200_000  # 6 requests beyond the burst at 20/s: about 0.3 s
    trio.run(main)


def test_slow_consumer_is_closed_and_reset() -> None:
    async def main() -> None:
        async with open_host() as server, open_host() as h:
            srv = ClockServer(limits=ClockServerLimits(requests_per_second=1e6, burst=1_000_000, stall_s=1.0))
            server.set_stream_handler(TProtocol(cp.PROTOCOL), srv.handler)
            s = await raw_stream(h, listen_addrs(server)[0], cp.PROTOCOL)
            t = now_us()
            chunk = b"".join(frame(ClockRequest(i, t)) for i in range(5000))
            sent = 0
            # py-libp2p opens a receive window of about 4 MiB on the attacker's side, so the server answers
            # about 120,000 requests before its writes stall: a volume test, bounded at 90 s.
            with trio.move_on_after(90):
                # Never read: the server's writes stall, it stops reading, then gives up on the stream.
                while not srv.stats.slow_consumer:
                    with trio.move_on_after(0.5):
                        try:
                            await s.write(chunk)
                            sent += 5000
                        except Exception:  # the server reset the stream
                            break
                while not (srv.stats.slow_consumer and srv.stats.failed):
                    await trio.sleep(0.05)
            assert srv.stats.slow_consumer == 1
            assert srv.stats.failed == 1
            assert srv.stats.answers < srv.stats.requests <= sent  # it stopped answering, then reading
    trio.run(main)


def test_client_rejects_a_wrong_echo() -> None:
    async def main() -> None:
        async with open_host() as server, open_host() as h:
            seen: list = []

            async def liar(stream) -> None:  # type: ignore[no-untyped-def]
                from spikewire.wire.stream import FramedStream
                fs = FramedStream(stream)
                req = await fs.read_message()
                await fs.write(ClockResponse(req.id + 1, req.t1, now_us(), now_us()))
                ans = await collect(stream)
                seen.append(ans)
            server.set_stream_handler(TProtocol(cp.PROTOCOL), liar)
            client = ClockClient(await cp.open_clock(h, listen_addrs(server)[0]), schedule=FAST)
            with pytest.raises(ProtocolError) as e:
                with trio.fail_after(20):
                    await client.run(bursts=1)
            assert e.value.code == "invalid-message"
            with trio.fail_after(20):
                while not seen:
                    await trio.sleep(0.05)
            assert [m.code for m in seen[0].messages if isinstance(m, Close)] == [CODES["invalid-message"]]
    trio.run(main)


def test_server_sends_nothing_more_after_an_error_close() -> None:
    async def main() -> None:
        async with Node() as node, open_host() as h:
            s = await raw_stream(h, node.addrs[0], cp.PROTOCOL)
            # Many requests, then a close with an error code: the server may have answered some already,
            # but it answers nothing it still owes after reading the close, and ends without a close.
            t = now_us()
            await s.write(b"".join(frame(ClockRequest(i, t)) for i in range(200)) + frame(Close(CODES["timeout"])))
            ans = await collect(s)
            assert all(isinstance(m, ClockResponse) for m in ans.messages)
            assert [m.id for m in ans.messages] == list(range(len(ans.messages)))
            assert ans.ended == "eof"
            with trio.fail_after(20):
                while node.clock_server.stats.failed < 1:
                    await trio.sleep(0.05)
    trio.run(main)


def test_measure_clock_error_against_typescript(tmp_path: Path) -> None:
    """The benchmark's function: its figures describe the run (true offset 0 on one machine)."""
    with ts_node({"name": "ts-measure"}, tmp_path) as ts:
        r = trio.run(lambda: cp.measure_clock_error(ts.addr, 2.0, schedule=FAST))
    # The duration may end inside a burst: its last probes are not answered yet.
    assert 0 < r["answers"] <= r["probes"] <= r["answers"] + FAST.burst_size and r["bursts"] > 0
    for view in ("bursts_view", "checks_view"):
        v = r[view]
        assert v["n"] > 0 and 0 <= v["abs_error_p50_us"] <= v["abs_error_p99_us"] <= v["abs_error_max_us"]
        assert 0.0 <= v["coverage"] <= 1.0
    assert abs(r["final_offset_us"]) <= r["final_uncertainty_us"]
    assert r["final_uncertainty_us"] >= r["delay_min_us"] / 2


def test_a_second_client_on_the_same_estimator_keeps_estimating() -> None:
    """A node that reconnects hands its estimator to the next client: that client's bursts must not reuse
    numbers the estimator has ended (a late answer once raised ValueError and ended the node's thread)."""
    async def main() -> None:
        async with Node(clock=lambda: now_us() - OFFSET_US) as server, open_host() as h:
            first = ClockClient(await cp.open_clock(h, server.addrs[0]), schedule=FAST)
            await first.run(bursts=3)
            second = ClockClient(await cp.open_clock(h, server.addrs[0]), schedule=FAST, estimator=first.estimator)
            await second.run(bursts=3)
            assert second.stats.bursts == 3 and second.stats.answers > 0
            _check(second.estimator.estimate(now_us()), -OFFSET_US)
    trio.run(main)
