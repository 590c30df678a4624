"""The async loops of one events stream on a FramedStream: an event sender fed by an out port, and an
event receiver. Both implement §9.2.10: an error found here is sent as close{code} and the stream reset;
a close from the peer ends the stream; a stream whose remote write side ends without a close failed."""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

import trio

from ..errors import ProtocolError, RemoteCloseError, SpikewireError
from ..wire.stream import FramedStream, StreamFailed
from . import _wire as w
from .clock import Clock
from .ports import OutPort
from .receiver import EventReceiver
from .sender import EventSender
from .states import Closed, Events, Ignored, Lost, Progress

log = logging.getLogger("spikewire.events")

#: A receiver ends a stream on which nothing arrived for this long (§9.2.6: not sooner than 10 s).
IDLE_TIMEOUT_S = 20.0
#: Largest write: frames are joined into one transport write up to about this many bytes.
WRITE_BYTES = 1 << 20


class StreamEnded(SpikewireError):
    """The peer's write side ended without a close: the stream failed (§9.2.10, abnormal end). Reported
    with `unexpected-message` (a close was expected), as the reference does (spec Appendix B, revision 4)."""

    def __init__(self) -> None:
        super().__init__("unexpected-message", "the peer ended the stream without a close")


async def read_decoded(fs: FramedStream, ctx: Any, timeout: float | None) -> Any | None:
    """The next message, decoded; on a framing, CBOR or message error close{code} + reset, then raise."""
    item = await fs.read_item(timeout=timeout)
    if item is None:
        return None
    try:
        return w.decode(item, ctx)
    except ProtocolError as err:
        await fs.fail(err)
        raise


#: How long an end waits, after the peer's close or reject, for the peer to end its write side.
AFTER_END_S = 5.0


async def expect_end(fs: FramedStream, ctx: Any, timeout: float = AFTER_END_S) -> None:
    """After the peer's close or reject: read until the peer ends its write side, then close ours. Any
    message is ``unexpected-message`` (§9.2.10: close{code} and a reset, then raised; our write side is still
    open, so the close can be sent); a peer that neither ends nor sends within ``timeout`` gets a reset.
    ``ctx`` is the state machine's context (it allows nothing)."""
    with trio.move_on_after(timeout):
        try:
            msg = await read_decoded(fs, ctx, None)
        except ProtocolError:
            raise
        except SpikewireError:
            return  # a reset: the stream is over anyway
        if msg is None:
            await fs.close_write()
            return
        err = ProtocolError("unexpected-message", "a message after the peer's close or reject")
        await fs.fail(err)
        raise err
    await fs.reset()


