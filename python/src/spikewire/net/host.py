"""libp2p host for spikewire (spec §4.1): TCP, Noise (XX) and Yamux only, an Ed25519 identity.

py-libp2p runs on trio. `open_host` is an async context manager that starts the host listening and stops
it on exit; `dial` connects to a /p2p/ multiaddr and returns the peer's ID; `open_stream` negotiates one
protocol on a new stream.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import multiaddr
import trio
from libp2p import new_host
from libp2p.abc import IHost, INetStream
from libp2p.crypto.keys import KeyPair
from libp2p.crypto.x25519 import create_new_key_pair as new_x25519_key_pair
from libp2p.custom_types import TProtocol
from libp2p.network.config import ConnectionConfig
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
from libp2p.stream_muxer.yamux.yamux import Yamux

from spikewire.errors import SpikewireError
from spikewire.net.identity import new_key

log = logging.getLogger("spikewire.net")

DEFAULT_LISTEN = ("/ip4/127.0.0.1/tcp/0",)


class _QuietIdentify(logging.Filter):
    """py-libp2p logs an error each time a peer does not serve identify (/ipfs/id/1.0.0); spikewire nodes
    need not serve it (spec §4.1), so that record is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "/ipfs/id/" not in record.getMessage()


logging.getLogger("libp2p.host.basic_host").addFilter(_QuietIdentify())
DIAL_TIMEOUT_S = 10.0


