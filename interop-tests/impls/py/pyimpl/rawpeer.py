"""A bare py-libp2p host (TCP, Noise, Yamux, Ed25519) for the adversary, which writes raw bytes; and the
small stream helpers the adversary needs: write, and watch what the peer sends and how the stream ends."""
from __future__ import annotations

import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import multiaddr
import trio
from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.custom_types import TProtocol
from libp2p.network.stream.exceptions import StreamEOF, StreamReset
from libp2p.peer.peerinfo import info_from_p2p_addr

from .wirepeek import FrameSplitter, name_message

EVENTS = TProtocol("/spikewire/events/1.0.0")


@asynccontextmanager
async def raw_host(listen: str) -> AsyncIterator[Any]:
    host = new_host(key_pair=create_new_key_pair(), muxer_preference="YAMUX")
    async with host.run(listen_addrs=[multiaddr.Multiaddr(listen)]):
        yield host


def full_addrs(host: Any) -> list[str]:
    pid = host.get_id().to_string()
    out = []
    for a in host.get_addrs():
        s = str(a)
        out.append(s if "/p2p/" in s else f"{s}/p2p/{pid}")
    return out


async def dial(host: Any, addr: str, protocols: list[str]) -> Any:
    info = info_from_p2p_addr(multiaddr.Multiaddr(addr))
    await host.connect(info)
    return await host.new_stream(info.peer_id, [TProtocol(p) for p in protocols])


class Watch:
    """Reads a stream in the background: the messages the peer sent (type, code) and how it ended.

    close_on_remote_end: close our write side as soon as the peer closes its own, so that a clean end
    completes. Off where a reset must follow the peer's close.
    """

    def __init__(self, stream: Any, close_on_remote_end: bool = True) -> None:
        self.stream = stream
        self.messages: list[dict[str, Any]] = []
        self._splitter = FrameSplitter()
        self._close_on_remote_end = close_on_remote_end
        self.remote_ended = False
        self.local_closed = False
        self.ended: str | None = None   # "closed" | "reset"
        self._changed = trio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def run(self) -> None:
        """The reader task: until the stream ends."""
        try:
            while True:
                try:
                    data = await self.stream.read(65536)
                except StreamEOF:
                    break
                if not data:
                    break
                for body in self._splitter.feed(data):
                    self.messages.append(name_message(body))
                self._notify()
        except StreamReset:
            self.ended = self._reset_or_lost()
            self._notify()
            return
        except Exception:
            self.ended = self._reset_or_lost()
            self._notify()
            return
        self.remote_ended = True
        self._notify()
        if self._close_on_remote_end:
            await self.close_write()
        # The peer ended its write side: the stream is clean once ours is closed too, unless a reset comes.
        while self.ended is None:
            if self._reset_seen():
                self.ended = self._reset_or_lost()
            elif self.local_closed:
                # Both write sides are closed; a reset that was already on its way still counts.
                await trio.sleep(0.03)
                self.ended = self._reset_or_lost() if self._reset_seen() else "closed"
            else:
                await trio.sleep(0.01)
                continue
            self._notify()

    def _connection_gone(self) -> bool:
        muxed = getattr(self.stream, "muxed_conn", None)
        try:
            return bool(muxed is not None and (muxed.is_closed or muxed.event_shutting_down.is_set()))
        except AttributeError:
            return False

    def _reset_or_lost(self) -> str:
        """A reset the peer sent ("reset"), or the end of the whole connection ("connection-lost"): py-libp2p
        marks every stream of a dead connection as reset, which is not the peer resetting this stream."""
        return "connection-lost" if self._connection_gone() else "reset"

    def _reset_seen(self) -> bool:
        muxed = getattr(self.stream, "muxed_stream", None)
        return bool(getattr(muxed, "reset_received", False))

    async def close_write(self) -> None:
        if self.local_closed:
            return
        self.local_closed = True
        try:
            await self.stream.close()
        except Exception:
            pass
        self._notify()

    def close_on_remote_end(self) -> None:
        self._close_on_remote_end = True

    @property
    def received(self) -> list[dict[str, Any]]:
        out = [{k: v for k, v in m.items() if k in ("type", "code")} for m in self.messages]
        if self._splitter.broken:
            out.append({"type": "undecodable"})
        return out

    async def wait_messages(self, count: int, timeout_s: float) -> bool:
        end = time.monotonic() + timeout_s
        while len(self.messages) < count:
            if self.ended is not None or self.remote_ended or time.monotonic() >= end:
                return False
            with trio.move_on_after(max(0.0, end - time.monotonic())):
                await self._changed.wait()
        return True

    async def end(self, timeout_s: float) -> str:
        """How the stream ended, or "timeout" (then we reset it)."""
        end = time.monotonic() + timeout_s
        while self.ended is None:
            if time.monotonic() >= end:
                try:
                    await self.stream.reset()
                except Exception:
                    pass
                return "timeout"
            with trio.move_on_after(min(0.05, max(0.0, end - time.monotonic()))):
                await self._changed.wait()
        return self.ended


async def write(stream: Any, data: bytes) -> None:
    await stream.write(data)
