"""`python -m spikewire node`: run a node from a JSON config file until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
from typing import Any

import trio

from spikewire.cli.common import EXIT_OK, Lines, Parser, UsageError, model_text, seconds, table
from spikewire.codec.jsonmap import message_to_json
from spikewire.config import load_config
from spikewire.node import Node

STOP_TIMEOUT_S = 10.0

HELP = """Usage: python -m spikewire node --config FILE [--json] [--stats S]

Run a spikewire node described by the JSON config FILE (the format of `spikewire node --config`:
name, listen addresses, identity, ports, links, subscriptions, limits; hosted models are
TypeScript-only). Prints the node's PeerId and multiaddrs when it has started, then every
status change the events layer reports. SIGINT or SIGTERM closes all streams cleanly and exits 0.

Options:
  --config FILE   the node config (JSON); required
  --json          print NDJSON: {"event":"started","peer":...,"multiaddrs":[...],"ports":[...]},
                  then {"event":..., ...} lines, and {"event":"stopping"|"stopped"}
  --stats S       print statistics every S seconds
  -h, --help      show this help
"""


def run(argv: list[str]) -> int:
    p = Parser("node", HELP)
    p.add_argument("--config")
    p.add_argument("--json", action="store_true")
    p.add_argument("--stats")
    ns = p.parse(argv)
    if not ns.config:
        raise UsageError("--config is required")
    stats_s = seconds(ns.stats, "stats")
    lines = Lines(bool(ns.json))
    config = load_config(ns.config)

    async def main() -> int:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            node = Node(config=config)
            async with node:
                node.reporters.append(lambda ev: lines.print(ev, _event_text(ev)))
                _print_started(node, lines)
                got: list[str] = []
                async with trio.open_nursery() as nursery:
                    async def wait_signal() -> None:
                        async for s in signals:
                            got.append(signal.Signals(s).name)
                            nursery.cancel_scope.cancel()
                            return
                    nursery.start_soon(wait_signal)
                    if stats_s is not None:
                        async def stats_loop() -> None:
                            while True:
                                await trio.sleep(stats_s)
                                lines.print({"event": "stats", **node.stats()}, f"stats {node.stats()}")
                        nursery.start_soon(stats_loop)
                sig = got[0] if got else "stop"
                lines.print({"event": "stopping", "signal": sig}, f"{sig}: closing streams")
                with trio.fail_after(STOP_TIMEOUT_S):
                    await node.shutdown()
        lines.print({"event": "stopped"}, "stopped")
        return EXIT_OK

    return trio.run(main)


def _print_started(node: Node, lines: Lines) -> None:
    d = node.description()
    rows = [["peer", str(node.peer_id)], *[["listening", a] for a in node.addrs]]
    for q in d.ports:
        direction = "out" if int(q.direction) == 1 else "in"
        kind = "weighted" if int(q.kind) == 1 else "spike"
        rows.append(["port", f"{q.name} {direction} {kind} {q.channels} channels, model {model_text(q.model)}"])
    human = "\n".join([f"node {node.name} started", *table(rows)])
    ports = message_to_json(d)["ports"]
    lines.print({"event": "started", "name": node.name, "peer": str(node.peer_id), "multiaddrs": node.addrs,
                 "ports": ports}, human)


def _event_text(ev: dict[str, Any]) -> str:
    rest = " ".join(f"{k}={v}" for k, v in ev.items() if k != "event")
    return f"{ev.get('event', 'event')} {rest}".strip()
