"""`python -m spikewire keygen`: create a node identity (the key file format of `spikewire keygen`)."""

from __future__ import annotations

from spikewire.cli.common import EXIT_OK, Lines, Parser, UsageError, err
from spikewire.net.identity import peer_id_of, write_new_key

HELP = """Usage: python -m spikewire keygen --out FILE [--json]

Create a new Ed25519 node identity in FILE (mode 0600) and print its PeerId.
An existing FILE is never overwritten. The file is the one `spikewire keygen` writes: either
implementation gets the same PeerId from it.

Options:
  --out FILE   where to write the key (libp2p protobuf encoding); required
  --json       print {"peer": ..., "file": ...} instead of the bare PeerId
  -h, --help   show this help

Use the file as "identity" in a node config to keep the PeerId across restarts.
"""


def run(argv: list[str]) -> int:
    p = Parser("keygen", HELP)
    p.add_argument("--out")
    p.add_argument("--json", action="store_true")
    ns = p.parse(argv)
    if not ns.out:
        raise UsageError("--out is required")
    key = write_new_key(ns.out)
    peer = peer_id_of(key).to_string()
    Lines(bool(ns.json)).print({"peer": peer, "file": ns.out}, peer)
    if not ns.json:
        err(f"wrote {ns.out} (mode 0600)")
    return EXIT_OK
