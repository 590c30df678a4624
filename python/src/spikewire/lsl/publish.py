"""`publish`: a spikewire out port offered as an LSL outlet (docs/lsl.md).

The bridge is a spikewire node of its own. It describes the remote node, waits for a converged estimate of
the remote clock, reads its own clock against liblsl's `local_clock()` once (ClockAnchor), creates the
outlet, subscribes, and pushes every batch as one chunk: one sample per event, each stamped with

    lsl_time = anchor.lsl + ((T − θ) − anchor.us) / 1e6

T being the event's time on the publisher's clock (µs), θ the offset applied for the publisher's clock
(the estimate, followed without steps by SlewedOffset), anchor the (bridge µs, LSL s) pair.
"""
from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import trio

from ..codec.messages import Description, Model
from ..errors import SpikewireError
from ..node import Node
from ..timing.localclock import MonotonicClock
from . import lslcfg
from .mapping import SPIKE_TYPE, WEIGHTED_TYPE, ClockAnchor, SlewedOffset, events_to_samples, measure_anchor

log = logging.getLogger("spikewire.lsl.publish")

Report = Callable[[dict[str, Any]], None]


@dataclass
class PublishStats:
    events: int = 0
    """Events received from the spikewire subscription and pushed to the outlet (one sample each)."""
    batches: int = 0
    gap_events: int = 0
    """Events missing between batches (a sequence gap: neither delivered nor reported by the sender)."""
    lost_events: int = 0
    """Events the sender reported as lost (loss notices)."""
    loss_notices: int = 0
    connects: int = 0
    clock_offset_us: float = 0.0
    """The offset applied for the publisher's clock at the last batch (θ, remote − bridge)."""
    clock_uncertainty_us: float = 0.0
    """The estimate's uncertainty at the last batch."""
    clock_error_bound_us: float = 0.0
    """The largest (uncertainty + |applied − estimate|) over the run: how far any pushed time may be off."""
    clock_steps: int = 0
    anchor_spread_us: float = 0.0
    push_errors: int = 0
    closes: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def peer_of(addr: str) -> str:
    if "/p2p/" not in addr:
        raise SpikewireError("invalid-address", f"{addr}: the multiaddr must end in /p2p/<PeerId>")
    return addr.rsplit("/p2p/", 1)[1].split("/")[0]


def _add_model(parent: Any, model: Model | None) -> None:
    if model is None:
        return
    m = parent.append_child("model")
    m.append_child_value("name", model.name)
    for p in model.params or ():
        el = m.append_child("param")
        el.append_child_value("name", p.name)
        el.append_child_value("value", repr(p.value) if isinstance(p.value, float) else str(p.value))
        el.append_child_value("unit", p.unit)


def stream_info(pylsl: Any, *, name: str, peer: str, port: str, kind: int, channels: int,
                node_name: str, model: Model | None, offset_us: float, uncertainty_us: float,
                anchor: ClockAnchor, bridge_peer: str) -> Any:
    """The outlet's StreamInfo: the shared event-as-sample layout, source_id = PeerId/port, metadata in desc."""
    weighted = kind == 1
    info = pylsl.StreamInfo(name, WEIGHTED_TYPE if weighted else SPIKE_TYPE, 2 if weighted else 1,
                            pylsl.IRREGULAR_RATE, pylsl.cf_double64 if weighted else pylsl.cf_int32,
                            f"{peer}/{port}")
    desc = info.desc()
    chans = desc.append_child("channels")
    for label, unit in (("channel", "id"), ("value", "")) if weighted else (("channel", "id"),):
        c = chans.append_child("channel")
        c.append_child_value("label", label)
        c.append_child_value("unit", unit)
        c.append_child_value("type", "ChannelId" if label == "channel" else "Value")
    sw = desc.append_child("spikewire")
    sw.append_child_value("port", port)
    sw.append_child_value("kind", "weighted" if weighted else "spike")
    sw.append_child_value("channels", str(channels))
    sw.append_child_value("peer", peer)
    sw.append_child_value("node", node_name)
    _add_model(sw, model)
    sw.append_child_value("clock_offset_us", f"{offset_us:.3f}")
    sw.append_child_value("clock_uncertainty_us", f"{uncertainty_us:.3f}")
    sw.append_child_value("bridge", bridge_peer)
    sw.append_child_value("anchor_spread_us", f"{anchor.spread_us:.3f}")
    return info


