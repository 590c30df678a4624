"""The async roles between two Python nodes over loopback TCP (real py-libp2p hosts): subscribe to an
out port, push into an in port, refusals, channel filters, malformed input."""
from __future__ import annotations

from contextlib import asynccontextmanager

import numpy as np
import pytest
import trio

from spikewire.errors import RejectedError
from spikewire.events.clock import now_us
from spikewire.events.ports import InPort, OutPort
from spikewire.events.push import PushLink
from spikewire.events.service import EventsService, Limits
from spikewire.events.subscription import Subscription
from spikewire.net.host import listen_addrs, open_host

DEADLINE = 20


@asynccontextmanager
async def node(ports, limits=None):
    async with open_host() as host, trio.open_nursery() as n:
        svc = EventsService(host, {p.name: p for p in ports}, limits=limits)
        svc.install()
        for p in ports:
            if isinstance(p, OutPort):
                n.start_soon(p.run_flusher)
        yield host, svc, n
        n.cancel_scope.cancel()


def train(channels: int, chunks: int, per: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, channels, per) for _ in range(chunks)]


async def emit_train(out: OutPort, chunks: list[np.ndarray]) -> None:
    """Emit once a stream is attached, each chunk at the current time."""
    while out.streams == 0:
        await trio.sleep(0.01)
    for ch in chunks:
        out.emit(ch, np.full(len(ch), now_us()))
        await trio.sleep(0.002)


def test_subscribe_receives_every_event_in_order_with_a_filter() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE):
            out = OutPort("spikes", channels=8)
            async with node([out]) as (host_a, _svc, n), open_host() as host_b:
                sub = Subscription(host_b, listen_addrs(host_a)[0], "spikes", channels=[1, 3, 5])
                chunks = train(8, 20, 2000)
                expected = sum(int(np.isin(c, [1, 3, 5]).sum()) for c in chunks)
                n.start_soon(emit_train, out, chunks)
                chs, ts = [], []
                async with sub:
                    async for b in sub:
                        assert b.channels.dtype == np.uint32 and b.times.dtype == np.int64
                        chs.append(b.channels)
                        ts.append(b.times)
                        if sub.stats.events == expected:
                            break
                ch = np.concatenate(chs)
                assert set(np.unique(ch).tolist()) <= {1, 3, 5}
                assert np.all(np.diff(np.concatenate(ts)) >= 0)
                assert sub.stats.gap_events == 0 and sub.stats.lost_events == 0
                assert sub.receiver.missing == 0
    trio.run(main)


def test_refusals_carry_their_codes() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE):
            out = OutPort("spikes", channels=4, subscribe=[])
            inp = InPort("in", channels=4)
            async with node([out, inp]) as (host_a, svc, _n), open_host() as host_b:
                addr = listen_addrs(host_a)[0]
                for port, code in (("nope", "unknown-port"), ("in", "wrong-direction"),
                                   ("spikes", "unauthorized")):
                    sub = Subscription(host_b, addr, port)
                    with pytest.raises(RejectedError) as e:
                        async for _ in sub:
                            pass
                    assert e.value.code == code
                out2 = OutPort("open", channels=4)
                svc.add_port(out2)
                sub = Subscription(host_b, addr, "open", channels=[4])
                with pytest.raises(RejectedError) as e:
                    async for _ in sub:
                        pass
                assert e.value.code == "channel-out-of-range"
    trio.run(main)


def test_push_into_an_in_port() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE):
            async with open_host() as host_b:
                inp = InPort("in", channels=4, push=[str(host_b.get_id())])
                async with node([inp]) as (host_a, _svc, _n):
                    out = OutPort("src", channels=4)
                    async with trio.open_nursery() as n2:
                        n2.start_soon(out.run_flusher)
                        link = PushLink(host_b, out, listen_addrs(host_a)[0], "in")
                        n2.start_soon(link.run)
                        await link.open.wait()
                        t = now_us()
                        out.emit(np.arange(1000) % 4, np.full(1000, t))
                        got = 0
                        reader = inp.reader()
                        async for b in reader:
                            got += len(b)
                            assert b.source == "src"
                            if got == 1000:
                                break
                        reader.close()
                        link.stop()
                        await link.wait_done()
                        assert link.stats.sent == 1000 and link.stats.dropped == {}
                        n2.cancel_scope.cancel()
    trio.run(main)


def test_push_refused_when_not_authorised() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE):
            inp = InPort("in", channels=4)  # closed by default (§11.2)
            async with node([inp]) as (host_a, _svc, _n), open_host() as host_b:
                out = OutPort("src", channels=4)
                link = PushLink(host_b, out, listen_addrs(host_a)[0], "in")
                await link.run()
                assert isinstance(link.error, RejectedError) and link.error.code == "unauthorized"
    trio.run(main)


