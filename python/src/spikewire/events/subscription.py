"""Subscribe to a remote out port (spec §9.2, opener in subscribe mode): an async iterator of batches
with numpy columns that reconnects with exponential backoff.

It is pull-based: nothing is read from the stream until the application asks for the next batch, so a
slow consumer holds the publisher back through Yamux flow control (the publisher then drops and reports
losses), and no background task is needed.

    async with Subscription(host, "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…", "spikes") as sub:
        async for batch in sub:
            batch.channels, batch.times, batch.values
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any, Callable

import trio
from libp2p.abc import IHost

from ..errors import ProtocolError, RejectedError, RemoteCloseError, SpikewireError
from ..net.host import dial, open_stream
from ..wire.stream import FramedStream, StreamFailed
from . import _wire as w
from .clock import Clock, now_us
from .ports import EventBatch, WatermarkItem
from .receiver import EventReceiver
from .service import OPEN_TIMEOUT_S, PROTOCOL
from .states import Accepted, Closed, Events, Ignored, Lost, Progress, Refused
from .streams import IDLE_TIMEOUT_S, StreamEnded, expect_end, read_decoded

log = logging.getLogger("spikewire.events.subscription")

#: Refusals that will not change by trying again (§9.2.2): the subscription gives up.
PERMANENT = {"unknown-port", "wrong-direction", "unauthorized", "channel-out-of-range", "invalid-message",
             "unsupported", "kind-mismatch"}


@dataclass
class SubscriptionStats:
    events: int = 0
    batches: int = 0
    gap_events: int = 0
    lost_events: int = 0
    loss_notices: int = 0
    watermarks: int = 0
    connects: int = 0
    attempts: int = 0
    reconnect_gaps: int = 0
    reconnect_gap_us: int = 0
    closes: dict[str, int] = field(default_factory=dict)
    rejects: dict[str, int] = field(default_factory=dict)
    stream_errors: dict[str, int] = field(default_factory=dict)
    connect_errors: dict[str, int] = field(default_factory=dict)


Status = Callable[[dict[str, Any]], None]


def _count(d: dict[str, int], key: str) -> None:
    d[key] = d.get(key, 0) + 1


class Subscription:
    def __init__(self, host: IHost, addr: str, port: str, *, channels: list[int] | None = None,
                 delay_us: int | None = None, max_events: int = 65536, reconnect: bool = True,
                 min_backoff_s: float = 0.1, max_backoff_s: float = 2.0, source: str | None = None,
                 clock: Clock = now_us, on_status: Status | None = None,
                 idle_timeout_s: float = IDLE_TIMEOUT_S, watermarks: bool = False) -> None:
        self.host = host
        #: Yield a WatermarkItem for each watermark, between the batches.
        self.watermarks = watermarks
        self.addr = addr
        self.port = port
        self.open_msg = w.Open(mode=w.Mode(w.MODE_SUBSCRIBE), port=port,
                               channels=None if channels is None else tuple(channels), delay=delay_us,
                               max_events=None if max_events == 4096 else max_events, source=source)
        self.reconnect = reconnect
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.clock = clock
        self.on_status = on_status
        self.idle_timeout_s = idle_timeout_s
        self.stats = SubscriptionStats()
        self.peer: str | None = None
        self.accept: Any = None
        self.error: SpikewireError | None = None
        self.receiver: EventReceiver | None = None
        self._fs: FramedStream | None = None
        self._backoff = min_backoff_s
        self._closed = False
        self._ended_at: int | None = None

    @property
    def watermark(self) -> int | None:
        """The time of the latest watermark on the current stream (µs, the sender's clock), or None before
        the first one and after the stream ended (a new stream starts without one)."""
        if self._fs is None or self.receiver is None:
            return None
        return self.receiver.last_watermark

    # ------------------------------------------------------------------ status

    def _status(self, event: str, **kw: Any) -> None:
        if self.on_status is not None:
            self.on_status({"event": event, **kw})

    # ------------------------------------------------------------------ connection

    async def _connect(self) -> bool:
        """One attempt: dial, open, read the answer. True when the stream is open."""
        self.stats.attempts += 1
        self._status("status", state="connecting", attempt=self.stats.attempts - 1)
        try:
            peer = await dial(self.host, self.addr)
            self.peer = str(peer)
            stream = await open_stream(self.host, peer, [PROTOCOL])
        except SpikewireError as err:
            _count(self.stats.connect_errors, err.code)
            self.error = err
            self._status("status", state="retrying", error=err.code, message=str(err))
            return False
        fs = FramedStream(stream)
        receiver = EventReceiver.subscriber(self.open_msg)
        try:
            await fs.write(self.open_msg)
            msg = await read_decoded(fs, receiver.context(), OPEN_TIMEOUT_S)
            if msg is None:
                await fs.reset()
                raise StreamEnded()
            try:
                res = receiver.receive(msg)
            except ProtocolError as err:
                await fs.fail(err)
                raise
        except (SpikewireError, StreamFailed) as err:
            _count(self.stats.connect_errors, err.code)
            self.error = err
            self._status("status", state="retrying", error=err.code, message=str(err))
            return False
        if isinstance(res, Refused):
            try:
                await expect_end(fs, receiver.context())
            except SpikewireError as err:
                _count(self.stats.stream_errors, err.code)
            name = w.code_name(res.code)
            if res.by_close:
                _count(self.stats.closes, name)
            else:
                _count(self.stats.rejects, name)
            self.error = RejectedError(res.code, res.reason)
            self._status("refused", code=name, reason=res.reason)
            if name in PERMANENT:
                self._closed = True
                raise self.error
            return False
        assert isinstance(res, Accepted)
        self._fs = fs
        self.receiver = receiver
        self.accept = res.accept
        self.stats.connects += 1
        self._backoff = self.min_backoff_s
        self._status("status", state="open", peer=self.peer)
        if self._ended_at is not None:
            gap = self.clock() - self._ended_at
            self.stats.reconnect_gaps += 1
            self.stats.reconnect_gap_us += gap
            self._status("gap", reason="reconnect", gap_ms=round(gap / 1000, 1))
        return True

    async def _drop(self, err: BaseException | None) -> None:
        """The stream ended: count why, then wait out the backoff before the next attempt."""
        self._fs = None
        self._ended_at = self.clock()
        if isinstance(err, RemoteCloseError):
            pass  # counted when the close arrived
        elif isinstance(err, SpikewireError):
            _count(self.stats.stream_errors, err.code)
            self.error = err
            self._status("status", state="retrying", error=err.code, message=str(err))

    async def _wait_backoff(self) -> None:
        delay = self._backoff * (0.5 + random.random() / 2)
        self._backoff = min(self._backoff * 2, self.max_backoff_s)
        await trio.sleep(delay)

    # ------------------------------------------------------------------ iteration

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> EventBatch | WatermarkItem:
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._fs is None:
                if self.stats.attempts > 0:
                    if not self.reconnect:
                        self._closed = True
                        if self.error is not None:
                            raise self.error
                        raise StopAsyncIteration
                    await self._wait_backoff()
                if not await self._connect():
                    continue
            fs, receiver = self._fs, self.receiver
            assert fs is not None and receiver is not None
            try:
                msg = await read_decoded(fs, receiver.context(), self.idle_timeout_s)
                if msg is None:
                    await fs.reset()
                    raise StreamEnded()
                try:
                    res = receiver.receive(msg)
                except ProtocolError as err:
                    await fs.fail(err)
                    raise
            except (SpikewireError, StreamFailed) as err:
                await self._drop(err)
                continue
            if isinstance(res, Events):
                n = len(res.times)
                self.stats.events += n
                self.stats.batches += 1
                if res.gap:
                    self.stats.gap_events += res.gap
                    self._status("gap", reason="sequence", missing=res.gap)
                return EventBatch(self.peer or "", self.port, res.seq, res.channels, res.times, res.values,
                                  res.gap)
            if isinstance(res, Progress):
                self.stats.watermarks += 1
                if res.gap:
                    self.stats.gap_events += res.gap
                    self._status("gap", reason="sequence", missing=res.gap)
                if self.watermarks:
                    return WatermarkItem(self.peer or "", self.port, res.seq, res.time)
            elif isinstance(res, Lost):
                self.stats.lost_events += res.count
                self.stats.loss_notices += 1
                self._status("loss", count=res.count, reason=w.reason_name(res.reason))
            elif isinstance(res, Closed):
                name = w.code_name(res.code)
                _count(self.stats.closes, name)
                self._status("close", code=name, reason=res.reason)
                try:
                    await expect_end(fs, receiver.context())
                except SpikewireError as err:
                    _count(self.stats.stream_errors, err.code)
                    self.error = err
                if res.code != 0:
                    self.error = RemoteCloseError(res.code, res.reason)
                await self._drop(None)
            elif isinstance(res, Ignored):
                pass

    # ------------------------------------------------------------------ closing

    async def aclose(self) -> None:
        """Unsubscribe: close{normal} and the end of our write side; stop reconnecting."""
        self._closed = True
        fs, self._fs = self._fs, None
        if fs is not None and self.receiver is not None:
            self.receiver.sent_close()
            clean = False
            with trio.move_on_after(3):
                await fs.close(0)
                # Read what was in flight until the publisher's close or end (bounded).
                try:
                    while True:
                        msg = await read_decoded(fs, self.receiver.context(), 3)
                        if msg is None or isinstance(self.receiver.receive(msg), Closed):
                            clean = True
                            break
                except (SpikewireError, StreamFailed):
                    clean = True
            if not clean:
                with trio.CancelScope(shield=True):
                    await fs.reset()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        with trio.CancelScope(shield=True):
            await self.aclose()


async def subscribe(host: IHost, addr: str, port: str, **kw: Any) -> Subscription:
    """A subscription (see :class:`Subscription`); it connects on the first iteration."""
    return Subscription(host, addr, port, **kw)
