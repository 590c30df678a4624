"""`python -m spikewire describe`: ask a remote node what it is and print its description."""

from __future__ import annotations

import trio

from spikewire.cli.common import EXIT_OK, Parser, dumps, model_text, multiaddr_arg, out, seconds, table
from spikewire.codec.jsonmap import message_to_json
from spikewire.codec.messages import Description
from spikewire.errors import SpikewireError
from spikewire.node import Node

HELP = """Usage: python -m spikewire describe MULTIADDR [--json] [--timeout S]

Connect to the node at MULTIADDR (e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...) and print its
description: name, role, software, model, and a table of its ports (name, direction, kind,
channels, model and parameters).

Options:
  --json        print the description object as one JSON line
  --timeout S   give up after S seconds (default 10)
  -h, --help    show this help
"""


def describe_text(d: Description, peer: str | None = None) -> list[str]:
    head = [["name", d.name], ["role", d.role]]
    if peer:
        head.append(["peer", peer])
    head.append(["software", d.software])
    if d.model is not None:
        head.append(["model", model_text(d.model)])
    if d.protocols is not None:
        head.append(["protocols", " ".join(d.protocols)])
    if not d.ports:
        ports = ["(no ports)"]
    else:
        rows = [["PORT", "DIR", "KIND", "CHANNELS", "MODEL"]]
        for q in d.ports:
            rows.append([q.name, "out" if int(q.direction) == 1 else "in", "weighted" if int(q.kind) == 1 else "spike",
                         str(q.channels), model_text(q.model)])
        ports = table(rows)
    return [*table(head), "", *ports]


def run(argv: list[str]) -> int:
    p = Parser("describe", HELP)
    p.add_argument("multiaddr", metavar="MULTIADDR")
    p.add_argument("--json", action="store_true")
    p.add_argument("--timeout")
    ns = p.parse(argv)
    target = multiaddr_arg(ns.multiaddr)
    timeout = seconds(ns.timeout, "timeout") or 10.0

    async def main() -> tuple[Description, str]:
        async with Node(name="spikewire-describe") as node:
            with trio.move_on_after(timeout) as scope:
                peer = await node.connect(target)
                return await node.describe(peer, timeout), str(peer)
            assert scope.cancelled_caught
            raise SpikewireError("timeout", f"no description from {target} within {timeout:g} s")

    d, peer = trio.run(main)
    if ns.json:
        out(dumps({**message_to_json(d), "peer": peer}))
    else:
        for line in describe_text(d, peer):
            out(line)
    return EXIT_OK
