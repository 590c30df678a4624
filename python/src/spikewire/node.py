"""A spikewire node: a libp2p host serving describe and clock, with a hook for the events protocol.

    async with spikewire.Node(listen=["/ip4/127.0.0.1/tcp/0"]) as node:
        desc = await node.describe(addr)
        est = await node.clock(addr)

or from the same JSON config as `spikewire node --config FILE`:

    async with spikewire.Node.from_config("node.json") as node: ...

The events protocol (py-events) plugs in through a small hook: `node.host`, `node.nursery`,
`node.set_stream_handler(protocol, handler, max_per_peer=...)`, `node.add_port(port)` /
`node.remove_port(name)` (what the description lists), `node.clock_for(peer)` (a shared clock client per
peer) and `node.config` (the validated config, whose ports, links and subscriptions the events layer
starts). When the module `spikewire.events` has a function `attach(node)` (sync or async), the node calls
it once the host is listening.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import trio
from libp2p.abc import IHost, INetConn, INetStream, INetwork, INotifee
from libp2p.crypto.keys import KeyPair
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID

from spikewire.clock.estimator import Estimate
from spikewire.codec.messages import Description, Direction, Kind, Model, Param, Port
from spikewire.config import NodeConfig, load_config, parse_config
from spikewire.errors import ConfigError, SpikewireError
from spikewire.net.host import HostLimits, dial, listen_addrs, open_host
from spikewire.net.identity import load_or_create_key, peer_id_of
from spikewire.protocols import clock as clock_proto
from spikewire.protocols import describe as describe_proto
from spikewire.protocols.clock import ClockClient, ClockServer, ClockServerLimits, now_us
from spikewire.version import SOFTWARE

log = logging.getLogger("spikewire.node")

DIRECTIONS = {"in": 0, "out": 1}
KINDS = {"spike": 0, "weighted": 1}
EVENTS_PROTOCOL = "/spikewire/events/1.0.0"
DEFAULT_STREAMS_PER_PEER = 16
DEFAULT_LIMITS = {"maxDescribeStreamsPerPeer": 8, "maxClockStreamsPerPeer": 4}
"""The per-peer describe and clock stream limits of a node started without a config (the schema's defaults)."""
UNAPPLIED_LIMITS = ("maxConnectionsPerAddress", "maxPendingPerAddress", "idleConnectionMs", "streamWindowBytes")
"""Limits of the config format that the Python node does not apply (py-libp2p has no hook for them): a
config that sets one gets a warning and the names in `stats()["unappliedLimits"]`."""
UNAPPLIED_FIELDS = ("discovery",)
"""Top-level config fields the Python node does not apply (no mDNS discovery here): a config that sets one
(other than `false`/empty) gets a warning and the field name in `stats()["unappliedLimits"]`."""
"""Concurrent inbound streams per peer and protocol for describe and clock (spec §11.4)."""

StreamHandler = Callable[[INetStream], Awaitable[None]]


class PeerClock:
    """The clock client a node keeps for one peer; started on first use, stopped with the node."""

    def __init__(self, node: Node, peer: ID, addr: str | None) -> None:
        self.node = node
        self.peer = peer
        self.addr = addr
        self.client: ClockClient | None = None
        self.error: SpikewireError | None = None
        self.updated = trio.Event()
        self._stopped = False

    def estimate(self, at_local_us: float | None = None) -> Estimate | None:
        return None if self.client is None else self.client.estimate(at_local_us)

    async def wait(self, converged: bool = False, timeout: float = 20.0) -> Estimate:
        """The first estimate (or the first converged one), raising the clock stream's error if it fails."""
        with trio.fail_after(timeout):
            while True:
                if self.error is not None:
                    raise self.error
                est = self.estimate()
                if est is not None and (est.converged or not converged):
                    return est
                await self.updated.wait()

    def _on_estimate(self, est: Estimate) -> None:
        self._notify()

    def _notify(self) -> None:
        ev, self.updated = self.updated, trio.Event()
        ev.set()

    async def run(self) -> None:
        backoff = 0.25
        while not self._stopped:
            try:
                fs = await clock_proto.open_clock(self.node.host, self.addr or self.peer)
                kw: dict[str, Any] = {} if self.client is None else {"estimator": self.client.estimator}
                self.client = ClockClient(fs, clock=self.node.now, on_estimate=self._on_estimate, **kw)
                self.error = None
                backoff = 0.25
                await self.client.run()
            except SpikewireError as err:
                self.error = err
                log.debug("clock with %s failed: %s; retrying in %.2f s", self.peer, err, backoff)
                self._notify()
            except Exception as err:  # a bug of ours must not end the node: this clock retries
                self.error = SpikewireError("internal-error", f"clock client: {err!r}")
                log.warning("clock with %s: internal error %r; retrying in %.2f s", self.peer, err, backoff)
                self._notify()
            await trio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)


