"""describe (spec §9.1) between Python and TypeScript nodes, both directions, and the listener's answers to
bad input."""

from __future__ import annotations

import json
from pathlib import Path

import trio
from libp2p.custom_types import TProtocol

from _raw import collect, raw_stream
from _tsnode import REPO, SPIKEWIRE_JS, _env, node_binary, ts_node
from spikewire.codec.messages import (ClockRequest, Close, DescribeRequest, Description, Direction, Kind, Model,
                                      Param, Port, frame)
from spikewire.errors import CODES, RemoteCloseError
from spikewire.net.host import open_host
from spikewire.node import Node
from spikewire.protocols import describe as dp
from spikewire.wire.stream import FramedStream

PORTS = [{"name": "spikes", "direction": "out", "kind": "spike", "channels": 16,
          "model": {"name": "lif", "params": [["tau", 20, "ms"], ["v_th", -50.5, "mV"]]}},
         {"name": "stim", "direction": "in", "kind": "weighted", "channels": 2}]


def test_python_describes_a_typescript_node(tmp_path: Path) -> None:
    with ts_node({"name": "ts-desc", "role": "culture", "ports": PORTS}, tmp_path) as ts:
        async def main() -> Description:
            async with Node() as node:
                return await node.describe(ts.addr)
        d = trio.run(main)
    assert d.name == "ts-desc"
    assert d.role == "culture"
    assert d.software.startswith("spikewire-ts/")
    assert [p.name for p in d.ports] == ["spikes", "stim"]
    spikes, stim = d.ports
    assert (spikes.direction, spikes.kind, spikes.channels) == (Direction.OUT, Kind.SPIKE, 16)
    assert spikes.model == Model("lif", (Param("tau", 20, "ms"), Param("v_th", -50.5, "mV")))
    assert (stim.direction, stim.kind, stim.channels) == (Direction.IN, Kind.WEIGHTED, 2)
    assert d.protocols is not None and "/spikewire/clock/1.0.0" in d.protocols


def test_typescript_describes_a_python_node() -> None:
    async def main() -> dict:
        async with Node(name="py-desc", role="sink") as node:
            node.add_port(Port("rec", Direction.IN, Kind.SPIKE, 4, Model("recorder", (Param("gain", 2, "mV"),))))
            with trio.fail_after(60):
                r = await trio.run_process([node_binary(), str(SPIKEWIRE_JS), "describe", node.addrs[0], "--json"],
                                           capture_stdout=True, capture_stderr=True, check=False, env=_env(),
                                           cwd=str(REPO))
            assert r.returncode == 0, r.stderr.decode()
            out = json.loads(r.stdout)
            assert out["peer"] == str(node.peer_id)
            return out
    out = trio.run(main)
    assert out == {"type": "description", "name": "py-desc", "role": "sink",
                   "ports": [{"name": "rec", "direction": "in", "kind": "spike", "channels": 4,
                              "model": {"name": "recorder", "params": [["gain", 2, "mV"]]}}],
                   "software": "spikewire-py/0.1.0",
                   "protocols": ["/spikewire/describe/1.0.0", "/spikewire/clock/1.0.0",
                                 "/spikewire/events/1.0.0"],
                   "peer": out["peer"]}


def test_python_describes_python() -> None:
    async def main() -> Description:
        async with Node(name="a") as a, Node(name="b") as b:
            return await b.describe(a.addrs[0])
    assert trio.run(main).name == "a"