async def run_sender(fs: FramedStream, sender: EventSender, port: OutPort, clock: Clock,
                     *, stop: trio.Event | None = None, stop_code: int = 21) -> Closed | None:
    """Serve one stream from an out port until the peer closes it, an error ends it, or ``stop`` is set
    (then close{shutdown}). Returns the peer's Closed, or None when this end ended the stream."""
    wake = trio.Event()
    ended: list[Any] = []
    in_write = False

    def kick() -> None:
        wake.set()

    port.attach(sender, kick)
    tick_s = min(sender.watermark_interval_us / 1e6, 0.1)
    try:
        async with trio.open_nursery() as nursery:

            async def reader() -> None:
                try:
                    while True:
                        msg = await read_decoded(fs, sender.context(), None)
                        if msg is None:
                            raise StreamEnded()
                        try:
                            res = sender.receive(msg)
                        except ProtocolError as err:
                            await fs.fail(err)
                            raise
                        if isinstance(res, Closed):
                            ended.append(res)
                            await expect_end(fs, sender.context())
                            nursery.cancel_scope.cancel()
                            return
                except (SpikewireError, StreamFailed) as err:
                    ended.append(err)
                    nursery.cancel_scope.cancel()

            async def writer() -> None:
                nonlocal wake, in_write
                try:
                    while True:
                        with trio.move_on_after(tick_s):
                            await wake.wait()
                        wake = trio.Event()
                        now = clock()
                        if sender.is_slow(now):
                            break
                        msgs = sender.take(now, max_events=1 << 18)
                        if not msgs and sender.tick_due(now) and port.has_pending:
                            # Events the port holds must reach this stream before a watermark can pass them.
                            port.flush()
                            msgs = sender.take(now, max_events=1 << 18)
                        if not msgs:
                            wm_now = now if port.horizon is None else min(now, port.horizon + sender.lateness_us)
                            wm = sender.tick(now, wm_now)
                            if wm is not None:
                                msgs = [wm]
                        if stop is not None and stop.is_set():
                            sender.request_end(stop_code, None if stop_code == 0 else "shutdown")
                        if sender.ending:
                            # The end is decided once, before the write: a request that comes during the
                            # write is seen at the next turn, never between a write and the end of our side.
                            await end_stream(fs, sender, msgs, clock())
                            ended.append(None)
                            nursery.cancel_scope.cancel()
                            return
                        if msgs:
                            in_write = True
                            await fs.write(*msgs)
                            in_write = False
                            sender.wrote(clock())
                except (SpikewireError, StreamFailed) as err:
                    ended.append(err)
                    nursery.cancel_scope.cancel()

            async def watchdog() -> None:
                while True:
                    await trio.sleep(0.1)
                    if sender.is_slow(clock()):
                        sender.sent_close()
                        ended.append(ProtocolError("slow-consumer", "the receiver does not keep up"))
                        nursery.cancel_scope.cancel()
                        return
                    if stop is not None and stop.is_set():
                        wake.set()

            nursery.start_soon(reader)
            nursery.start_soon(writer)
            nursery.start_soon(watchdog)
    finally:
        port.detach(sender)
    res = ended[0] if ended else None
    if isinstance(res, SpikewireError) and _window_timeout(res):
        # py-libp2p's yamux gives up a write after 5 s without a window update: the receiver has not read for
        # that long, which is a slow consumer (§9.2.9), not a reset by the peer.
        res = ProtocolError("slow-consumer", "the receiver did not read for 5 s (yamux write timeout)")
        in_write = True  # the window is closed: no close can reach the peer
    if isinstance(res, ProtocolError) and res.code == "slow-consumer":
        # A write cut off mid-frame leaves no room for a close that the peer could read: reset only.
        await fs.reset(None if in_write else "slow-consumer", "the receiver does not keep up")
        raise res
    if isinstance(res, BaseException):
        await fs.reset()
        raise res
    return res


async def end_stream(fs: FramedStream, sender: EventSender, msgs: list[Any], now: int) -> None:
    """End a served stream as its sender was asked to (or at the end of its sequence numbers): ``msgs``
    (taken, not yet written), then for a graceful code (normal, shutdown) what is still queued, a final
    watermark, close{code} and the end of our write side; for an error code close{code} and a reset."""
    code, reason = sender.end_request if sender.end_request is not None else (0, None)
    if code in (0, 21):
        await fs.write(*msgs, *sender.closing(code, now, reason))
        await fs.close_write()
    else:
        if msgs:
            await fs.write(*msgs)
        sender.sent_close()
        await fs.reset(code, reason)


def _window_timeout(err: BaseException) -> bool:
    """Is this the failure of a write that py-libp2p's yamux gave up for want of a window update?"""
    seen: BaseException | None = err
    for _ in range(5):
        if seen is None:
            return False
        if "window update" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def run_receiver(fs: FramedStream, receiver: EventReceiver,
                       deliver: Callable[[Events], Awaitable[None]],
                       on_other: Callable[[Any], None] | None = None,
                       *, idle_timeout: float = IDLE_TIMEOUT_S) -> Closed:
    """Receive an open stream's messages until the peer's close; deliver each batch.

    Raises RemoteCloseError for a close with an error code, ProtocolError for an error found here (after
    close{code} + reset), StreamEnded / StreamFailed for an abnormal end."""
    while True:
        msg = await read_decoded(fs, receiver.context(), idle_timeout)
        if msg is None:
            if receiver.we_closed:
                # §9.2.10: the peer answered our close by ending its write side (its own close is optional).
                return Closed(0, None)
            await fs.reset()
            raise StreamEnded()
        try:
            res = receiver.receive(msg)
        except ProtocolError as err:
            await fs.fail(err)
            raise
        if isinstance(res, Events):
            await deliver(res)
        elif isinstance(res, Closed):
            await expect_end(fs, receiver.context())
            if res.code != 0:
                raise RemoteCloseError(res.code, res.reason)
            return res
        elif isinstance(res, (Progress, Lost, Ignored)) and on_other is not None:
            on_other(res)