class Node:
    """A spikewire node (an async context manager). See the module docstring."""

    def __init__(self, listen: Sequence[str] | None = None, identity: str | Path | KeyPair | None = None, *,
                 name: str = "spikewire-py", role: str = "other", config: NodeConfig | dict[str, Any] | None = None,
                 clock: Callable[[], int] = now_us, clock_limits: ClockServerLimits | None = None) -> None:
        if isinstance(config, dict):
            config = parse_config(config)
        self.config = config
        if config is not None:
            listen = listen if listen is not None else config.listen
            identity = identity if identity is not None else config.identity
            name, role = config.name, config.role
            if clock_limits is None:
                clock_limits = ClockServerLimits(
                    requests_per_second=config.limit("clockRequestsPerSecond"), burst=config.limit("clockBurst"),
                    idle_s=config.limit("clockIdleMs") / 1000, stall_s=config.limit("slowConsumerMs") / 1000)
        self.listen = list(listen) if listen is not None else ["/ip4/127.0.0.1/tcp/0"]
        ws = [a for a in self.listen if _is_websockets(a)]
        if ws:
            # WebSockets (spec §4.1.2) is optional and this node's host speaks TCP only: the /ws addresses are
            # left out, said, and reported; a node must listen on TCP anyway (§4.1.1).
            self.listen = [a for a in self.listen if not _is_websockets(a)]
            if not self.listen:
                raise ConfigError("listen: a node that offers WebSockets must also listen on TCP (spec §4.1.1)")
            log.warning("listen: %s not applied: the Python node listens on TCP only", ", ".join(ws))
        self.unapplied_limits = [] if config is None else [
            n for n in UNAPPLIED_LIMITS if config.raw.get("limits", {}).get(n) is not None] + [
            f for f in UNAPPLIED_FIELDS if _sets(config.raw.get(f))]
        for n in self.unapplied_limits:
            where = n if n in UNAPPLIED_FIELDS else f"limits.{n}"
            log.warning("%s is not applied by the Python node (the TypeScript node applies it)", where)
        if ws:
            self.unapplied_limits.append("listen:ws")
        if config is not None and config.raw.get("relays"):
            # Circuit relays (docs/relay.md): py-libp2p has no circuit relay v2 client here yet.
            self.unapplied_limits.append("relays")
            log.warning("relays is not applied by the Python node (the TypeScript node reserves on them)")
        self.host_limits = HostLimits() if config is None else HostLimits(
            max_connections=config.limit("maxConnections"),
            max_connections_per_peer=config.limit("maxConnectionsPerPeer"),
            handshake_timeout_s=config.limit("handshakeTimeoutMs") / 1000)
        self.name = name
        self.role = role
        self.now = clock
        """The node's clock, µs since the epoch (event timestamps and clock probes)."""
        self.key, self.key_created = self._load_key(identity)
        self.peer_id = peer_id_of(self.key)
        self.clock_server = ClockServer(clock, clock_limits)
        self.ports: dict[str, Port] = {}
        self.protocols: list[str] = [describe_proto.PROTOCOL, clock_proto.PROTOCOL]
        self._allow = None if config is None or config.allow == "*" else {str(p) for p in config.allow}
        self._clocks: dict[ID, PeerClock] = {}
        self._host: IHost | None = None
        self._nursery: trio.Nursery | None = None
        self._stack: Any = None
        self._active: dict[tuple[str, ID], int] = {}
        self.refused = 0
        self.reporters: list[Callable[[dict[str, Any]], None]] = []
        self.stats_sources: dict[str, Callable[[], Any]] = {}
        self.closers: list[Callable[[], Awaitable[None]]] = []
        """Called with each event the node reports (the CLI prints them): {"event": "...", ...}."""

    @classmethod
    def from_config(cls, path: str | Path, **kw: Any) -> Node:
        return cls(config=load_config(path), **kw)

    @staticmethod
    def _load_key(identity: str | Path | KeyPair | None) -> tuple[KeyPair, bool]:
        if identity is None:
            from spikewire.net.identity import new_key
            return new_key(), False
        if isinstance(identity, KeyPair):
            return identity, False
        return load_or_create_key(identity)

    # -- lifecycle ------------------------------------------------------------------------------------
    async def __aenter__(self) -> Node:
        from contextlib import AsyncExitStack
        stack = AsyncExitStack()
        await stack.__aenter__()
        try:
            self._host = await stack.enter_async_context(open_host(self.key, self.listen, self.host_limits))
            self._nursery = await stack.enter_async_context(trio.open_nursery())
            if self._allow is not None:
                self._host.get_network().register_notifee(_Gate(self))
            self.set_stream_handler(describe_proto.PROTOCOL, describe_proto.describe_handler(self.description),
                                    max_per_peer=self._stream_limit("maxDescribeStreamsPerPeer"))
            self.set_stream_handler(clock_proto.PROTOCOL, self.clock_server.handler,
                                    max_per_peer=self._stream_limit("maxClockStreamsPerPeer"))
            await self._attach_events()
        except BaseException:
            await stack.__aexit__(None, None, None)
            raise
        self._stack = stack
        return self

    async def __aexit__(self, et: type[BaseException] | None, ev: BaseException | None,
                        tb: TracebackType | None) -> bool | None:
        for pc in self._clocks.values():
            pc._stopped = True
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()
        stack, self._stack = self._stack, None
        self._host = None
        return await stack.__aexit__(et, ev, tb)

    def report(self, event: dict[str, Any]) -> None:
        """Report an event ({"event": "link"|"subscription"|"gap"|"loss"|"refused"|..., ...}) to the reporters."""
        for r in list(self.reporters):
            try:
                r(event)
            except Exception as err:  # a reporter's bug must not break the node
                log.warning("reporter failed: %r", err)

    def stats(self) -> dict[str, Any]:
        """Counters of the node (the events layer adds its own through `stats_sources`)."""
        cs = self.clock_server.stats
        out: dict[str, Any] = {"refused": self.refused,
                               "clockServer": {"streams": cs.streams, "requests": cs.requests, "answers": cs.answers,
                                               "failed": cs.failed, "slowConsumer": cs.slow_consumer,
                                               "timeouts": cs.timeouts},
                               "unappliedLimits": list(self.unapplied_limits)}
        for name, source in list(self.stats_sources.items()):
            try:
                out[name] = source()
            except Exception as err:
                log.warning("stats source %s failed: %r", name, err)
        return out

    async def shutdown(self) -> None:
        """Close the node's streams cleanly before it stops (the events layer registers its closers in
        `closers`: each is awaited, e.g. to send close{shutdown} on events streams, spec §9.2.10)."""
        for pc in self._clocks.values():
            pc._stopped = True
        for closer in list(self.closers):
            try:
                await closer()
            except Exception as err:
                log.warning("closer failed: %r", err)

    async def _attach_events(self) -> None:
        try:
            events = importlib.import_module("spikewire.events")
        except ModuleNotFoundError:
            events = None
        attach = getattr(events, "attach", None) if events is not None else None
        if attach is None:
            cfg = self.config
            if cfg is not None and (cfg.ports or cfg.links or cfg.subscriptions):
                raise ConfigError("config.ports: ports, links and subscriptions need the events protocol "
                                  "(spikewire.events), which this installation lacks", "config-unsupported")
            return
        result = attach(self)
        if inspect.isawaitable(result):
            await result

    # -- what py-events uses ------------------------------------------------------------------------------
    @property
    def host(self) -> IHost:
        if self._host is None:
            raise RuntimeError("the node is not running (use `async with node:`)")
        return self._host

    @property
    def nursery(self) -> trio.Nursery:
        if self._nursery is None:
            raise RuntimeError("the node is not running (use `async with node:`)")
        return self._nursery

    @property
    def addrs(self) -> list[str]:
        """Listening addresses, each ending in /p2p/<PeerId>."""
        return listen_addrs(self.host)

    def allowed(self, peer: ID) -> bool:
        return self._allow is None or str(peer) in self._allow

    def _stream_limit(self, name: str) -> int:
        """A per-peer stream limit of the config (its schema default without one)."""
        return self.config.limit(name) if self.config is not None else DEFAULT_LIMITS[name]

    def set_stream_handler(self, protocol: str, handler: StreamHandler,
                           max_per_peer: int | None = DEFAULT_STREAMS_PER_PEER) -> None:
        """Serve `protocol`: peers outside `allow` are refused (stream reset), at most `max_per_peer`
        streams per peer run at once (one more is reset: per-protocol stream limits, spec §11.4; the events
        layer answers opens beyond its own limits with reject{too-many-streams} itself), and nothing the
        handler raises escapes to py-libp2p."""
        if protocol not in self.protocols:
            self.protocols.append(protocol)

        async def guarded(stream: INetStream) -> None:
            peer = stream.muxed_conn.peer_id
            if not self.allowed(peer):
                self.refused += 1
                await _reset_quietly(stream)
                return
            key = (protocol, peer)
            n = self._active.get(key, 0)
            if max_per_peer is not None and n >= max_per_peer:
                self.refused += 1
                await _reset_quietly(stream)
                return
            self._active[key] = n + 1
            try:
                await handler(stream)
            except Exception as err:  # a handler's bug ends its stream only
                log.warning("%s handler failed for %s: %r", protocol, peer, err)
                await _reset_quietly(stream)
            finally:
                left = self._active[key] - 1
                if left:
                    self._active[key] = left
                else:
                    del self._active[key]

        self.host.set_stream_handler(TProtocol(protocol), guarded)

    def add_port(self, port: Port) -> None:
        """List a port in the description (the events layer calls this when it creates one)."""
        if port.name in self.ports:
            raise ValueError(f"port {port.name!r} exists already")
        if EVENTS_PROTOCOL not in self.protocols:
            self.protocols.append(EVENTS_PROTOCOL)
        self.ports[port.name] = port

    def remove_port(self, name: str) -> None:
        self.ports.pop(name, None)

    def config_ports(self) -> list[Port]:
        """The ports of the config as description entries (for the events layer to create)."""
        out = []
        for p in self.config.ports if self.config is not None else []:
            out.append(Port(p["name"], Direction(DIRECTIONS[p["direction"]]), Kind(KINDS[p.get("kind", "spike")]),
                            p["channels"], _model(p.get("model"))))
        return out

    def description(self) -> Description:
        model = _model(self.config.model) if self.config is not None else None
        return Description(self.name, self.role, tuple(self.ports.values()), SOFTWARE, model, tuple(self.protocols))

    # -- client side ------------------------------------------------------------------------------------
    async def connect(self, addr: str) -> ID:
        return await dial(self.host, addr)

    async def describe(self, addr: str | ID, timeout: float = describe_proto.TIMEOUT_S) -> Description:
        return await describe_proto.describe(self.host, addr, timeout)

    def subscribe(self, addr: str, port: str, **kw: Any) -> Any:
        """Subscribe to a remote out port: an async iterator (and async context manager) of batches.

        Provided by the events layer (py-events: spikewire.events.subscription.Subscription); keyword
        arguments (channels, delay_us, reconnect, ...) go to it unchanged.
        """
        try:
            from spikewire.events.subscription import Subscription  # type: ignore[import-not-found]
        except ModuleNotFoundError as err:
            raise SpikewireError("unsupported", "subscribing needs the events layer (spikewire.events), "
                                 "which this installation lacks") from err
        kw.setdefault("clock", self.now)
        return Subscription(self.host, addr, port, **kw)

    def clock_for(self, peer: ID | str) -> PeerClock:
        """The shared clock client for a peer (a PeerId, or a /p2p/ multiaddr), started on first use."""
        addr = None
        if isinstance(peer, str):
            addr = peer
            from libp2p.peer.peerinfo import info_from_p2p_addr
            import multiaddr
            peer = info_from_p2p_addr(multiaddr.Multiaddr(addr)).peer_id
        pc = self._clocks.get(peer)
        if pc is None:
            pc = self._clocks[peer] = PeerClock(self, peer, addr)
            self.nursery.start_soon(pc.run)
        elif pc.addr is None and addr is not None:
            pc.addr = addr
        return pc

    async def clock(self, addr: str | ID, converged: bool = False, timeout: float = 20.0) -> Estimate:
        """The current estimate of a peer's clock offset (waits for the first, or the first converged one)."""
        return await self.clock_for(addr).wait(converged=converged, timeout=timeout)


