"""`python -m spikewire tap`: subscribe to a remote out port and print its events live, then a summary.

Options, JSON lines and exit codes follow the TypeScript CLI (src/cli/tap.ts) where they overlap; the
real-time playout options (--playout, --late) are not offered here.
"""
from __future__ import annotations

import math
import signal
import sys
from typing import Any

import numpy as np
import trio

from spikewire.cli.common import EXIT_OK, Parser, UsageError, describe_error, dumps, err, multiaddr_arg, out, seconds
from spikewire.errors import SpikewireError
from spikewire.events.ports import EventBatch
from spikewire.events.subscription import Subscription
from spikewire.node import Node

HELP = """Usage: python -m spikewire tap MULTIADDR PORT [--json] [--duration S] [--channels 0,1,5] [--quiet]
                                 [--max-backoff S]

Subscribe to the out port PORT of the node at MULTIADDR and print its events as they arrive.
The subscription reconnects when the link drops or the node restarts. At the end (after
--duration, or on SIGINT/SIGTERM) a summary line is printed: events, duration, rate, batches,
gaps (events missing from a stream), losses (events the publisher reported dropped),
reconnects and the time without data across them, and what ended streams and attempts,
counted by code: closes the publisher sent, its refusals, stream errors, failed attempts.

Status changes (connecting, open, retrying, closes, gaps, losses) go to stderr, one per line.

Exit status: 0 when it subscribed; 1 when the publisher refused the subscription for good
(e.g. unknown-port), or when it never subscribed in the time it ran (e.g. connection
refused for the whole --duration; the summary is printed first).

Options:
  --json            NDJSON on stdout, one line per event:
                    {"peer":...,"port":...,"channel":...,"time_us":...[,"value":...]}
                    and {"summary":true,...} at the end; status lines on stderr are JSON too
  --duration S      stop after S seconds (default: run until SIGINT)
  --channels LIST   only these channels, e.g. 0,1,5
  --quiet           print no events, only status lines and the summary
  --max-backoff S   longest wait between reconnect attempts (default 2)
  -h, --help        show this help
"""

PORT_NAME = __import__("re").compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
MAX_CHANNELS = 2**32 - 1


def channel_list(v: str | None) -> list[int] | None:
    if v is None:
        return None
    ids: set[int] = set()
    for part in v.split(","):
        s = part.strip()
        if not s.isdigit() or not s.isascii() or int(s) >= MAX_CHANNELS:
            raise UsageError(f"--channels must be a comma-separated list of channel numbers (bad entry {dumps(part)})")
        ids.add(int(s))
    return sorted(ids)


def batch_json(b: EventBatch) -> str:
    head = f'{{"peer":{dumps(b.peer)},"port":{dumps(b.port)},"channel":'
    ch = b.channels.tolist()
    t = b.times.tolist()
    if b.values is None:
        return "".join(f'{head}{c},"time_us":{x}}}\n' for c, x in zip(ch, t, strict=True))
    vals = [dumps(float(v)) for v in b.values.tolist()]
    return "".join(f'{head}{c},"time_us":{x},"value":{v}}}\n' for c, x, v in zip(ch, t, vals, strict=True))


def batch_text(b: EventBatch) -> str:
    ch = b.channels.tolist()
    t = b.times.tolist()
    if b.values is None:
        return "".join(f"{x} us  ch {c}\n" for c, x in zip(ch, t, strict=True))
    return "".join(f"{x} us  ch {c}  value {float(v)}\n" for c, x, v in zip(ch, t, b.values.tolist(), strict=True))


class Status:
    def __init__(self, json_mode: bool) -> None:
        self.json = json_mode

    def print(self, obj: dict[str, Any], human: str) -> None:
        err(dumps(obj) if self.json else f"tap: {human}")


def round1(x: float) -> float:
    return round(x * 10) / 10


def num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round1(x)