class DialError(SpikewireError):
    """The peer could not be reached, or no protocol could be negotiated with it (a local report)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


@dataclass(frozen=True)
class HostLimits:
    """Connection limits (docs/config.md `limits`: maxConnections, maxConnectionsPerPeer, handshakeTimeoutMs)."""

    max_connections: int = 256
    max_connections_per_peer: int = 4
    handshake_timeout_s: float = 3.0


def create_host(key: KeyPair | None = None, limits: HostLimits | None = None) -> IHost:
    """A host offering the mandatory profile only: TCP + Noise + Yamux (no TLS, secio, plaintext, mplex).

    py-libp2p's connection manager would keep at least 50 connections by redialling every peer in its
    peerstore every 30 s; a spikewire node dials only the peers it is asked to, so that is switched off.
    """
    key = key or new_key()
    limits = limits or HostLimits()
    noise = NoiseTransport(key, noise_privkey=new_x25519_key_pair().private_key)
    conn_cfg = ConnectionConfig(max_connections=limits.max_connections, min_connections=0, low_watermark=0,
                                high_watermark=limits.max_connections,
                                max_connections_per_peer=limits.max_connections_per_peer,
                                inbound_upgrade_timeout=limits.handshake_timeout_s)
    return new_host(
        key_pair=key,
        sec_opt={TProtocol(NOISE_PROTOCOL_ID): noise},
        muxer_opt={TProtocol(YAMUX_PROTOCOL_ID): Yamux},
        enable_mDNS=False,
        enable_upnp=False,
        connection_config=conn_cfg,
    )


@asynccontextmanager
async def open_host(key: KeyPair | None = None, listen: Sequence[str] = DEFAULT_LISTEN,
                    limits: HostLimits | None = None) -> AsyncIterator[IHost]:
    host = create_host(key, limits)
    addrs = [multiaddr.Multiaddr(a) for a in listen]
    async with host.run(listen_addrs=addrs):
        try:
            yield host
        finally:
            with trio.CancelScope(shield=True):
                with trio.move_on_after(5):
                    await host.close()


def listen_addrs(host: IHost) -> list[str]:
    """The addresses the host listens on, each ending in /p2p/<PeerId> (ready to give to a dialer)."""
    pid = host.get_id().to_string()
    out = []
    for a in host.get_addrs():
        s = str(a)
        out.append(s if "/p2p/" in s else f"{s}/p2p/{pid}")
    return out


async def dial(host: IHost, addr: str, timeout: float = DIAL_TIMEOUT_S) -> ID:
    """Connect to the peer at a /p2p/ multiaddr (reusing a live connection) and return its PeerId."""
    try:
        info = info_from_p2p_addr(multiaddr.Multiaddr(addr))
    except Exception as err:
        raise DialError("invalid-address", f"{addr!r} is not a multiaddr ending in /p2p/<PeerId>: {err}") from err
    try:
        with trio.fail_after(timeout):
            await host.connect(info)
    except trio.TooSlowError as err:
        raise DialError("dial-failed", f"could not connect to {addr} within {timeout:g} s") from err
    except Exception as err:
        raise DialError("dial-failed", f"could not connect to {addr}: {err}") from err
    return info.peer_id


async def open_stream(host: IHost, peer: ID, protocols: Sequence[str],
                      timeout: float = DIAL_TIMEOUT_S) -> INetStream:
    """Open a stream to a connected peer and negotiate the first of `protocols` it accepts (spec §4.4)."""
    try:
        with trio.fail_after(timeout):
            return await host.new_stream(peer, [TProtocol(p) for p in protocols])
    except trio.TooSlowError as err:
        raise DialError("dial-failed", f"no answer from {peer} to {list(protocols)} within {timeout:g} s") from err
    except Exception as err:
        raise DialError("protocol-unsupported",
                        f"{peer} did not accept any of {list(protocols)}: {err}") from err


# -- receive timestamps -------------------------------------------------------------------------------

_RAW_CHAIN = ("muxed_conn", "secured_conn", "conn", "read_writer", "read_write_closer", "stream")


def _socket_stream(stream: INetStream) -> object | None:
    """The TCP stream under a libp2p stream (py-libp2p 0.8: yamux -> secure session -> noise -> raw -> TCP)."""
    obj: object | None = stream
    for name in _RAW_CHAIN:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj if hasattr(obj, "read") and hasattr(obj, "stream") else None


_TX_NS: contextvars.ContextVar[int | None] = contextvars.ContextVar("spikewire_tx_ns", default=None)


def last_transmit_ns() -> int | None:
    """time.time_ns() just before the latest socket write made by the current task (None when unknown).

    Read after `await stream.write(...)` returns: the request's bytes went out in a socket write of this task,
    at or after this time (the stamp is taken before waiting for the connection's write lock, so it is never
    after the bytes left)."""
    return _TX_NS.get()


def receive_stamps(stream: INetStream) -> Callable[[], int | None]:
    """A function giving time.time_ns() at the connection's latest socket read (None when unknown).

    Clock probes need the time their bytes arrived (spec §9.3.3: t4, and a server's t2, read as early as
    possible after the bytes arrive, before decoding). In py-libp2p the bytes of a response are decrypted and
    demultiplexed by other tasks before the stream's reader wakes up, which adds about 0.25 ms on this
    kind of machine; the socket read that completed them is earlier. The latest socket read of the
    connection at the time the message is handed over is never before the message's own bytes arrived, so
    the stamp can only overstate the round trip, never understate it. Installed once per connection by
    wrapping that TCP stream's read (and its write, for last_transmit_ns).
    """
    sock = _socket_stream(stream)
    if sock is None:
        return lambda: None
    if not getattr(sock, "_spikewire_stamped", False):
        inner = sock.read  # type: ignore[attr-defined]

        async def read(n: int | None = None) -> bytes:
            data = await inner(n)
            sock._spikewire_rx_ns = time.time_ns()  # type: ignore[attr-defined]
            return data

        inner_write = sock.write  # type: ignore[attr-defined]

        async def write(data: bytes) -> None:
            _TX_NS.set(time.time_ns())
            await inner_write(data)

        sock.read = read  # type: ignore[attr-defined]
        sock.write = write  # type: ignore[attr-defined]
        sock._spikewire_rx_ns = None  # type: ignore[attr-defined]
        sock._spikewire_stamped = True  # type: ignore[attr-defined]
    return lambda: sock._spikewire_rx_ns  # type: ignore[attr-defined]
