"""FramedStream over real py-libp2p streams on loopback (spec §5, §9.2.10)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio
from libp2p.custom_types import TProtocol

from _raw import collect
from spikewire.codec.messages import ClockRequest, Close, DescribeRequest, frame
from spikewire.errors import CODES, ProtocolError, StreamResetError
from spikewire.net.host import dial, listen_addrs, open_host, open_stream
from spikewire.wire.stream import FramedStream, StreamFailed

PROTO = "/spikewire-test/frames/1.0.0"


def run_pair(body: Callable[[Any, Any], Awaitable[None]]) -> None:
    """Open a stream between two hosts; body(dialer_stream, listener_stream)."""
    async def main() -> None:
        async with open_host() as a, open_host() as b:
            send, recv = trio.open_memory_channel[Any](1)
            done = trio.Event()

            async def handler(stream: Any) -> None:
                await send.send(stream)
                await done.wait()
            b.set_stream_handler(TProtocol(PROTO), handler)
            peer = await dial(a, listen_addrs(b)[0])
            s = await open_stream(a, peer, [PROTO])
            with trio.fail_after(20):
                other = await recv.receive()
                try:
                    await body(s, other)
                finally:
                    done.set()
    trio.run(main)


def test_several_frames_in_one_write_and_split_frames() -> None:
    async def body(a: Any, b: Any) -> None:
        fa, fb = FramedStream(a), FramedStream(b)
        await fa.write(ClockRequest(1, 10), ClockRequest(2, 20), DescribeRequest())
        data = frame(ClockRequest(3, 30)) + frame(ClockRequest(4, 2**40))
        for i in range(len(data)):  # one byte at a time
            await a.write(data[i:i + 1])
        await fa.close_write()
        got = []
        while (m := await fb.read_message()) is not None:
            got.append(m)
        assert got == [ClockRequest(1, 10), ClockRequest(2, 20), DescribeRequest(), ClockRequest(3, 30),
                       ClockRequest(4, 2**40)]
    run_pair(body)


@pytest.mark.parametrize("data,code", [
    (frame(ClockRequest(1, 1))[:-1], "malformed-frame"),   # the stream ends inside a body
    (b"\x85", "malformed-frame"),                           # ... inside a prefix
    (b"\x83\x00", "malformed-frame"),                       # a prefix not in minimal form
    (b"\x80\x80\x80\x80\x01", "malformed-frame"),           # a 5-byte prefix
    (b"\x03\xa1\x00", "malformed-frame"),                   # truncated
    (b"\x02\xa0\x00", "invalid-cbor"),                      # bytes after the item
])
def test_bad_frames_close_with_the_code_and_reset(data: bytes, code: str) -> None:
    async def body(a: Any, b: Any) -> None:
        fb = FramedStream(b)
        await a.write(data)
        await a.close()  # our write side: the frame is cut off for good

        async def reader() -> None:
            with pytest.raises(ProtocolError) as e:
                await fb.read_message()
            assert e.value.code == code
        async with trio.open_nursery() as n:
            n.start_soon(reader)
            ans = await collect(a)
        assert [m.code for m in ans.messages] == [CODES[code]] and ans.ended == "reset"
    run_pair(body)


def test_frame_too_large_is_refused_from_the_prefix_alone() -> None:
    async def body(a: Any, b: Any) -> None:
        fb = FramedStream(b, max_frame=1 << 20)
        await a.write(b"\x81\x80\x40")  # L = 2^20 + 1, no body follows and the stream stays open
        with pytest.raises(ProtocolError) as e:
            await fb.read_message()
        assert e.value.code == "frame-too-large"
        ans = await collect(a)
        assert [m.code for m in ans.messages] == [CODES["frame-too-large"]] and ans.ended == "reset"
    run_pair(body)


def test_read_deadline() -> None:
    async def body(a: Any, b: Any) -> None:
        fb = FramedStream(b)
        with pytest.raises(ProtocolError) as e:
            await fb.read_message(timeout=0.3)
        assert e.value.code == "timeout"
        ans = await collect(a)
        assert [m.code for m in ans.messages] == [CODES["timeout"]] and ans.ended == "reset"
    run_pair(body)


def test_close_and_reset_as_the_peer_sees_them() -> None:
    async def body(a: Any, b: Any) -> None:
        fa, fb = FramedStream(a), FramedStream(b)
        await fb.close("normal", "done")
        assert await fa.read_message() == Close(0, "done")
        assert await fa.read_message() is None  # then the end of its write side
        with pytest.raises(StreamFailed):
            await fb.write(DescribeRequest())
        await fa.reset("shutdown")
        await trio.sleep(0.2)  # the reset arrives before b reads: the close sent before it is not lost
        assert await fb.read_message() == Close(CODES["shutdown"])
        with pytest.raises(StreamResetError):
            await fb.read_message()
        assert fb.failure is not None and fb.failure.code == "stream-reset"
    run_pair(body)


def test_arrival_time_is_never_after_the_read() -> None:
    async def body(a: Any, b: Any) -> None:
        from spikewire.protocols.clock import now_us
        fb = FramedStream(b, clock=now_us)
        await FramedStream(a).write(ClockRequest(1, 1))
        await trio.sleep(0.05)  # the bytes wait in the muxer: the arrival time is when they came
        before_read = now_us()
        assert await fb.read_message() == ClockRequest(1, 1)
        assert fb.last_arrival is not None and fb.last_arrival <= before_read - 40_000
    run_pair(body)
