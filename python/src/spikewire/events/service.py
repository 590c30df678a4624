"""The acceptor of events streams (spec §9.2.2): serve out ports to subscribers and take pushes into in
ports, with per-port and per-peer stream limits and the ports' allow lists (§11.2, §11.4)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import trio
from libp2p.abc import IHost, INetStream
from libp2p.custom_types import TProtocol

from ..errors import ProtocolError, SpikewireError
from ..wire.stream import FramedStream, StreamFailed
from . import _wire as w
from .acceptor import AcceptorGate, PortView, decide
from .clock import Clock, now_us
from .ports import EventBatch, InPort, OutPort
from .receiver import EventReceiver
from .sender import EventSender
from .states import Closed, Events, Ignored, OpenReceived
from .streams import read_decoded, run_receiver, run_sender

log = logging.getLogger("spikewire.events.service")

PROTOCOL = "/spikewire/events/1.0.0"
OPEN_TIMEOUT_S = 10.0


@dataclass
class Limits:
    max_streams_per_port: int = 64
    max_streams_per_peer: int = 16
    max_events: int = 65536
    queue_events: int = 262_144
    queue_bytes: int = 8 * 1024 * 1024
    slow_consumer_ms: int = 10_000
    open_timeout_ms: int = 10_000
    max_frame_bytes: int = 1 << 20


@dataclass
class ServiceStats:
    accepted: int = 0
    rejected: int = 0
    stream_errors: int = 0


class EventsService:
    """Registers ``/spikewire/events/1.0.0`` on a host and serves the ports of ``ports``."""

    def __init__(self, host: IHost, ports: dict[str, OutPort | InPort] | None = None, *,
                 limits: Limits | None = None, clock: Clock = now_us) -> None:
        self.host = host
        self.ports: dict[str, OutPort | InPort] = ports if ports is not None else {}
        self.limits = limits or Limits()
        self.clock = clock
        self.stats = ServiceStats()
        self.errors: dict[str, int] = {}
        self._per_port: dict[str, int] = {}
        self._per_peer: dict[str, int] = {}
        self.stopping = trio.Event()
        #: Streams accepted and still running.
        self.active = 0

    def add_port(self, port: OutPort | InPort) -> None:
        if port.name in self.ports:
            raise ValueError(f"a port named {port.name} exists")
        self.ports[port.name] = port

    def install(self) -> None:
        self.host.set_stream_handler(TProtocol(PROTOCOL), self.handle)

    async def handle(self, stream: INetStream) -> None:
        """One inbound events stream. Never raises: errors end this stream only (§9.2.10)."""
        fs = FramedStream(stream, max_frame=self.limits.max_frame_bytes)
        try:
            await self._serve(fs)
        except (SpikewireError, StreamFailed) as err:
            self.stats.stream_errors += 1
            self.errors[err.code] = self.errors.get(err.code, 0) + 1
            log.debug("events stream from %s: %s", fs.peer, err)
        except trio.Cancelled:
            raise
        except Exception as err:  # a bug of ours: end this stream, keep serving
            log.warning("events stream from %s: internal error: %r", fs.peer, err)
            await fs.reset("internal-error", "internal error")

    async def _serve(self, fs: FramedStream) -> None:
        gate = AcceptorGate()
        msg = await read_decoded(fs, gate.context(), self.limits.open_timeout_ms / 1000)
        if msg is None:
            await fs.close_write()
            return
        try:
            res = gate.receive(msg)
        except ProtocolError as err:
            await fs.fail(err)
            raise
        if isinstance(res, Closed):
            await fs.close_write()
            return
        assert isinstance(res, OpenReceived)
        op = res.open
        peer = str(fs.peer)
        port = self.ports.get(op.port)
        view = None if port is None else PortView(port.name, port.direction, port.kind, port.channels,
                                                  port.allowed, getattr(port, "max_delay_us", None))
        full = (self._per_peer.get(peer, 0) >= self.limits.max_streams_per_peer
                or (port is not None and self._per_port.get(port.name, 0) >= self.limits.max_streams_per_port))
        if self.stopping.is_set():
            verdict: tuple[int, str] | None = (21, "shutting down")
        else:
            verdict = decide(op, peer=peer, port=view, streams_full=full)
        if verdict is not None:
            self.stats.rejected += 1
            gate.rejecting()
            await fs.write(w.Reject(code=verdict[0], reason=verdict[1]))
            await fs.close_write()
            await self._after_reject(fs, gate)
            return
        assert port is not None
        self._per_peer[peer] = self._per_peer.get(peer, 0) + 1
        self._per_port[port.name] = self._per_port.get(port.name, 0) + 1
        self.stats.accepted += 1
        self.active += 1
        try:
            if isinstance(port, OutPort):
                await self._serve_subscriber(fs, op, port)
            else:
                await self._serve_pusher(fs, op, port, peer)
        finally:
            self.active -= 1
            self._per_peer[peer] -= 1
            self._per_port[port.name] -= 1

    async def _after_reject(self, fs: FramedStream, gate: AcceptorGate) -> None:
        """Read until the opener ends: a close that crossed the reject is ignored (§9.2.3)."""
        with trio.move_on_after(OPEN_TIMEOUT_S):
            while True:
                msg = await read_decoded(fs, gate.context(), None)
                if msg is None:
                    return
                try:
                    gate.receive(msg)
                except ProtocolError as err:
                    await fs.fail(err)
                    raise

    async def _serve_subscriber(self, fs: FramedStream, op: Any, port: OutPort) -> None:
        now = self.clock()
        sender = EventSender(opener=False, kind=port.kind, port=port.name, filter=op.channels,
                             max_events=op.max_events or w.DEFAULT_MAX_EVENTS,
                             max_batch_events=port.max_batch_events,
                             queue_events=self.limits.queue_events, queue_bytes=self.limits.queue_bytes,
                             lateness_us=port.lateness_us, watermark_interval_us=port.watermark_interval_us,
                             slow_consumer_us=self.limits.slow_consumer_ms * 1000, now=now)
        # The watermark starts at the accept: events before it were not numbered for this stream.
        await fs.write(w.Accept(port=port.name, kind=w.Kind(port.kind), channels=port.channels, time=now))
        await run_sender(fs, sender, port, self.clock, stop=self.stopping)

    async def _serve_pusher(self, fs: FramedStream, op: Any, port: InPort, peer: str) -> None:
        max_events = max(4096, min(self.limits.max_events, port.max_events))
        receiver = EventReceiver.pusher_target(op, kind=port.kind, channels=port.channels, max_events=max_events)
        await fs.write(w.Accept(port=port.name, kind=w.Kind(port.kind), channels=port.channels, time=self.clock(),
                                max_events=max_events))
        port.stats.streams += 1

        peer_clock = port.clock_for(peer) if op.delay is not None and port.clock_for is not None else None

        async def deliver(ev: Events) -> None:
            b = EventBatch(peer, port.name, ev.seq, ev.channels, ev.times, ev.values, ev.gap, op.delay, op.source)
            if op.delay is not None:
                # §9.2.8: delivery at T − θ + d on this node's clock.
                est = peer_clock.estimate() if peer_clock is not None else None
                theta = 0.0 if est is None else float(est.offset_us)
                b.due_us = ev.times + np.int64(op.delay) - np.int64(round(theta))
                b.offset_us = None if est is None else theta
                b.offset_uncertainty_us = None if est is None else float(est.uncertainty_us)
            await port.put(b)

        def other(res: Any) -> None:
            if not isinstance(res, Ignored) and hasattr(res, "reason") and hasattr(res, "count"):
                key = str(res.reason)
                port.stats.lost[key] = port.stats.lost.get(key, 0) + res.count

        end = port.attach_stream(fs)

        async def shutdown() -> None:
            async with trio.open_nursery() as wait:
                async def stopping() -> None:
                    await self.stopping.wait()
                    end.set(21, "shutting down")

                wait.start_soon(stopping)
                await end.event.wait()
                wait.cancel_scope.cancel()
            assert end.code is not None
            receiver.sent_close()
            if end.code in (0, 21):
                await fs.close(end.code, end.reason)
            else:
                await fs.reset(end.code, end.reason)

        failure: Exception | None = None
        try:
            async with trio.open_nursery() as n:
                n.start_soon(shutdown)
                try:
                    await run_receiver(fs, receiver, deliver, other)
                except Exception as err:  # re-raised below, outside the nursery (no exception group)
                    failure = err
                finally:
                    n.cancel_scope.cancel()
        finally:
            port.stats.streams -= 1
            port.detach_stream(fs)
        if failure is not None:
            raise failure