def _sets(value: Any) -> bool:
    """Whether a config field asks for something: `discovery: {"mdns": false}` or `{}` asks for nothing."""
    if isinstance(value, dict):
        return any(v is not False and v is not None for v in value.values())
    return value is not None and value is not False


def _model(m: dict[str, Any] | None) -> Model | None:
    """A config model ({"name", "params": [[name, value, unit], ...]}) as a description model."""
    if m is None:
        return None
    params = m.get("params")
    return Model(m["name"], None if params is None else tuple(Param(n, v, u) for n, v, u in params))


class _Gate(INotifee):
    """Closes a connection from a peer outside `allow` as soon as it is up (right after the handshake, the
    first moment py-libp2p knows the remote PeerId); streams that race it are refused by the handlers."""

    def __init__(self, node: Node) -> None:
        self.node = node

    async def connected(self, network: INetwork, conn: INetConn) -> None:
        peer = conn.muxed_conn.peer_id
        if not self.node.allowed(peer):
            self.node.refused += 1
            self.node.report({"event": "refused", "peer": str(peer), "code": "unauthorized"})

            async def close() -> None:
                try:
                    await conn.close()
                except Exception as err:  # already closing
                    log.debug("closing a refused connection: %r", err)
            self.node.nursery.start_soon(close)

    async def opened_stream(self, network: INetwork, stream: INetStream) -> None:
        pass

    async def closed_stream(self, network: INetwork, stream: INetStream) -> None:
        pass

    async def disconnected(self, network: INetwork, conn: INetConn) -> None:
        pass

    async def listen(self, network: INetwork, multiaddr: Any) -> None:
        pass

    async def listen_close(self, network: INetwork, multiaddr: Any) -> None:
        pass


async def _reset_quietly(stream: INetStream) -> None:
    try:
        await stream.reset()
    except Exception:  # the stream may be gone already
        pass


def _is_websockets(addr: str) -> bool:
    """True for a WebSockets listen address (/ws, /wss or /tls/ws at the end)."""
    parts = [p for p in addr.split("/") if p]
    return bool(parts) and (parts[-1] in ("ws", "wss") or parts[-2:] == ["tls", "ws"])
