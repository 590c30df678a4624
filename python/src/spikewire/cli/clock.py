"""`python -m spikewire clock`: estimate a remote node's clock offset ± uncertainty, round trip and drift."""

from __future__ import annotations

import signal
from typing import Any

import trio

from spikewire.cli.common import EXIT_FAILURE, EXIT_OK, Parser, dumps, err, multiaddr_arg, out, seconds
from spikewire.clock.estimator import Estimate
from spikewire.node import Node
from spikewire.protocols.clock import ClockClient, open_clock

HELP = """Usage: python -m spikewire clock MULTIADDR [--json] [--duration S]

Run the clock protocol (/spikewire/clock/1.0.0) against the node at MULTIADDR and print, after every
burst of probes, the estimated offset of its clock from this machine's clock with its uncertainty, the
best round trip and the drift. The offset θ is remote − local: the remote's timestamp T is local time
T − θ. The uncertainty bounds the error (half the best round trip, the fit's error and the drift since
the last sample). It ends after --duration seconds (default 10), or on SIGINT, with a summary line.

Options:
  --json          one JSON object per estimate, and {"summary":true,...} at the end
  --duration S    how long to measure (default 10)
  -h, --help      show this help

Exit codes: 0 when an estimate was made, 1 when none was (no answer), 2 usage error.
"""


def _fields(e: Estimate, elapsed_s: float) -> dict[str, Any]:
    return {
        "t_s": round(elapsed_s, 3),
        "offset_us": round(e.offset_us, 1),
        "uncertainty_us": round(e.uncertainty_us, 1),
        "rtt_us": round(e.rtt_us, 1),
        "drift_ppm": round(e.drift_ppm, 2),
        "drift_uncertainty_ppm": round(e.drift_uncertainty_ppm, 2),
        "samples": e.samples_used,
        "converged": e.converged,
    }


def _text(e: Estimate, elapsed_s: float) -> str:
    o = _fields(e, elapsed_s)
    return (f"{elapsed_s:6.1f} s  offset {e.offset_us / 1000:.3f} ± {e.uncertainty_us / 1000:.3f} ms  "
            f"rtt {e.rtt_us / 1000:.3f} ms  drift {o['drift_ppm']:.2f} ± {o['drift_uncertainty_ppm']:.2f} ppm"
            + ("" if e.converged else "  (converging)"))


def run(argv: list[str]) -> int:
    p = Parser("clock", HELP)
    p.add_argument("multiaddr", metavar="MULTIADDR")
    p.add_argument("--json", action="store_true")
    p.add_argument("--duration")
    ns = p.parse(argv)
    target = multiaddr_arg(ns.multiaddr)
    duration = seconds(ns.duration, "duration") or 10.0
    json_mode = bool(ns.json)

    async def main() -> int:
        async with Node(name="spikewire-clock") as node:
            start = trio.current_time()

            def show(e: Estimate) -> None:
                el = trio.current_time() - start
                out(dumps(_fields(e, el)) if json_mode else _text(e, el))

            client: ClockClient | None = None
            failure: BaseException | None = None
            with trio.move_on_after(duration):
                with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async with trio.open_nursery() as nursery:
                        async def stop_on_signal() -> None:
                            async for _ in signals:
                                nursery.cancel_scope.cancel()
                                return
                        nursery.start_soon(stop_on_signal)
                        try:
                            fs = await open_clock(node.host, target)
                            client = ClockClient(fs, clock=node.now, on_estimate=show)
                            await client.run()
                        except Exception as e:  # reported below; the summary still prints
                            failure = e
                        nursery.cancel_scope.cancel()
            elapsed = trio.current_time() - start
            est = client.estimate() if client is not None else None
            st = client.stats if client is not None else None
            probes, answers, timeouts = (st.probes, st.answers, st.timeouts) if st else (0, 0, 0)
            if failure is not None:
                err(f"spikewire clock: {failure}")
            if json_mode:
                summary: dict[str, Any] = {"summary": True, "peer": target}
                if est is not None:
                    summary.update(_fields(est, elapsed))
                else:
                    summary.update({"t_s": round(elapsed, 3), "offset_us": None, "uncertainty_us": None})
                summary.update({"probes": probes, "answers": answers, "timeouts": timeouts})
                out(dumps(summary))
            elif est is not None:
                out(f"summary: {_text(est, elapsed).strip()}; {answers}/{probes} probes answered")
            else:
                out(f"summary: no estimate ({answers}/{probes} probes answered)")
            return EXIT_OK if est is not None else EXIT_FAILURE

    return trio.run(main)
