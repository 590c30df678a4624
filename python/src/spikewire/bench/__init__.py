"""Benchmarks of spikewire for Python against the TypeScript reference (`python -m spikewire.bench --json`).

Each measure prints one JSON line with a baseline measured in the same run (the same measure between two
TypeScript processes). The TypeScript side runs the repository's own benchmark children
(bench/stream-peer.ts, bench/timing-peer.ts), driven by JSON-line commands on their stdin; so this package
needs a checkout of the repository and Node 24 (node_modules/.bin/node or `node` on PATH).
"""
