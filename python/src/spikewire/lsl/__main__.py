"""`python -m spikewire.lsl publish MULTIADDR PORT [--name N]` and
`python -m spikewire.lsl ingest STREAM_QUERY --listen MULTIADDR --port NAME` (docs/lsl.md).

Both run until SIGINT/SIGTERM (or --duration), then print their counters: as one JSON line
{"event": "stats", ...} on stdout with --json (every report is a JSON line then), else on stderr.
Exit status: 0, or 1 when the bridge failed (the error on stderr, and as {"event": "error"} with --json).
"""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from typing import Any

import trio

from ..errors import SpikewireError
from . import lslcfg


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m spikewire.lsl", description="Lab Streaming Layer bridge")
    sub = p.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="reports and stats as JSON lines on stdout")
    common.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    common.add_argument("--lsl-config", default=None, help="liblsl configuration file (sets LSLAPICFG)")
    common.add_argument("--verbose", "-v", action="store_true")
    pb = sub.add_parser("publish", parents=[common], help="a spikewire out port as an LSL outlet")
    pb.add_argument("addr", metavar="MULTIADDR", help="the publishing node, ending in /p2p/<PeerId>")
    pb.add_argument("port", metavar="PORT")
    pb.add_argument("--name", default=None, help="the LSL stream name (default <node name>/<port>)")
    pb.add_argument("--wait-consumers", type=float, default=0.0, metavar="S",
                    help="wait up to S seconds for an LSL consumer before subscribing (default: do not wait)")
    pb.add_argument("--clock-timeout", type=float, default=20.0, help="wait for a converged clock estimate (s)")
    ig = sub.add_parser("ingest", parents=[common], help="an LSL stream as a spikewire out port")
    ig.add_argument("query", metavar="STREAM_QUERY", help="an LSL predicate (name='X') or prop=value")
    ig.add_argument("--listen", required=True, metavar="MULTIADDR")
    ig.add_argument("--port", required=True, metavar="NAME")
    ig.add_argument("--channels", type=int, default=None,
                    help="the port's channel count (default: the stream's desc/spikewire/channels, else 1024)")
    ig.add_argument("--identity", default=None, help="key file (created when missing)")
    ig.add_argument("--resolve-timeout", type=float, default=20.0)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    lslcfg.use_config(args.lsl_config)

    def report(ev: dict[str, Any]) -> None:
        if args.json:
            print(json.dumps(ev), flush=True)
        elif ev.get("event") in ("ready", "loss", "refused", "unmapped", "ended"):
            print(" ".join(f"{k}={v}" for k, v in ev.items()), file=sys.stderr, flush=True)

    from .ingest import Ingest
    from .publish import Publisher
    bridge: Any
    if args.cmd == "publish":
        bridge = Publisher(args.addr, args.port, name=args.name, clock_timeout_s=args.clock_timeout,
                           wait_consumers_s=args.wait_consumers, report=report)
    else:
        bridge = Ingest(args.query, args.listen, args.port, channels=args.channels, identity=args.identity,
                        resolve_timeout_s=args.resolve_timeout, report=report)

    async def run() -> int:
        stop = trio.Event()
        status = 0
        async with trio.open_nursery() as nursery:
            async def signals() -> None:
                with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as rx:
                    async for _ in rx:
                        stop.set()
                        return
            nursery.start_soon(signals)
            if args.duration is not None:
                async def timer() -> None:
                    await trio.sleep(args.duration)
                    stop.set()
                nursery.start_soon(timer)
            with trio.CancelScope() as setup:
                async def interrupt_setup() -> None:
                    # A signal while the bridge is still starting (resolving, waiting for a clock estimate)
                    # ends it at once; once ready, the bridge watches `stop` itself and ends cleanly.
                    await stop.wait()
                    if not bridge.ready.is_set():
                        setup.cancel()
                nursery.start_soon(interrupt_setup)
                try:
                    await bridge.run(stop)
                except SpikewireError as err:
                    report({"event": "error", "code": err.code, "message": str(err)})
                    print(f"spikewire.lsl {args.cmd}: {err}", file=sys.stderr)
                    status = 1
            if setup.cancelled_caught:
                report({"event": "ended", "code": "interrupted", "message": "stopped while starting"})
            nursery.cancel_scope.cancel()
        stats = bridge.stats.as_dict()
        if args.json:
            print(json.dumps({"event": "stats", **stats}), flush=True)
        else:
            print(json.dumps(stats, indent=1), file=sys.stderr)
        return status

    return trio.run(run)


if __name__ == "__main__":
    sys.exit(main())
