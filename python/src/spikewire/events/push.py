"""A push link (spec §9.2, opener in push mode): a local out port feeding a remote in port. It reconnects
with exponential backoff; events emitted while it is down are not queued for it."""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field

import trio
from libp2p.abc import IHost

from ..errors import ProtocolError, RejectedError, RemoteCloseError, SpikewireError
from ..net.host import dial, open_stream
from ..wire.stream import FramedStream, StreamFailed
from . import _wire as w
from .clock import Clock, now_us
from .ports import OutPort
from .sender import EventSender
from .service import OPEN_TIMEOUT_S, PROTOCOL, Limits
from .states import Accepted, Refused
from .streams import StreamEnded, expect_end, read_decoded, run_sender
from .subscription import PERMANENT

log = logging.getLogger("spikewire.events.push")


@dataclass
class PushStats:
    attempts: int = 0
    connects: int = 0
    sent: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    closes: dict[str, int] = field(default_factory=dict)
    rejects: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)


class PushLink:
    """Run with ``nursery.start_soon(link.run)``; ``link.stop()`` ends it with close{normal}."""

    def __init__(self, host: IHost, port: OutPort, addr: str, remote_port: str, *,
                 channels: list[int] | None = None, delay_us: int | None = None, limits: Limits | None = None,
                 min_backoff_s: float = 0.1, max_backoff_s: float = 2.0, clock: Clock = now_us) -> None:
        self.host = host
        self.port = port
        self.addr = addr
        self.remote_port = remote_port
        self.open_msg = w.Open(mode=w.Mode(w.MODE_PUSH), port=remote_port,
                               channels=None if channels is None else tuple(channels), delay=delay_us,
                               source=port.name)
        self.limits = limits or Limits()
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.clock = clock
        self.stats = PushStats()
        self.error: SpikewireError | None = None
        self.open = trio.Event()
        self._stop = trio.Event()
        self._done = trio.Event()
        self.sender: EventSender | None = None

    def stop(self) -> None:
        self._stop.set()

    async def wait_done(self) -> None:
        await self._done.wait()

    async def run(self) -> None:
        backoff = self.min_backoff_s
        try:
            while not self._stop.is_set():
                try:
                    await self._session()
                    backoff = self.min_backoff_s
                except RejectedError as err:
                    self.error = err
                    if err.code in PERMANENT:
                        log.warning("push link %s → %s %s refused: %s", self.port.name, self.addr,
                                    self.remote_port, err)
                        return
                except (SpikewireError, StreamFailed) as err:
                    self.error = err
                    key = err.code
                    self.stats.errors[key] = self.stats.errors.get(key, 0) + 1
                    log.debug("push link %s: %s", self.port.name, err)
                    if err.code in ("kind-mismatch", "channel-out-of-range") and self.stats.connects == 0:
                        return
                self.open = trio.Event()
                if self._stop.is_set():
                    return
                with trio.move_on_after(backoff * (0.5 + random.random() / 2)):
                    await self._stop.wait()
                backoff = min(backoff * 2, self.max_backoff_s)
        finally:
            self._done.set()

    async def _session(self) -> None:
        self.stats.attempts += 1
        peer = await dial(self.host, self.addr)
        stream = await open_stream(self.host, peer, [PROTOCOL])
        fs = FramedStream(stream, max_frame=self.limits.max_frame_bytes)
        p = self.port
        sender = EventSender(opener=True, kind=p.kind, port=self.remote_port, filter=self.open_msg.channels,
                             max_batch_events=p.max_batch_events, queue_events=self.limits.queue_events,
                             queue_bytes=self.limits.queue_bytes, lateness_us=p.lateness_us,
                             watermark_interval_us=p.watermark_interval_us,
                             slow_consumer_us=self.limits.slow_consumer_ms * 1000, now=self.clock())
        await fs.write(self.open_msg)
        msg = await read_decoded(fs, sender.context(), OPEN_TIMEOUT_S)
        if msg is None:
            await fs.reset()
            raise StreamEnded()
        try:
            res = sender.receive(msg)
        except ProtocolError as err:
            await fs.fail(err)
            raise
        if isinstance(res, Refused):
            await expect_end(fs, sender.context())
            key = w.code_name(res.code)
            (self.stats.closes if res.by_close else self.stats.rejects)[key] = \
                (self.stats.closes if res.by_close else self.stats.rejects).get(key, 0) + 1
            raise RejectedError(res.code, res.reason)
        assert isinstance(res, Accepted)
        acc = res.accept
        if acc.kind != p.kind:
            bad = ProtocolError("kind-mismatch", f"remote port {acc.port} has kind {acc.kind}, "
                                f"local port {p.name} {p.kind}")
            await fs.fail(bad)
            raise bad
        highest = p.channels - 1 if self.open_msg.channels is None else self.open_msg.channels[-1]
        if highest >= acc.channels:
            bad = ProtocolError("channel-out-of-range", f"remote port {acc.port} has {acc.channels} channels; "
                                f"channel {highest} would not fit")
            await fs.fail(bad)
            raise bad
        self.stats.connects += 1
        self.sender = sender
        self.open.set()
        try:
            closed = await run_sender(fs, sender, p, self.clock, stop=self._stop, stop_code=0)
        finally:
            self.stats.sent += sender.sent
            for r, n in sender.dropped.items():
                key = w.reason_name(r)
                self.stats.dropped[key] = self.stats.dropped.get(key, 0) + n
        if closed is not None:
            key = w.code_name(closed.code)
            self.stats.closes[key] = self.stats.closes.get(key, 0) + 1
            if closed.code != 0:
                raise RemoteCloseError(closed.code, closed.reason)
