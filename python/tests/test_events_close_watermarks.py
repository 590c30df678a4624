"""Ending streams on the application's request (OutPort.close_streams, InPort.close_streams) and a
subscription's watermarks (sub.watermark, subscribe(..., watermarks=True)), between two Python nodes over
loopback TCP (real py-libp2p hosts)."""
from __future__ import annotations

import numpy as np
import trio

from spikewire.errors import RemoteCloseError
from spikewire.events import WatermarkItem
from spikewire.events.clock import now_us
from spikewire.events.ports import InPort, OutPort
from spikewire.events.push import PushLink
from spikewire.events.subscription import Subscription
from spikewire.net.host import listen_addrs, open_host

from test_events_roles import DEADLINE, node


async def steady(out: OutPort, stop: trio.Event, per: int = 50) -> None:
    """Emit `per` events every millisecond or so until `stop`, once a stream is attached."""
    while out.streams == 0:
        await trio.sleep(0.005)
    i = 0
    while not stop.is_set():
        out.emit((np.arange(per) + i) % out.channels, np.full(per, now_us()))
        i += per
        await trio.sleep(0.001)


def test_close_streams_sends_every_event_then_close_normal() -> None:
    """Under a steady source, close_streams at an arbitrary moment: every event emitted before the call
    arrives, then a final watermark past the last event, then close{normal}, and the iteration ends
    without error. Several rounds, at different moments, because the end must not race the writer."""
    async def main() -> None:
        with trio.fail_after(DEADLINE * 3):
            for round_ in range(6):
                out = OutPort("spikes", channels=16, flush_interval_us=500 + 300 * round_)
                async with node([out]) as (host_a, _svc, n), open_host() as host_b:
                    stop = trio.Event()
                    n.start_soon(steady, out, stop)
                    sub = Subscription(host_b, listen_addrs(host_a)[0], "spikes", reconnect=False)
                    state: dict[str, int] = {}

                    async def close_later() -> None:
                        while out.streams == 0:
                            await trio.sleep(0.005)
                        await trio.sleep(0.05 + 0.013 * round_)
                        state["emitted"] = out.stats.emitted  # the call below flushes these first
                        state["closed"] = await out.close_streams("normal")
                        stop.set()

                    got, last_time = 0, -1
                    async with trio.open_nursery() as n2:
                        n2.start_soon(close_later)  # the subscription connects when iterated
                        async for b in sub:
                            got += len(b)
                            last_time = int(b.times[-1])
                    assert state["closed"] == 1
                    assert state["emitted"] > 0
                    assert got == state["emitted"], (round_, got, state)
                    assert sub.stats.closes == {"normal": 1}
                    assert sub.stats.stream_errors == {} and sub.error is None
                    assert sub.stats.gap_events == 0 and sub.stats.lost_events == 0
                    # The final watermark came after the last batch and does not fall behind it.
                    assert sub.receiver is not None and sub.receiver.last_watermark is not None
                    assert sub.receiver.last_watermark >= last_time
                    assert out.streams == 0
                    n.cancel_scope.cancel()
    trio.run(main)


def test_close_streams_with_an_error_code_reaches_the_subscriber() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE):
            out = OutPort("spikes", channels=4)
            async with node([out]) as (host_a, _svc, n), open_host() as host_b:
                sub = Subscription(host_b, listen_addrs(host_a)[0], "spikes", reconnect=False)
                caught: list[BaseException] = []

                async def consume() -> None:
                    try:
                        async for _ in sub:
                            pass
                    except RemoteCloseError as err:
                        caught.append(err)

                n.start_soon(consume)
                while out.streams == 0:
                    await trio.sleep(0.005)
                assert await out.close_streams("internal-error", "going away") == 1
                while not caught:
                    await trio.sleep(0.005)
                assert caught[0].code == "internal-error"
                assert sub.stats.closes == {"internal-error": 1}
                assert await out.close_streams("normal") == 0  # nothing left to end
    trio.run(main)


def test_in_port_close_streams_ends_a_push_link_with_close_normal() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE):
            async with open_host() as host_b:
                inp = InPort("in", channels=4, push=[str(host_b.get_id())])
                async with node([inp]) as (host_a, svc, _n):
                    out = OutPort("src", channels=4)
                    async with trio.open_nursery() as n2:
                        n2.start_soon(out.run_flusher)
                        link = PushLink(host_b, out, listen_addrs(host_a)[0], "in", min_backoff_s=5,
                                        max_backoff_s=5)
                        n2.start_soon(link.run)
                        await link.open.wait()
                        out.emit(np.arange(100) % 4, np.full(100, now_us()))
                        while inp.stats.received < 100:
                            await trio.sleep(0.005)
                        assert await inp.close_streams("normal") == 1
                        assert link.stats.closes == {"normal": 1}
                        assert svc.stats.stream_errors == 0 and svc.errors == {}, svc.errors
                        assert inp.stats.streams == 0
                        link.stop()
                        await link.wait_done()
                        n2.cancel_scope.cancel()
    trio.run(main)


def test_watermarks_are_yielded_in_stream_order_when_asked() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE):
            out = OutPort("spikes", channels=8, watermark_interval_ms=20)
            async with node([out]) as (host_a, _svc, n), open_host() as host_b:
                stop = trio.Event()
                n.start_soon(steady, out, stop, 5)
                sub = Subscription(host_b, listen_addrs(host_a)[0], "spikes", watermarks=True)
                assert sub.watermark is None
                marks: list[WatermarkItem] = []
                batches = 0
                floor = -1
                async with sub:
                    async for item in sub:
                        if isinstance(item, WatermarkItem):
                            assert item.port == "spikes" and item.peer == str(host_a.get_id())
                            assert item.time >= floor  # never before an earlier batch or watermark
                            floor = item.time
                            marks.append(item)
                            assert sub.watermark == item.time
                            if len(marks) >= 8:
                                break
                        else:
                            batches += 1
                            if batches == 5:
                                stop.set()  # the port goes idle: heartbeat watermarks follow
                            # A batch is never earlier than a watermark already received.
                            assert int(item.times[0]) >= floor
                assert batches > 0
                assert sub.stats.watermarks == len(marks)
                assert [m.time for m in marks] == sorted(m.time for m in marks)
                seqs = [m.seq for m in marks]
                assert seqs == sorted(seqs)
                n.cancel_scope.cancel()
    trio.run(main)


def test_watermarks_are_not_yielded_by_default() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE):
            out = OutPort("spikes", channels=8, watermark_interval_ms=20)
            async with node([out]) as (host_a, _svc, n), open_host() as host_b:
                stop = trio.Event()
                n.start_soon(steady, out, stop, 5)
                sub = Subscription(host_b, listen_addrs(host_a)[0], "spikes")
                items: list[object] = []

                async def consume() -> None:
                    async for item in sub:
                        items.append(item)
                        if len(items) == 5:
                            stop.set()

                async with trio.open_nursery() as n2:
                    n2.start_soon(consume)
                    while sub.stats.watermarks < 3 or sub.watermark is None:
                        await trio.sleep(0.01)
                    n2.cancel_scope.cancel()
                await sub.aclose()
                assert len(items) >= 5
                assert not any(isinstance(i, WatermarkItem) for i in items)
                stop.set()
                n.cancel_scope.cancel()
    trio.run(main)
