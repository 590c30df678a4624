"""Which handler plays which role of which scenario in the Python implementation. A scenario or role
missing here is answered with exit code 3 (the manifest should not claim it)."""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable

from .adversary import adversary_dialer, adversary_listener
from .context import Ctx
from .rawpeer import full_addrs, raw_host
from .access import describe_listener, try_refused, try_unknown_version
from .lifecycle import abort_under_subscription, close_both_ways, close_when_asked, survives_disconnect
from .loss import burst_when_paused, paused_subscriber
from .events import emit_on_subscribe, push_generated, receive_and_check, receive_pushed, record_watermarks, serve
from .probe import probe_cases
from .timing import emit_clumped, estimate_clock, merge_trains, playout_train
import time


class Peer:
    """What a handler runs on: the library's node, or a bare host (the adversary)."""
    peer_id: str
    multiaddrs: list[str]
    anchor_us: int

    async def setup_listener(self, ctx: Ctx, dialer_peer: str) -> None:
        return None


class RawPeer(Peer):
    def __init__(self, host: Any) -> None:
        self.host = host
        self.peer_id = host.get_id().to_string()
        self.multiaddrs = full_addrs(host)
        self.anchor_us = time.time_ns() // 1000


@asynccontextmanager
async def start_raw(ctx: Ctx) -> AsyncIterator[Peer]:
    async with raw_host(ctx.listen if ctx.role == "listener" else "/ip4/127.0.0.1/tcp/0") as host:
        yield RawPeer(host)


class NodePeer(Peer):
    """A spikewire.Node (TCP, Noise, Yamux; Ed25519; describe and clock served) on the node's clock,
    skewed as SW_CLOCK_OFFSET_US and SW_CLOCK_DRIFT_PPM say (anchored when the peer starts)."""

    def __init__(self, ctx: Ctx) -> None:
        from spikewire.protocols.clock import now_us
        base = now_us
        self.anchor_us = base()
        offset, drift = ctx.clock_offset_us, ctx.clock_drift_ppm
        anchor = self.anchor_us
        if offset == 0 and drift == 0:
            self.clock = base
        else:
            def skewed() -> int:
                t = base()
                return int(round(t + offset + (t - anchor) * drift * 1e-6))
            self.clock = skewed
        self.ctx = ctx
        self.out_ports: dict[str, Any] = {}
        self.in_ports: dict[str, Any] = {}

    def attach(self, node: Any) -> None:
        self.node = node
        self.host = node.host
        self.peer_id = str(node.peer_id)
        self.multiaddrs = node.addrs

    async def setup_listener(self, ctx: Ctx, dialer_peer: str) -> None:
        from .ports import add_ports
        add_ports(self, ctx, dialer_peer)


@asynccontextmanager
async def start_node(ctx: Ctx) -> AsyncIterator[Peer]:
    from spikewire.node import Node
    peer = NodePeer(ctx)
    listen = ctx.listen if ctx.role == "listener" else "/ip4/127.0.0.1/tcp/0"
    async with Node(listen=[listen], name=f"interop-{ctx.role}",
                              role="source" if ctx.role == "listener" else "sink", clock=peer.clock) as node:
        peer.attach(node)
        yield peer


@dataclass
class Handler:
    start: Callable[[Ctx], Any]
    run: Callable[[Ctx, Any], Awaitable[dict[str, Any]]]


async def _adv_dialer(ctx: Ctx, peer: RawPeer) -> dict[str, Any]:
    return await adversary_dialer(ctx, peer.host)


async def _adv_listener(ctx: Ctx, peer: RawPeer) -> dict[str, Any]:
    return await adversary_listener(ctx, peer.host)


def lib(run: Callable[[Ctx, Any], Awaitable[dict[str, Any]]]) -> Handler:
    return Handler(start_node, run)


HANDLERS: dict[str, dict[str, Handler]] = {
    "connect-and-describe": {"dialer": lib(describe_listener), "listener": lib(serve)},
    "subscribe-receive-n": {"dialer": lib(receive_and_check), "listener": lib(emit_on_subscribe)},
    "weighted-events": {"dialer": lib(receive_and_check), "listener": lib(emit_on_subscribe)},
    "push-into-in-port": {"dialer": lib(push_generated), "listener": lib(receive_pushed)},
    "watermarks-idle": {"dialer": lib(record_watermarks), "listener": lib(serve)},
    "loss-notice": {"dialer": lib(paused_subscriber), "listener": lib(burst_when_paused)},
    "clock-sync": {"dialer": lib(estimate_clock), "listener": lib(serve)},
    "playout": {"dialer": lib(playout_train), "listener": lib(emit_clumped)},
    "merge": {"dialer": lib(merge_trains), "listener": lib(emit_clumped)},
    "authorization-refused": {"dialer": lib(try_refused), "listener": lib(serve)},
    "abrupt-disconnect-reconnect": {"dialer": lib(survives_disconnect), "listener": lib(abort_under_subscription)},
    "graceful-close": {"dialer": lib(close_both_ways), "listener": lib(close_when_asked)},
    "unknown-protocol-version": {"dialer": lib(try_unknown_version), "listener": lib(serve)},
    "adversarial-to-listener": {"dialer": Handler(start_raw, _adv_dialer), "listener": lib(serve)},
    "adversarial-to-dialer": {"dialer": lib(probe_cases), "listener": Handler(start_raw, _adv_listener)},
    "oversize-frame-to-listener": {"dialer": Handler(start_raw, _adv_dialer), "listener": lib(serve)},
    "oversize-frame-to-dialer": {"dialer": lib(probe_cases), "listener": Handler(start_raw, _adv_listener)},
}