def test_listener_rejects_bad_input_and_keeps_serving() -> None:
    async def main() -> None:
        async with Node(name="victim") as victim, open_host() as attacker:
            addr = victim.addrs[0]
            # Another well-formed message: close{unexpected-message}, then a reset.
            s = await raw_stream(attacker, addr, dp.PROTOCOL)
            await s.write(frame(ClockRequest(1, 2)))
            ans = await collect(s)
            assert ans.messages == [Close(CODES["unexpected-message"], ans.messages[0].reason)]
            assert ans.ended == "reset"
            # A frame of length 0: malformed-frame.
            s = await raw_stream(attacker, addr, dp.PROTOCOL)
            await s.write(b"\x00")
            ans = await collect(s)
            assert [m.code for m in ans.messages] == [CODES["malformed-frame"]] and ans.ended == "reset"
            # A prefix announcing 2 MiB: frame-too-large as soon as the prefix is complete, no body needed.
            s = await raw_stream(attacker, addr, dp.PROTOCOL)
            await s.write(b"\x80\x80\x80\x01")
            ans = await collect(s)
            assert [m.code for m in ans.messages] == [CODES["frame-too-large"]] and ans.ended == "reset"
            # Not CBOR.
            s = await raw_stream(attacker, addr, dp.PROTOCOL)
            await s.write(b"\x02\xff\xff")
            ans = await collect(s)
            assert [m.code for m in ans.messages] == [CODES["invalid-cbor"]] and ans.ended == "reset"
            # A request, then another message after it: the description, then unexpected-message + reset.
            s = await raw_stream(attacker, addr, dp.PROTOCOL)
            await s.write(frame(DescribeRequest()) + frame(DescribeRequest()))
            ans = await collect(s)
            assert isinstance(ans.messages[0], Description) and len(ans.messages) == 1
            # The description's end (FIN) comes before the reset, so the reader may see either first.
            assert ans.ended in ("eof", "reset")
            # The node still describes itself to everyone.
            assert (await victim.describe(addr)).name == "victim"
    trio.run(main)


def test_listener_and_dialer_time_out() -> None:
    async def main() -> None:
        async with open_host() as server, open_host() as client:
            from spikewire.net.host import listen_addrs

            async def slow_handler(stream) -> None:  # type: ignore[no-untyped-def]
                await dp.serve_describe(stream, lambda: Description("x", "other", (), "t"), timeout=0.5)
            server.set_stream_handler(TProtocol(dp.PROTOCOL), slow_handler)
            s = await raw_stream(client, listen_addrs(server)[0], dp.PROTOCOL)
            ans = await collect(s, timeout=10)
            assert [m.code for m in ans.messages] == [CODES["timeout"]] and ans.ended == "reset"

            # A listener that never answers: the dialer gives up with timeout (and tells the listener).
            async def mute(stream) -> None:  # type: ignore[no-untyped-def]
                await trio.sleep(5)
            server.set_stream_handler(TProtocol("/spikewire/describe/1.0.0"), mute)
            fs = FramedStream(await raw_stream(client, listen_addrs(server)[0], dp.PROTOCOL))
            try:
                await dp.request_description(fs, timeout=0.5)
            except Exception as err:  # noqa: BLE001
                assert getattr(err, "code", None) == "timeout"
            else:
                raise AssertionError("no timeout")
    trio.run(main)


def test_unauthorized_close_is_reported_with_its_code() -> None:
    async def main() -> None:
        async with open_host() as server, open_host() as client:
            from spikewire.net.host import listen_addrs
            server.set_stream_handler(TProtocol(dp.PROTOCOL),
                                      dp.describe_handler(lambda: Description("x", "other", (), "t"),
                                                          authorize=lambda peer: False))
            try:
                await dp.describe(client, listen_addrs(server)[0])
            except RemoteCloseError as err:
                assert err.code == "unauthorized"
            else:
                raise AssertionError("described despite unauthorized")
    trio.run(main)


def test_listener_answers_a_dialer_that_asks_for_nothing_as_the_reference_does(tmp_path: Path) -> None:
    """A close before the request is unexpected-message; an end of writing before it is timeout (at once
    here, after 10 s in the reference). Checked against both implementations."""
    async def probe(h, addr: str) -> list:  # type: ignore[no-untyped-def]
        out = []
        for payload in (frame(Close(CODES["normal"])), b""):
            s = await raw_stream(h, addr, dp.PROTOCOL)
            if payload:
                await s.write(payload)
            await s.close()
            ans = await collect(s, timeout=20)
            out.append(([m.code for m in ans.messages], ans.ended))
        return out

    async def main(ts_addr: str) -> None:
        async with Node() as py, open_host() as h:
            py_answers = await probe(h, py.addrs[0])
            ts_answers = await probe(h, ts_addr)
            expected = [([CODES["unexpected-message"]], "reset"), ([CODES["timeout"]], "reset")]
            assert py_answers == expected
            assert ts_answers == expected
    with ts_node({"name": "ts-ask-nothing"}, tmp_path) as ts:
        trio.run(main, ts.addr)


