"""Which handler plays which role of which scenario in the Python implementation. A scenario or role
missing here is answered with exit code 3 (the manifest should not claim it)."""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable

from .adversary import adversary_dialer, adversary_listener
from .context import Ctx
from .rawpeer import full_addrs, raw_host
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


@dataclass
class Handler:
    start: Callable[[Ctx], Any]
    run: Callable[[Ctx, Any], Awaitable[dict[str, Any]]]


async def _adv_dialer(ctx: Ctx, peer: RawPeer) -> dict[str, Any]:
    return await adversary_dialer(ctx, peer.host)


async def _adv_listener(ctx: Ctx, peer: RawPeer) -> dict[str, Any]:
    return await adversary_listener(ctx, peer.host)


HANDLERS: dict[str, dict[str, Handler]] = {
    "adversarial-to-listener": {"dialer": Handler(start_raw, _adv_dialer)},
    "adversarial-to-dialer": {"listener": Handler(start_raw, _adv_listener)},
    "oversize-frame-to-listener": {"dialer": Handler(start_raw, _adv_dialer)},
    "oversize-frame-to-dialer": {"listener": Handler(start_raw, _adv_listener)},
}
