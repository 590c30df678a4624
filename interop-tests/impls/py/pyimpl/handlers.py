"""Which handler plays which role of which scenario in the Python implementation. A scenario or role
missing here is answered with exit code 3 (the manifest should not claim it)."""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable

from .adversary import adversary_dialer, adversary_listener
from .context import Ctx
from .rawpeer import full_addrs, raw_host
from .timing import estimate_clock
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


class LibPeer(Peer):
    """A host of the library (TCP, Noise, Yamux; Ed25519) with the node's clock, skewed as
    SW_CLOCK_OFFSET_US and SW_CLOCK_DRIFT_PPM say (anchored when the peer starts), serving the clock
    protocol as a listener."""

    def __init__(self, ctx: Ctx, host: Any) -> None:
        from spikewire.net.host import listen_addrs
        from spikewire.protocols.clock import now_us
        self.host = host
        self.peer_id = host.get_id().to_string()
        self.multiaddrs = listen_addrs(host)
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

    async def setup_listener(self, ctx: Ctx, dialer_peer: str) -> None:
        from libp2p.custom_types import TProtocol
        from spikewire.protocols.clock import PROTOCOL, ClockServer
        self.clock_server = ClockServer(clock=self.clock)
        self.host.set_stream_handler(TProtocol(PROTOCOL), self.clock_server.handler)


@asynccontextmanager
async def start_lib(ctx: Ctx) -> AsyncIterator[Peer]:
    from spikewire.net.host import open_host
    async with open_host(listen=[ctx.listen if ctx.role == "listener" else "/ip4/127.0.0.1/tcp/0"]) as host:
        yield LibPeer(ctx, host)


async def serve(ctx: Ctx, peer: Peer) -> dict[str, Any]:
    """Listener that only serves (the harness's `done` ends it)."""
    await ctx.ready()
    await ctx.done.wait()
    return {}


@dataclass
class Handler:
    start: Callable[[Ctx], Any]
    run: Callable[[Ctx, Any], Awaitable[dict[str, Any]]]


async def _adv_dialer(ctx: Ctx, peer: RawPeer) -> dict[str, Any]:
    return await adversary_dialer(ctx, peer.host)


async def _adv_listener(ctx: Ctx, peer: RawPeer) -> dict[str, Any]:
    return await adversary_listener(ctx, peer.host)


HANDLERS: dict[str, dict[str, Handler]] = {
    "clock-sync": {"dialer": Handler(start_lib, estimate_clock), "listener": Handler(start_lib, serve)},
    "adversarial-to-listener": {"dialer": Handler(start_raw, _adv_dialer)},
    "adversarial-to-dialer": {"listener": Handler(start_raw, _adv_listener)},
    "oversize-frame-to-listener": {"dialer": Handler(start_raw, _adv_dialer)},
    "oversize-frame-to-dialer": {"listener": Handler(start_raw, _adv_listener)},
}
