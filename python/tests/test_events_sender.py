"""The event sender's state machine, checked by feeding everything it emits, through the codec, into the
event receiver: sequence numbers, bounded queues, loss notices, watermarks, splitting, close."""
from __future__ import annotations

import numpy as np
import pytest

from spikewire.errors import ProtocolError
from spikewire.events import EventReceiver, EventSender, State
from spikewire.events import _wire as w
from spikewire.events.sender import FRAME_EVENTS
from spikewire.events.states import Accepted, Closed, Events, Ignored, Refused

T0 = 1_767_225_600_000_000


def pair(*, filter=None, max_events=4096, kind=0, channels=16, **kw):
    s = EventSender(opener=False, kind=kind, filter=filter, max_events=max_events, now=T0, **kw)
    o = w.Open(mode=w.MODE_SUBSCRIBE, port="spikes", channels=filter,
               max_events=None if max_events == 4096 else max_events)
    r = EventReceiver.subscriber(w.decode(w.encode(o)))
    r.receive(w.decode(w.encode(w.Accept(port="spikes", kind=kind, channels=channels, time=T0)), r.context()))
    return s, r


def deliver(r: EventReceiver, msgs) -> list:
    out = []
    for m in msgs:
        item = w.encode(m)
        assert len(item) <= w.MAX_FRAME
        out.append(r.receive(w.decode(item, r.context())))
    return out


def spikes(n, start=T0, step=10, channels=16, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, channels, n).astype(np.uint32),
            (start + step * np.arange(n)).astype(np.int64))


def test_numbers_events_and_receiver_gets_them_in_order() -> None:
    s, r = pair()
    ch, t = spikes(10_000)
    assert s.offer(ch[:3000], t[:3000]) == 3000
    assert s.offer(ch[3000:], t[3000:]) == 7000
    msgs = s.take(T0)
    assert all(isinstance(m, w.Batch) and m.count <= 4096 for m in msgs)
    got = [x for x in deliver(r, msgs) if isinstance(x, Events)]
    assert np.array_equal(np.concatenate([g.channels for g in got]), ch)
    assert np.array_equal(np.concatenate([g.times for g in got]), t)
    assert r.expected == 10_000 and r.received == 10_000 and r.missing == 0
    assert not s.pending


def test_splits_to_receiver_max_events_and_own_batch_size() -> None:
    s, r = pair(max_events=8192, max_batch_events=65536)
    ch, t = spikes(20_000)
    s.offer(ch, t)
    msgs = s.take(T0)
    assert [m.count for m in msgs] == [8192, 8192, 3616]
    deliver(r, msgs)
    s2, _ = pair(max_events=8192, max_batch_events=1000)
    s2.offer(ch, t)
    assert max(m.count for m in s2.take(T0)) == 1000


