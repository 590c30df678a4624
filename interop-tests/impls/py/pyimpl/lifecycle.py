"""How streams end, in the Python implementation: an abrupt disconnect the subscription recovers from, and
graceful closes initiated by either end."""
from __future__ import annotations

import time
from typing import Any

import numpy as np
import trio

from .context import Ctx


async def steady_source(port: Any, now: Any, per_tick: int, tick_s: float, sent: list[int]) -> None:
    """Emit `per_tick` events every `tick_s` while the port has a subscriber (until cancelled)."""
    k = 0
    while True:
        await trio.sleep(tick_s)
        if port.streams == 0:
            continue
        t = int(now())
        ch = (np.arange(k, k + per_tick) % port.channels).astype(np.uint32)
        k += per_tick
        sent[0] += port.emit(ch, np.full(per_tick, t, dtype=np.int64))


def _socket_stream(obj: Any, depth: int = 8, seen: set[int] | None = None) -> trio.SocketStream | None:
    """The trio socket stream under a py-libp2p connection (muxer → secure session → raw connection)."""
    seen = seen if seen is not None else set()
    if obj is None or depth < 0 or id(obj) in seen:
        return None
    seen.add(id(obj))
    if isinstance(obj, trio.SocketStream):
        return obj
    for name in ("muxed_conn", "secured_conn", "conn", "raw_conn", "read_writer", "stream", "_stream", "transport"):
        found = _socket_stream(getattr(obj, name, None), depth - 1, seen)
        if found is not None:
            return found
    return None


async def abort_tcp(conn: Any) -> bool:
    """Abort a connection as a crashing peer would: every stream reset (a muxer reset, no close message),
    then the TCP connection reset (SO_LINGER 0, then close). This is what js-libp2p's connection abort
    puts on the wire; a bare TCP reset without the stream resets is seen by js-libp2p's yamux as the end
    of each stream's readable side."""
    import socket
    import struct
    for stream in list(getattr(conn, "get_streams", lambda: ())()):
        try:
            with trio.move_on_after(0.5):
                await stream.reset()
        except Exception:  # noqa: BLE001 - the connection goes anyway
            pass
    ss = _socket_stream(conn)
    if ss is None:
        return False
    try:
        ss.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    await ss.aclose()
    return True


async def abort_under_subscription(ctx: Ctx, peer: Any) -> dict[str, Any]:
    port = peer.out_ports[ctx.param("port", str)]
    per_tick = max(1, round(float(ctx.param("rate_hz", (int, float))) / 100))
    sent = [0]
    aborted = 0
    async with trio.open_nursery() as nursery:
        await ctx.ready()
        nursery.start_soon(steady_source, port, peer.node.now, per_tick, 0.01, sent)
        await ctx.rv.get("received-before", ctx.remaining_ms())
        network = peer.node.host.get_network()
        for conns in list(network.get_connections_map().values()):
            for conn in conns:
                # Drop the connection under the live stream: no close message, no muxer go-away, a TCP
                # reset on the socket.
                if await abort_tcp(conn):
                    aborted += 1
        await ctx.done.wait()
        nursery.cancel_scope.cancel()
    return {"aborted_connections": aborted, "sent": sent[0]}


async def survives_disconnect(ctx: Ctx, peer: Any) -> dict[str, Any]:
    before = int(ctx.param("before", int))
    after = int(ctx.param("after", int))
    state = {"before": 0, "after": 0, "abnormal": 0, "broke_at": 0.0, "reconnect_ms": -1}

    def on_status(s: dict[str, Any]) -> None:
        if s.get("event") != "status":
            return
        if s.get("state") == "retrying" and s.get("error") is not None and state["broke_at"] == 0.0:
            state["abnormal"] += 1
            state["broke_at"] = time.monotonic()
        if s.get("state") == "open" and state["broke_at"] > 0 and state["reconnect_ms"] < 0:
            state["reconnect_ms"] = round((time.monotonic() - state["broke_at"]) * 1000)

    sub = peer.node.events.subscribe(ctx.peer_addr, ctx.param("port", str), reconnect=True,
                                     min_backoff_s=0.05, max_backoff_s=0.5, on_status=on_status)
    put = False
    with trio.move_on_after(ctx.wait_ms(8000) / 1000):
        async for batch in sub:
            if sub.stats.connects <= 1:
                state["before"] += len(batch)
            else:
                state["after"] += len(batch)
            if not put and state["before"] >= before:
                put = True
                await ctx.rv.put("received-before", True)
            if state["after"] >= after:
                break
    fields = {"connects": sub.stats.connects, "abnormal_ends": state["abnormal"], "events_before": state["before"],
              "events_after": state["after"], "reconnect_ms": state["reconnect_ms"]}
    with trio.move_on_after(3):
        await sub.aclose()
    return fields


async def close_when_asked(ctx: Ctx, peer: Any) -> dict[str, Any]:
    port = peer.out_ports[ctx.param("port", str)]
    sent = [0]
    own = 0
    async with trio.open_nursery() as source:
        await ctx.ready()
        source.start_soon(steady_source, port, peer.node.now, 1, 0.02, sent)
        await ctx.rv.get("phase2", ctx.remaining_ms())
        source.cancel_scope.cancel()
    # Every event emitted so far, a final watermark and close{normal} on each served stream (spec §9.2.10).
    own = await port.close_streams("normal", timeout=ctx.remaining_ms() / 1000)
    await ctx.done.wait()
    return {"own_closes": own}


async def close_both_ways(ctx: Ctx, peer: Any) -> dict[str, Any]:
    node = peer.node
    port = ctx.param("port", str)
    each = int(ctx.param("events_each", int))

    s1 = node.events.subscribe(ctx.peer_addr, port, reconnect=False)
    e1 = 0
    with trio.move_on_after(ctx.wait_ms(6000) / 1000):
        async for batch in s1:
            e1 += len(batch)
            if e1 >= each:
                break
    with trio.move_on_after(ctx.wait_ms(6000) / 1000):
        await s1.aclose()
    clean1 = s1.error is None and not s1.stats.stream_errors
    phase1 = {"end": "clean" if clean1 else f"error: {s1.error}", "events": e1}

    s2 = node.events.subscribe(ctx.peer_addr, port, reconnect=False)
    e2 = 0
    ended = False
    put = False
    error: BaseException | None = None
    with trio.move_on_after(ctx.wait_ms(6000) / 1000):
        try:
            async for batch in s2:
                e2 += len(batch)
                if e2 >= each and not put:
                    put = True
                    await ctx.rv.put("phase2", True)
            ended = True
        except Exception as err:  # noqa: BLE001 - reported as the end of phase 2
            ended, error = True, err
    closes = s2.stats.closes
    phase2 = {"end": "clean" if ended and error is None and s2.error is None else
              ("not closed" if not ended else f"error: {error or s2.error}"),
              "close_code": next(iter(closes)) if closes else "none", "events": e2}
    if not ended:
        await s2.aclose()
    return {"phase1": phase1, "phase2": phase2}
