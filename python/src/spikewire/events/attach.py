"""The events layer on a :class:`spikewire.node.Node`: the node calls :func:`attach` when it starts.

It serves ``/spikewire/events/1.0.0``, creates the ports of the node config with their sources, runs
the config's push links and subscriptions, and gives the application ``node.events`` (an
:class:`EventsNode`): ``add_out_port``, ``add_in_port``, ``push``, ``subscribe``.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import trio

from ..codec.messages import Direction, Kind, Model, Param, Port
from ..errors import SpikewireError
from . import sources as src
from .ports import InPort, OutPort
from .push import PushLink
from .service import PROTOCOL, EventsService, Limits
from .subscription import Subscription

log = logging.getLogger("spikewire.events.node")


def _limits(cfg: Any) -> Limits:
    if cfg is None:
        return Limits()
    return Limits(max_streams_per_port=cfg.limit("maxStreamsPerPort"),
                  max_streams_per_peer=cfg.limit("maxStreamsPerPeer"), max_events=cfg.limit("maxEvents"),
                  queue_events=cfg.limit("queueEvents"), queue_bytes=cfg.limit("queueBytes"),
                  slow_consumer_ms=cfg.limit("slowConsumerMs"), open_timeout_ms=cfg.limit("openTimeoutMs"),
                  max_frame_bytes=cfg.limit("maxFrameBytes"))


def _model(m: Any) -> Model | None:
    if m is None:
        return None
    params = m.get("params")
    return Model(m["name"], None if params is None else tuple(Param(n, v, u) for n, v, u in params))


class EventsNode:
    """The events side of a running node."""

    def __init__(self, node: Any) -> None:
        self.node = node
        cfg = node.config
        self.limits = _limits(cfg)
        self.service = EventsService(node.host, limits=self.limits, clock=node.now)
        self.links: list[PushLink] = []
        self.subscriptions: list[Subscription] = []
        self.sources: dict[str, Any] = {}
        self._tuning = {k: (cfg.tuning(k) if cfg is not None else None)
                        for k in ("watermarkIntervalMs", "maxBatchEvents", "latenessUs", "flushIntervalUs")}

    # ------------------------------------------------------------------ ports

    def _describe(self, port: OutPort | InPort, model: Any) -> None:
        self.node.add_port(Port(port.name, Direction(port.direction), Kind(port.kind), port.channels, model))

    def add_out_port(self, name: str, *, channels: int, kind: str = "spike", subscribe: Any = "*",
                     model: Model | None = None, **kw: Any) -> OutPort:
        """An out port the application emits into: ``port.emit(channels, times[, values])`` (numpy)."""
        t = self._tuning
        opts: dict[str, Any] = {"flush_interval_us": t["flushIntervalUs"],
                                "watermark_interval_ms": t["watermarkIntervalMs"],
                                "lateness_us": t["latenessUs"], "max_batch_events": t["maxBatchEvents"]}
        opts = {k: v for k, v in opts.items() if v is not None}
        opts.update(kw)
        port = OutPort(name, channels=channels, kind=kind, clock=self.node.now, subscribe=subscribe, **opts)
        self.service.add_port(port)
        self._describe(port, model)
        self.node.nursery.start_soon(port.run_flusher)
        return port

    def add_in_port(self, name: str, *, channels: int, kind: str = "spike", push: Any = None,
                    model: Model | None = None, **kw: Any) -> InPort:
        """An in port peers push into (closed by default: ``push`` lists who may, or ``"*"``)."""
        kw.setdefault("inbox_bytes", self.limits_inbox())
        kw.setdefault("max_events", self.limits.max_events)
        # Delays up to 60 s (the config's largest link delay) are mapped with the node's clock client.
        kw.setdefault("max_delay_us", 60_000_000)
        kw.setdefault("clock_for", self._clock_for)
        port = InPort(name, channels=channels, kind=kind, push=push, **kw)
        self.service.add_port(port)
        self._describe(port, model)
        return port

    def _clock_for(self, peer: str) -> Any:
        from libp2p.peer.id import ID
        return self.node.clock_for(ID.from_base58(peer))

    def limits_inbox(self) -> int:
        cfg = self.node.config
        return cfg.limit("inboxBytes") if cfg is not None else 16 * 1024 * 1024

    def port(self, name: str) -> OutPort | InPort:
        return self.service.ports[name]

    # ------------------------------------------------------------------ links

    def push(self, port: str | OutPort, addr: str, remote_port: str, *, channels: list[int] | None = None,
             delay_us: int | None = None) -> PushLink:
        """Push a local out port into a remote in port; runs (and reconnects) until ``link.stop()``."""
        out = self.service.ports[port] if isinstance(port, str) else port
        if not isinstance(out, OutPort):
            raise SpikewireError("wrong-direction", f"{out.name} is not an out port")
        link = PushLink(self.node.host, out, addr, remote_port, channels=channels, delay_us=delay_us,
                        limits=self.limits, clock=self.node.now)
        self.links.append(link)
        self.node.nursery.start_soon(link.run)
        return link

    def subscribe(self, addr: str, port: str, **kw: Any) -> Subscription:
        kw.setdefault("clock", self.node.now)
        return Subscription(self.node.host, addr, port, **kw)

    async def _feed(self, sub: Subscription, into: InPort) -> None:
        """A config subscription: a remote out port into a local in port."""
        try:
            async for batch in sub:
                await into.put(batch)
        except SpikewireError as err:
            log.warning("subscription %s %s → %s ended: %s", sub.addr, sub.port, into.name, err)

    # ------------------------------------------------------------------ config

    def from_config(self) -> None:
        cfg = self.node.config
        if cfg is None:
            return
        base = Path(cfg.base_dir) if getattr(cfg, "base_dir", None) is not None else None
        for p in cfg.ports:
            model = _model(p.get("model"))
            if p["direction"] == "out":
                source = p.get("source")
                s = None
                if source is not None:
                    s = src.from_config(source, channels=p["channels"], base_dir=base, now=self.node.now())
                    if model is None:
                        model = _model(s.describe())
                port = self.add_out_port(p["name"], channels=p["channels"], kind=p.get("kind", "spike"),
                                         subscribe=p.get("subscribe", "*"), model=model)
                if s is not None:
                    self.sources[port.name] = s
                    start = source.get("start", "first-subscriber") if source["type"] == "replay" else "now"
                    self.node.nursery.start_soon(lambda s=s, port=port, start=start:
                                                 src.drive(s, port, self.node.now, start=start))
            else:
                self.add_in_port(p["name"], channels=p["channels"], kind=p.get("kind", "spike"),
                                 push=p.get("push"), model=model)
        for ln in cfg.links:
            self.push(ln["from"], ln["to"], ln["port"], channels=ln.get("channels"), delay_us=ln.get("delay"))
        for sb in cfg.subscriptions:
            into = self.service.ports[sb["to"]]
            assert isinstance(into, InPort)
            sub = self.subscribe(sb["from"], sb["port"], channels=sb.get("channels"))
            self.subscriptions.append(sub)
            self.node.nursery.start_soon(self._feed, sub, into)

    async def stop(self) -> None:
        """Shutdown (§9.2.10): close{shutdown} on served streams, close{normal} on push links, close{normal}
        on subscriptions; waits up to 2 s for them to drain."""
        self.service.stopping.set()
        for link in self.links:
            link.stop()
        with trio.move_on_after(2):
            for link in self.links:
                await link.wait_done()
            for sub in self.subscriptions:
                await sub.aclose()
            while self.service.active > 0:
                await trio.sleep(0.01)

    def stats(self) -> dict[str, Any]:
        ports = []
        for p in self.service.ports.values():
            if isinstance(p, OutPort):
                ports.append({"name": p.name, "direction": "out", "streams": p.streams, "emitted": p.stats.emitted,
                              "refused": p.stats.refused, "flushes": p.stats.flushes})
            else:
                s = p.stats
                ports.append({"name": p.name, "direction": "in", "streams": s.streams, "batches": s.batches,
                              "events": s.received, "gapEvents": s.gaps, "lostEvents": sum(s.lost.values()),
                              "droppedEvents": s.dropped_events, "queuedBytes": p.queued_bytes})
        links = [{"from": ln.port.name, "port": ln.remote_port, "connects": ln.stats.connects,
                  "events": ln.stats.sent + (ln.sender.sent if ln.sender is not None and ln.open.is_set() else 0),
                  "dropped": ln.stats.dropped} for ln in self.links]
        subs = [{"port": sb.port, "peer": sb.peer, "events": sb.stats.events, "gapEvents": sb.stats.gap_events,
                 "lostEvents": sb.stats.lost_events, "connects": sb.stats.connects} for sb in self.subscriptions]
        return {"ports": ports, "links": links, "subscriptions": subs,
                "streams": {"accepted": self.service.stats.accepted, "rejected": self.service.stats.rejected,
                            "errors": dict(self.service.errors)}}


def attach(node: Any) -> EventsNode:
    ev = EventsNode(node)
    node.events = ev
    # The API of the Python package layout: node.add_out_port(...), node.add_in_port(...), node.push(...),
    # unless the Node class defines them itself.
    for name in ("add_out_port", "add_in_port", "push"):
        if not hasattr(type(node), name):
            setattr(node, name, getattr(ev, name))
    lim = ev.limits
    # The events layer answers opens beyond its limits with reject{too-many-streams}; the node's own
    # per-peer bound only caps streams that have not sent their open yet.
    node.set_stream_handler(PROTOCOL, ev.service.handle, max_per_peer=lim.max_streams_per_peer * 2 + 8)
    ev.from_config()
    closers = getattr(node, "closers", None)
    if closers is not None:
        closers.append(ev.stop)
    sources = getattr(node, "stats_sources", None)
    if sources is not None:
        sources["events"] = ev.stats
    return ev