def test_splits_to_the_frame_bound() -> None:
    # Weighted events with large channel ids and deltas: up to 17 bytes each on the wire.
    n = 100_000
    s, r = pair(kind=1, channels=2**32 - 1, max_events=2**20, max_batch_events=2**20)
    ch = np.full(n, 2**32 - 2, dtype=np.uint32)
    t = (T0 + np.arange(n, dtype=np.int64) * (2**35)).astype(np.int64)
    s.offer(ch, t, np.ones(n, dtype=np.float32))
    msgs = s.take(T0)
    assert max(m.count for m in msgs) == FRAME_EVENTS
    assert all(len(w.encode(m)) <= w.MAX_FRAME for m in msgs)
    assert len(msgs) == -(-n // FRAME_EVENTS)


def test_channel_filter_numbers_only_filtered_events() -> None:
    s, r = pair(filter=[1, 3])
    ch = np.array([0, 1, 2, 3, 1], dtype=np.uint32)
    t = T0 + np.arange(5, dtype=np.int64)
    assert s.offer(ch, t) == 3
    ev = [x for x in deliver(r, s.take(T0)) if isinstance(x, Events)]
    assert ev[0].channels.tolist() == [1, 3, 1]
    assert r.expected == 3


def test_queue_bound_in_events_drops_and_reports_queue_overflow() -> None:
    s, r = pair(queue_events=1000)
    ch, t = spikes(1500)
    assert s.offer(ch, t) == 1500
    assert s.queued_events == 1000 and s.dropped == {1: 500}
    msgs = s.take(T0)
    res = deliver(r, msgs)
    assert isinstance(msgs[-1], w.Loss) and msgs[-1].seq == 1000 and msgs[-1].count == 500
    assert r.lost == {1: 500} and r.missing == 0 and r.expected == 1500
    # After the drain, events flow again with the next numbers.
    ch2, t2 = spikes(10, start=int(t[-1]) + 1)
    s.offer(ch2, t2)
    res = deliver(r, s.take(T0))
    assert isinstance(res[0], Events) and res[0].seq == 1500


def test_queue_bound_in_bytes() -> None:
    s, r = pair(queue_bytes=65536, queue_events=10**6)
    ch, t = spikes(10_000)
    s.offer(ch, t)
    assert s.queued_events == 65536 // 12 and s.queued_bytes <= 65536
    deliver(r, s.take(T0))
    assert r.lost == {1: 10_000 - 65536 // 12}


def test_late_events_are_dropped_and_reported_late() -> None:
    s, r = pair()
    t = np.array([T0 + 10, T0 + 5, T0 + 20, T0 + 15, T0 + 15, T0 + 30], dtype=np.int64)
    ch = np.zeros(6, dtype=np.uint32)
    s.offer(ch, t)
    msgs = s.take(T0)
    kinds = [(type(m).__name__, m.seq, m.count) for m in msgs]
    assert kinds == [("Batch", 0, 1), ("Loss", 1, 1), ("Batch", 2, 1), ("Loss", 3, 2), ("Batch", 5, 1)]
    deliver(r, msgs)
    assert r.lost == {4: 3} and r.received == 3
    # Behind the last watermark is late too.
    wm = s.watermark(T0 + 10_000)
    deliver(r, [wm])
    s.offer(np.zeros(1, dtype=np.uint32), np.array([wm.time - 1], dtype=np.int64))
    deliver(r, s.take(T0 + 10_000))
    assert r.lost == {4: 4}


def test_idle_watermarks_are_heartbeats_and_never_go_back() -> None:
    s, r = pair(lateness_us=1000, watermark_interval_us=100_000)
    assert s.tick(T0 + 50_000) is None
    wm = s.tick(T0 + 100_000)
    assert wm.seq == 0 and wm.time == T0 + 99_000
    assert s.tick(T0 + 150_000) is None
    deliver(r, [wm, s.tick(T0 + 200_000)])
    assert r.last_watermark == T0 + 199_000


def test_watermark_with_queued_events_does_not_pass_them() -> None:
    s, r = pair(lateness_us=0)
    ch, t = spikes(10, start=T0 + 5)
    s.offer(ch, t)
    # Queued, not taken: a watermark must carry seq 0 and a time no later than the first queued event.
    assert s.tick(T0 + 10**6) is None
    wm = s.watermark(T0 + 10**6)
    assert (wm.seq, wm.time) == (0, T0 + 5)
    deliver(r, [wm, *s.take(T0)])
    assert r.received == 10


def test_slow_consumer_detection() -> None:
    s, _ = pair(slow_consumer_us=1_000_000)
    ch, t = spikes(10)
    s.offer(ch, t)
    assert not s.is_slow(T0 + 500_000)
    assert s.is_slow(T0 + 1_500_000)
    s.take(T0 + 1_500_000)
    assert not s.is_slow(T0 + 3_000_000)  # nothing queued


def test_graceful_close_flushes_and_sends_final_watermark() -> None:
    s, r = pair()
    ch, t = spikes(5000)
    s.offer(ch, t)
    msgs = s.closing(0, T0 + 10**6)
    assert isinstance(msgs[-2], w.Watermark) and isinstance(msgs[-1], w.Close) and msgs[-1].code == 0
    res = deliver(r, msgs)
    assert isinstance(res[-1], Closed) and r.received == 5000
    assert s.offer(ch, t) == 0
    # A message after our close is in flight and ignored; the peer's close ends the stream.
    assert isinstance(s.receive(w.Close(code=0)), Closed)
    with pytest.raises(ProtocolError) as e:
        s.receive(w.Close(code=0))
    assert e.value.code == "unexpected-message"


def test_error_close_does_not_flush() -> None:
    s, _ = pair()
    s.offer(*spikes(10))
    msgs = s.closing(19, T0)
    assert len(msgs) == 1 and msgs[0].code == 19


def test_sequence_numbers_stop_at_2_pow_53_minus_1() -> None:
    s, r = pair()
    start = w.MAX53 - 5
    s.next_seq = start
    r.expected = start
    r.missing = start  # the receiver pretends it saw the earlier events as a gap
    assert s.offer(*spikes(10)) == 5
    assert s.exhausted and s.next_seq == w.MAX53
    assert s.offer(*spikes(1, start=T0 + 1000)) == 0
    msgs = s.take(T0)
    assert msgs[-1].seq + msgs[-1].count == w.MAX53
    deliver(r, msgs + s.closing(0, T0 + 10**6))
    assert r.state is State.ENDED


def test_event_sender_accepts_only_close_from_the_receiver() -> None:
    s, _ = pair()
    with pytest.raises(ProtocolError) as e:
        s.receive(w.Watermark(seq=0, time=T0))
    assert e.value.code == "unexpected-message"
    s2, _ = pair()
    assert isinstance(s2.receive(w.Close(code=0)), Closed)
    assert s2.state is State.ENDED


def test_push_opener_waits_for_accept_and_takes_max_events_from_it() -> None:
    s = EventSender(opener=True, kind=0, port="in", now=T0)
    assert s.offer(*spikes(10)) == 0  # nothing before accept (§9.2.3)
    assert isinstance(s.receive(w.Accept(port="in", kind=0, channels=4, time=T0, max_events=65536)), Accepted)
    assert s.max_events == 65536
    s3 = EventSender(opener=True, kind=0, port="in", now=T0)
    with pytest.raises(ProtocolError) as e:
        s3.receive(w.Accept(port="other", kind=0, channels=4, time=T0))
    assert e.value.code == "invalid-message"
    s4 = EventSender(opener=True, kind=0, port="in", now=T0)
    res = s4.receive(w.Close(code=4))
    assert isinstance(res, Refused) and res.by_close and res.code == 4


def test_random_offers_keep_the_loss_accounting_exact() -> None:
    rng = np.random.default_rng(7)
    s, r = pair(queue_events=3000, lateness_us=50)
    now = T0
    tlast = T0
    for _ in range(300):
        n = int(rng.integers(1, 2000))
        t = tlast + np.cumsum(rng.integers(-3, 20, n)).astype(np.int64)
        tlast = int(t.max())
        s.offer(rng.integers(0, 16, n).astype(np.uint32), t)
        now += int(rng.integers(0, 200_000))
        if rng.random() < 0.5:
            deliver(r, s.take(now, max_events=int(rng.integers(1, 5000))))
        wm = s.tick(now)
        if wm is not None:
            deliver(r, [wm])
    deliver(r, s.closing(0, now))
    assert r.expected == s.next_seq
    assert r.received == s.sent and r.missing == 0
    assert r.lost == s.dropped
    assert r.expected == r.received + r.lost_total


def test_receiver_rejects_accept_for_another_port() -> None:
    r = EventReceiver.subscriber(w.Open(mode=w.MODE_SUBSCRIBE, port="spikes"))
    with pytest.raises(ProtocolError) as e:
        r.receive(w.Accept(port="other", kind=0, channels=4, time=T0))
    assert e.value.code == "invalid-message"


def test_receiver_ignores_in_flight_messages_after_its_close() -> None:
    s, r = pair()
    r.sent_close()
    assert isinstance(r.receive(w.Watermark(seq=0, time=T0)), Ignored)
    assert isinstance(r.receive(w.Close(code=0)), Closed)


def test_consecutive_offers_are_joined_into_full_batches() -> None:
    s, r = pair(max_events=4096)
    ch, t = spikes(10_000)
    for a in range(0, 10_000, 1000):
        s.offer(ch[a:a + 1000], t[a:a + 1000])
    msgs = s.take(T0)
    assert [m.count for m in msgs] == [4096, 4096, 1808]
    got = [x for x in deliver(r, msgs) if isinstance(x, Events)]
    assert np.array_equal(np.concatenate([g.times for g in got]), t)