class Publisher:
    """Runs the publish bridge inside a trio task: ``await Publisher(addr, port).run()``."""

    def __init__(self, addr: str, port: str, *, name: str | None = None, listen: str = "/ip4/127.0.0.1/tcp/0",
                 clock_timeout_s: float = 20.0, wait_consumers_s: float = 0.0,
                 report: Report | None = None) -> None:
        self.addr = addr
        self.port = port
        self.name = name
        self.listen = listen
        self.clock_timeout_s = clock_timeout_s
        self.wait_consumers_s = wait_consumers_s
        self.report = report or (lambda e: None)
        self.stats = PublishStats()
        self.tracker = SlewedOffset()
        self.clock = MonotonicClock()
        self.outlet: Any = None
        self.source_id: str | None = None
        self.ready = trio.Event()

    async def run(self, stop: trio.Event | None = None) -> PublishStats:
        pylsl = lslcfg.pylsl()
        peer = peer_of(self.addr)
        async with Node(listen=[self.listen], name="spikewire-lsl", role="bridge", clock=self.clock) as node:
            desc: Description = await node.describe(self.addr)
            ports = {p.name: p for p in desc.ports}
            rp = ports.get(self.port)
            if rp is None:
                raise SpikewireError("unknown-port", f"{desc.name} has no port {self.port!r} "
                                     f"(it has {', '.join(sorted(ports)) or 'none'})")
            if int(rp.direction) != 1:
                raise SpikewireError("wrong-direction", f"{self.port} is not an out port")
            pc = node.clock_for(self.addr)
            try:
                est = await pc.wait(converged=True, timeout=self.clock_timeout_s)
            except trio.TooSlowError:
                est = pc.estimate()
                if est is None:
                    raise SpikewireError("clock-unavailable", f"no clock estimate of {peer} within "
                                         f"{self.clock_timeout_s:g} s") from None
                log.warning("the clock estimate did not converge within %g s; using it as it is",
                            self.clock_timeout_s)
            anchor = measure_anchor(self.clock.now_ns, pylsl.local_clock)
            self.stats.anchor_spread_us = anchor.spread_us
            now = self.clock.now_us()
            theta = self.tracker.update(est.offset_at(now), est.uncertainty_at(now), now)
            u0 = est.uncertainty_at(now)
            self.source_id = f"{peer}/{self.port}"
            info = stream_info(pylsl, name=self.name or f"{desc.name}/{self.port}", peer=peer, port=self.port,
                               kind=int(rp.kind), channels=rp.channels, node_name=desc.name, model=rp.model,
                               offset_us=theta, uncertainty_us=u0 + anchor.spread_us, anchor=anchor,
                               bridge_peer=str(node.peer_id))
            self.outlet = pylsl.StreamOutlet(info, 0, 360)
            self.stats.clock_offset_us = theta
            self.stats.clock_uncertainty_us = u0
            self.report({"event": "ready", "source_id": self.source_id, "name": info.name(), "type": info.type(),
                         "kind": "weighted" if int(rp.kind) == 1 else "spike", "channels": rp.channels,
                         "clock_offset_us": round(theta, 3), "clock_uncertainty_us": round(u0, 3)})
            self.ready.set()
            if self.wait_consumers_s > 0:
                # LSL gives a consumer only the samples pushed after it connected: wait for the first one
                # before subscribing, so that it gets every event the bridge receives.
                outlet = self.outlet
                has = await trio.to_thread.run_sync(outlet.wait_for_consumers, self.wait_consumers_s,
                                                    abandon_on_cancel=True)
                self.report({"event": "consumers", "present": bool(has)})

            def on_status(ev: dict[str, Any]) -> None:
                if ev.get("state") == "retrying" or ev.get("event") == "refused":
                    log.warning("subscription to %s %s: %s", self.addr, self.port, ev)
                self.report({"event": "subscription", "status": ev})

            sub = node.subscribe(self.addr, self.port, on_status=on_status)
            async with trio.open_nursery() as nursery:
                if stop is not None:
                    async def watch() -> None:
                        await stop.wait()
                        nursery.cancel_scope.cancel()
                    nursery.start_soon(watch)
                nursery.start_soon(self._pump, sub, pc, anchor, nursery.cancel_scope)
            with trio.CancelScope(shield=True), trio.move_on_after(2):
                await sub.aclose()
            self._account(sub)
            self.stats.clock_steps = self.tracker.steps
        return self.stats

    def _account(self, sub: Any) -> None:
        s = sub.stats
        new_lost = s.lost_events - self.stats.lost_events
        new_gap = s.gap_events - self.stats.gap_events
        if new_lost > 0 or new_gap > 0:
            log.warning("%s %s: %d events reported lost, %d missing in a gap (totals %d, %d)", self.addr,
                        self.port, new_lost, new_gap, s.lost_events, s.gap_events)
            self.report({"event": "loss", "lost": new_lost, "gap": new_gap, "lost_total": s.lost_events,
                         "gap_total": s.gap_events})
        self.stats.lost_events = s.lost_events
        self.stats.gap_events = s.gap_events
        self.stats.loss_notices = s.loss_notices
        self.stats.connects = s.connects
        self.stats.closes = dict(s.closes)

    async def _pump(self, sub: Any, pc: Any, anchor: ClockAnchor, scope: trio.CancelScope) -> None:
        try:
            async for batch in sub:
                n = len(batch.times)
                if n:
                    now = self.clock.now_us()
                    est = pc.estimate(now)
                    if est is not None:
                        target = est.offset_at(now)
                        u = est.uncertainty_at(now)
                        theta = self.tracker.update(target, u, now)
                        self.stats.clock_offset_us = theta
                        self.stats.clock_uncertainty_us = u
                        bound = u + abs(target - theta) + anchor.spread_us
                        if math.isfinite(bound):
                            self.stats.clock_error_bound_us = max(self.stats.clock_error_bound_us, bound)
                    theta_i = int(round(self.tracker.applied or 0.0))
                    frac = (self.tracker.applied or 0.0) - theta_i
                    local = batch.times.astype(np.int64) - theta_i
                    ts = anchor.to_lsl(local) - frac / 1e6
                    samples = events_to_samples(batch.channels, batch.values)
                    try:
                        self.outlet.push_chunk(samples, ts.tolist())
                    except Exception as err:  # liblsl refused the chunk: counted, the events are lost here
                        self.stats.push_errors += n
                        log.error("pushing %d samples to the outlet failed: %r", n, err)
                        self.report({"event": "loss", "push_failed": n, "error": repr(err)})
                        continue
                    self.stats.events += n
                    self.stats.batches += 1
                if batch.gap or sub.stats.lost_events != self.stats.lost_events:
                    self._account(sub)
        except SpikewireError as err:
            log.error("subscription to %s %s ended: %s", self.addr, self.port, err)
            self.report({"event": "ended", "code": err.code, "message": str(err)})
        scope.cancel()