def test_allow_list_refuses_other_peers(tmp_path: Path) -> None:
    from spikewire.net.identity import peer_id_of, write_new_key
    friend_key = write_new_key(tmp_path / "friend.key")

    async def main() -> None:
        cfg = {"name": "guarded", "allow": [peer_id_of(friend_key).to_string()]}
        async with Node(config=cfg) as guarded, Node(identity=friend_key) as friend, Node() as stranger:
            assert (await friend.describe(guarded.addrs[0])).name == "guarded"
            try:
                await stranger.describe(guarded.addrs[0], timeout=5)
            except Exception as err:  # noqa: BLE001 - refused: the stream is reset before any message
                assert getattr(err, "code", None) in ("stream-reset", "protocol-unsupported", "unexpected-message")
            else:
                raise AssertionError("a peer outside allow was described to")
            assert guarded.refused >= 1  # at the connection (and any stream that raced its closing)
            # A TypeScript stranger is refused too.
            with trio.fail_after(60):
                r = await trio.run_process([node_binary(), str(SPIKEWIRE_JS), "describe", guarded.addrs[0], "--json",
                                            "--timeout", "5"], capture_stdout=True, capture_stderr=True,
                                           check=False, env=_env(), cwd=str(REPO))
            assert r.returncode == 1 and r.stdout == b""
    trio.run(main)


def test_streams_per_peer_are_bounded() -> None:
    """Describe has no reject: the stream beyond the per-peer limit is reset without a message (§11.4)."""
    from spikewire.node import DEFAULT_LIMITS
    DEFAULT_STREAMS_PER_PEER = DEFAULT_LIMITS["maxDescribeStreamsPerPeer"]

    async def main() -> None:
        async with Node(name="bounded") as node, open_host() as h:
            held = [await raw_stream(h, node.addrs[0], dp.PROTOCOL) for _ in range(DEFAULT_STREAMS_PER_PEER)]
            with trio.fail_after(20):
                while sum(node._active.values()) < DEFAULT_STREAMS_PER_PEER:  # the handlers are running
                    await trio.sleep(0.02)
            from spikewire.net.host import DialError
            try:
                extra = await raw_stream(h, node.addrs[0], dp.PROTOCOL)
            except DialError:
                pass  # the reset came before py-libp2p read the negotiation's answer: it reports a failed open
            else:
                ans = await collect(extra)
                assert ans.messages == [] and ans.ended == "reset"
            with trio.fail_after(20):
                while node.refused < 1:
                    await trio.sleep(0.02)
            assert node.refused == 1
            # The held streams are still served.
            await held[0].write(frame(DescribeRequest()))
            ans = await collect(held[0])
            assert isinstance(ans.messages[0], Description) and ans.messages[0].name == "bounded"
    trio.run(main)


def test_config_limits_per_peer_and_limits_not_applied() -> None:
    """A config's maxDescribeStreamsPerPeer bounds describe streams; a limit the Python node does not apply
    (the TypeScript node's connection guard) is reported, not ignored silently."""
    config = {"name": "limited", "listen": ["/ip4/127.0.0.1/tcp/0"], "ports": [],
              "limits": {"maxDescribeStreamsPerPeer": 2, "maxPendingPerAddress": 4}}

    async def main() -> None:
        async with Node(config=config) as node, open_host() as h:
            assert node.stats()["unappliedLimits"] == ["maxPendingPerAddress"]
            held = [await raw_stream(h, node.addrs[0], dp.PROTOCOL) for _ in range(2)]
            with trio.fail_after(20):
                while sum(node._active.values()) < 2:
                    await trio.sleep(0.02)
            from spikewire.net.host import DialError
            try:
                extra = await raw_stream(h, node.addrs[0], dp.PROTOCOL)
            except DialError:
                pass
            else:
                ans = await collect(extra)
                assert ans.messages == [] and ans.ended == "reset"
            with trio.fail_after(20):
                while node.refused < 1:
                    await trio.sleep(0.02)
            await held[1].write(frame(DescribeRequest()))
            ans = await collect(held[1])
            assert isinstance(ans.messages[0], Description) and ans.messages[0].name == "limited"
    trio.run(main)


def test_config_relays_not_applied() -> None:
    """`relays` (circuit relays, docs/relay.md) is valid config that the Python node does not use yet: it is
    reported in unappliedLimits, not ignored silently."""
    relay = "/ip4/127.0.0.1/tcp/4020/p2p/12D3KooWPJHoFkZpxadBaWDMAgDAzN4StdiokmLVHLJpkdtFxRAF"
    config = {"name": "behind-nat", "listen": ["/ip4/127.0.0.1/tcp/0"], "ports": [], "relays": [relay]}

    async def main() -> None:
        async with Node(config=config) as node:
            assert node.stats()["unappliedLimits"] == ["relays"]
    trio.run(main)