def run(argv: list[str]) -> int:
    p = Parser("tap", HELP)
    p.add_argument("multiaddr", metavar="MULTIADDR")
    p.add_argument("port", metavar="PORT")
    p.add_argument("--json", action="store_true")
    p.add_argument("--duration")
    p.add_argument("--channels")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--max-backoff", dest="max_backoff")
    p.add_argument("--playout")
    p.add_argument("--late")
    ns = p.parse(argv)
    target = multiaddr_arg(ns.multiaddr)
    port = ns.port
    if not PORT_NAME.fullmatch(port):
        raise UsageError(f"{dumps(port)} is not a port name ([a-z0-9][a-z0-9_.-]*)")
    if ns.playout is not None or ns.late is not None:
        raise UsageError("--playout and --late are not offered by the Python tap (use the TypeScript CLI)")
    duration = seconds(ns.duration, "duration")
    channels = channel_list(ns.channels)
    max_backoff = seconds(ns.max_backoff, "max-backoff") or 2.0
    json_mode = bool(ns.json)
    return trio.run(_main, target, port, duration, channels, max_backoff, json_mode, bool(ns.quiet))


async def _main(target: str, port: str, duration: float | None, channels: list[int] | None,
                max_backoff: float, json_mode: bool, quiet: bool) -> int:
    status = Status(json_mode)
    printed = 0
    not_printed = 0
    not_printed_batches = 0
    stdout_closed = False
    latencies: list[float] = []
    reason = "ended"
    async with Node(name="spikewire-tap", role="sink") as node:
        start = node.now()

        def on_status(ev: dict[str, Any]) -> None:
            kind = ev["event"]
            if kind == "status":
                state = ev["state"]
                if state == "connecting" and ev.get("attempt", 0) == 0:
                    return
                obj = {"event": "status", "state": state, "attempt": ev.get("attempt", sub.stats.attempts)}
                if "error" in ev:
                    obj["error"] = ev.get("message")
                    obj["code"] = ev["error"]
                if state == "open":
                    obj["peer"] = ev.get("peer")
                    human = f"open (peer {ev.get('peer')})"
                elif state == "retrying":
                    human = f"retrying (attempt {obj['attempt']}): {ev.get('message', 'the stream ended')}"
                else:
                    human = state if state != "connecting" else f"connecting (attempt {obj['attempt'] + 1})"
                status.print(obj, human)
            elif kind == "close":
                status.print({"event": "close", "code": ev["code"], "reason": ev.get("reason")},
                             f"the publisher closed the stream: {ev['code']}"
                             + (f" ({ev['reason']})" if ev.get("reason") else ""))
            elif kind == "refused":
                status.print({"event": "status", "state": "refused", "code": ev["code"], "reason": ev.get("reason")},
                             f"refused: {ev['code']}" + (f" ({ev['reason']})" if ev.get("reason") else ""))
            elif kind == "gap":
                if ev["reason"] == "sequence":
                    status.print({"event": "gap", "reason": "sequence", "missing": ev["missing"]},
                                 f"gap: {ev['missing']} events missing")
                else:
                    status.print({"event": "gap", "reason": ev["reason"], "gap_ms": ev["gap_ms"]},
                                 f"reconnected: {ev['gap_ms']:.1f} ms without data")
            elif kind == "loss":
                status.print({"event": "loss", "count": ev["count"], "reason": ev["reason"]},
                             f"loss: the publisher dropped {ev['count']} events ({ev['reason']})")

        status.print({"event": "status", "state": "connecting", "attempt": 0, "target": target, "port": port},
                     f"connecting to {target} {port}")
        sub = Subscription(node.host, target, port, channels=channels, max_backoff_s=max_backoff,
                           clock=node.now, on_status=on_status)
        peer_clock: list[Any] = []

        async def consume() -> None:
            nonlocal printed, not_printed, not_printed_batches, stdout_closed, reason
            try:
                async for b in sub:
                    if not peer_clock and sub.peer is not None:
                        try:
                            peer_clock.append(node.clock_for(target))
                        except Exception:  # no clock: latency stays unknown
                            peer_clock.append(None)
                    pc = peer_clock[0] if peer_clock else None
                    est = pc.estimate() if pc is not None else None
                    if est is not None:
                        now = node.now()
                        latencies.append(now - (int(b.times[-1]) - est.offset_us))
                    if quiet:
                        continue
                    if stdout_closed:
                        not_printed += len(b)
                        not_printed_batches += 1
                        continue
                    try:
                        sys.stdout.write(batch_json(b) if json_mode else batch_text(b))
                        sys.stdout.flush()
                        printed += len(b)
                    except BrokenPipeError:
                        stdout_closed = True
                        reason = "stdout-closed"
                        not_printed += len(b)
                        not_printed_batches += 1
                        nursery.cancel_scope.cancel()
            except SpikewireError:
                pass  # sub.error holds it
            nursery.cancel_scope.cancel()

        async def timer() -> None:
            nonlocal reason
            if duration is None:
                await trio.sleep_forever()
            await trio.sleep(duration)
            reason = "duration"
            nursery.cancel_scope.cancel()

        async def signals() -> None:
            nonlocal reason
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as rx:
                async for _ in rx:
                    reason = "signal"
                    nursery.cancel_scope.cancel()
                    return

        async with trio.open_nursery() as nursery:
            nursery.start_soon(consume)
            nursery.start_soon(timer)
            nursery.start_soon(signals)
        with trio.move_on_after(3) as scope:
            await sub.aclose()
        if scope.cancelled_caught:
            status.print({"event": "warning", "step": "unsubscribe", "timeout_ms": 3000},
                         "unsubscribing did not finish within 3000 ms")
        duration_us = node.now() - start
        est = peer_clock[0].estimate() if peer_clock and peer_clock[0] is not None else None
        await node.shutdown()

    s = sub.stats
    if reason == "ended" and sub.error is not None and s.connects == 0:
        raise sub.error
    dur_s = duration_us / 1e6
    lat = np.asarray(latencies, dtype=np.float64)
    summary = {
        "summary": True, "peer": sub.peer, "port": port, "events": s.events,
        "duration_s": round(dur_s * 1000) / 1000, "rate": round1(s.events / dur_s if dur_s > 0 else 0),
        "batches": s.batches, "gaps": s.gap_events, "losses": s.lost_events, "loss_notices": s.loss_notices,
        "streams": s.connects, "reconnects": max(0, s.connects - 1), "reconnect_gaps": s.reconnect_gaps,
        "reconnect_gap_ms": round1(s.reconnect_gap_us / 1000), "watermarks": s.watermarks,
        "latency_p50_us": num(float(np.percentile(lat, 50))) if lat.size else None,
        "latency_p99_us": num(float(np.percentile(lat, 99))) if lat.size else None,
        "latency_max_us": num(float(lat.max())) if lat.size else None,
        "latency_samples": int(lat.size),
        "clock_offset_us": None if est is None else num(est.offset_us),
        "clock_uncertainty_us": None if est is None else num(est.uncertainty_us),
        "printed": printed, "not_printed": not_printed, "not_printed_batches": not_printed_batches,
        "closes": s.closes, "rejects": s.rejects, "stream_errors": s.stream_errors,
        "connect_errors": s.connect_errors, "ended": reason,
    }
    if not stdout_closed:
        if json_mode:
            out(dumps(summary))
        else:
            parts = []
            for label, d in (("closes from the publisher", s.closes), ("refused", s.rejects),
                             ("stream errors", s.stream_errors), ("failed attempts", s.connect_errors)):
                if d:
                    parts.append(f"{label}: " + ", ".join(f"{k} ×{n}" for k, n in d.items()))
            out(f"summary: {s.events} events in {dur_s:.2f} s ({summary['rate']} events/s), {s.batches} batches, "
                f"{s.gap_events} missing (gaps), {s.lost_events} lost, {summary['reconnects']} reconnects "
                f"({summary['reconnect_gap_ms']} ms without data), {not_printed} not printed"
                + (f"; latency p50 {lat.size and np.percentile(lat, 50) / 1000:.3f} ms, "
                   f"p99 {np.percentile(lat, 99) / 1000:.3f} ms, max {lat.max() / 1000:.3f} ms" if lat.size else "")
                + (f"; clock offset {est.offset_us / 1000:.3f} ± {est.uncertainty_us / 1000:.3f} ms"
                   if est is not None and math.isfinite(est.uncertainty_us) else "")
                + ("; " + "; ".join(parts) if parts else "")
                + ("; never subscribed" if s.connects == 0 else ""))
    if reason == "ended" and sub.error is not None:
        raise sub.error
    if s.connects == 0 and reason in ("duration", "signal"):
        last = f" (last error: {describe_error(sub.error)})" if sub.error is not None else ""
        raise SpikewireError("timeout", f"never subscribed to {port} at {target} in the {dur_s:.1f} s it ran{last}")
    return EXIT_OK