def test_stream_limits_per_port_and_per_peer() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE):
            a, b = OutPort("a", channels=1), OutPort("b", channels=1)
            limits = Limits(max_streams_per_port=1, max_streams_per_peer=2)
            async with node([a, b, OutPort("c", channels=1)], limits) as (host_a, _svc, n), \
                    open_host() as host_b:
                addr = listen_addrs(host_a)[0]
                first = Subscription(host_b, addr, "a")
                n.start_soon(_drain, first)
                while a.streams == 0:
                    await trio.sleep(0.01)
                second = Subscription(host_b, addr, "a", reconnect=False)
                with pytest.raises(RejectedError) as e:
                    async for _ in second:
                        pass
                assert e.value.code == "too-many-streams"
                other = Subscription(host_b, addr, "b")
                n.start_soon(_drain, other)
                while b.streams == 0:
                    await trio.sleep(0.01)
                third = Subscription(host_b, addr, "c", reconnect=False)  # the peer holds 2 streams
                with pytest.raises(RejectedError) as e:
                    async for _ in third:
                        pass
                assert e.value.code == "too-many-streams"
                await first.aclose()
                await other.aclose()
    trio.run(main)


async def _drain(sub: Subscription) -> None:
    async for _ in sub:
        pass


def test_in_port_without_reader_drops_oldest_and_counts() -> None:
    from spikewire.events.ports import EventBatch

    async def main() -> None:
        port = InPort("in", channels=4, inbox_bytes=65536)
        for i in range(100):
            ch = np.zeros(1000, dtype=np.uint32)
            await port.put(EventBatch("p", "in", i * 1000, ch, np.arange(1000, dtype=np.int64)))
        # 12 bytes per event: 5 batches of 1000 fit in 64 KiB; the 95 oldest were dropped and counted.
        assert port.queued_bytes <= 65536
        assert port.stats.dropped_batches == 95 and port.stats.dropped_events == 95_000
        assert port.stats.received == 100_000
        b = port.get_nowait()
        assert b is not None and b.seq == 95_000
    trio.run(main)


def test_in_port_with_a_reader_holds_the_pusher_back() -> None:
    from spikewire.events.ports import EventBatch

    async def main() -> None:
        port = InPort("in", channels=4, inbox_bytes=65536)
        reader = port.reader()
        put_done = trio.Event()

        async def pusher() -> None:
            for i in range(10):
                await port.put(EventBatch("p", "in", i * 1000, np.zeros(1000, dtype=np.uint32),
                                          np.arange(1000, dtype=np.int64)))
            put_done.set()

        async with trio.open_nursery() as n:
            n.start_soon(pusher)
            await trio.sleep(0.2)
            assert not put_done.is_set() and port.queued_bytes <= 65536  # waiting, nothing dropped
            seqs = []
            async for b in reader:
                seqs.append(b.seq)
                if len(seqs) == 10:
                    break
        assert seqs == [i * 1000 for i in range(10)] and port.stats.dropped_events == 0
        reader.close()
    trio.run(main)


def test_a_paused_subscriber_gets_loss_notices_and_the_accounting_holds() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE * 2):
            # Weighted events with large channel ids (about 11 bytes each on the wire) fill the 16 MiB
            # yamux window of the paused stream in about a second, then the publisher's queue.
            out = OutPort("spikes", channels=2**31, kind="weighted")
            limits = Limits(queue_events=20_000)
            async with node([out], limits) as (host_a, svc, n), open_host() as host_b:
                sub = Subscription(host_b, listen_addrs(host_a)[0], "spikes")
                stop = trio.Event()

                async def pump() -> None:
                    while out.streams == 0:
                        await trio.sleep(0.01)
                    vals = np.ones(5000, dtype=np.float32)
                    while not stop.is_set():
                        out.emit(2**30 + np.arange(5000), np.full(5000, now_us()), vals)
                        await trio.sleep(0.002)

                n.start_soon(pump)
                async with sub:
                    async for _ in sub:
                        break
                    await trio.sleep(3.0)  # not reading: the yamux window closes, the publisher's queue fills
                    stop.set()
                    # The loss notice comes after the last queued batch and nothing follows it but
                    # watermarks (the iterator yields batches only): read for a while.
                    with trio.move_on_after(5):
                        async for _ in sub:
                            pass
                r = sub.receiver
                assert r.lost.get(1, 0) > 0  # queue-overflow
                assert r.missing == 0
                assert r.expected == r.received + r.lost_total == out.stats.emitted
    trio.run(main)


def test_a_subscriber_that_stops_reading_is_a_slow_consumer_and_reconnects() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE * 2):
            out = OutPort("spikes", channels=2**31, kind="weighted")
            async with node([out], Limits(queue_events=20_000)) as (host_a, svc, n), open_host() as host_b:
                sub = Subscription(host_b, listen_addrs(host_a)[0], "spikes")
                stop = trio.Event()

                async def pump() -> None:
                    while out.streams == 0:
                        await trio.sleep(0.01)
                    vals = np.ones(5000, dtype=np.float32)
                    while not stop.is_set():
                        out.emit(2**30 + np.arange(5000), np.full(5000, now_us()), vals)
                        await trio.sleep(0.002)

                n.start_soon(pump)
                async with sub:
                    async for _ in sub:
                        break
                    # Longer than py-libp2p's 5 s yamux write timeout (and than no slow-consumer limit).
                    with trio.move_on_after(15):
                        while svc.errors.get("slow-consumer", 0) == 0:
                            await trio.sleep(0.1)
                    assert svc.errors.get("slow-consumer", 0) == 1, svc.errors
                    stop.set()
                    with trio.move_on_after(10):
                        async for _ in sub:
                            if sub.stats.connects == 2:
                                break
                assert sub.stats.connects == 2 and sub.stats.stream_errors == {"stream-reset": 1}
    trio.run(main)
