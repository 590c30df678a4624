"""Both bridge paths end to end with real components, for the tests and the benchmark (bench.py).

- `run_publish_path`: a TypeScript node (Poisson source, child process) → `python -m spikewire.lsl publish`
  (child process) → an LSL inlet in this process; a direct spikewire subscriber in this process is the
  baseline and the reference for every event.
- `run_ingest_path`: an LSL outlet in this process → `python -m spikewire.lsl ingest` (child process) →
  `spikewire tap --json` (the TypeScript CLI, child process) and a Python subscriber in this process; a
  direct LSL inlet on the same outlet is the baseline.

Every wait is bounded (20 s); every child is stopped in a finally. liblsl runs on loopback only: the
caller passes a config file from `lslcfg.write_loopback_config` (LSLAPICFG is set for this process and the
children before pylsl is first used).
"""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..events.tsproc import Proc, ts_node, ts_tap
from ..protocols.clock import now_us
from . import lslcfg
from .mapping import ClockAnchor, measure_anchor

WAIT_S = 20.0


class Bridge:
    """`python -m spikewire.lsl ...` as a child process with its JSON lines read by a thread."""

    def __init__(self, args: list[str], cfg: Path) -> None:
        env = dict(os.environ, LSLAPICFG=str(cfg))
        self.p = subprocess.Popen([sys.executable, "-m", "spikewire.lsl", *args, "--json"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.stderr: list[str] = []
        threading.Thread(target=self._pump_out, daemon=True).start()
        threading.Thread(target=lambda: [self.stderr.append(x) for x in self.p.stderr], daemon=True).start()  # type: ignore[union-attr]

    def _pump_out(self) -> None:
        for line in self.p.stdout:  # type: ignore[union-attr]
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            self.seen.append(obj)
            self.lines.put(obj)

    def wait(self, event: str, timeout: float = WAIT_S, errors: bool = True) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0 or (self.p.poll() is not None and self.lines.empty()):
                raise TimeoutError(f"bridge: no {event!r} line within {timeout:g} s (exit {self.p.poll()}); "
                                   f"stderr: {''.join(self.stderr[-8:])}")
            try:
                obj = self.lines.get(timeout=min(left, 0.2))
            except queue.Empty:
                continue
            if errors and obj.get("event") == "error":
                raise RuntimeError(f"bridge failed: {obj}")
            if obj.get("event") == event:
                return obj

    def stop(self) -> dict[str, Any]:
        """SIGTERM, then the stats line (also after the bridge reported an error); killed in any case."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.wait("stats", errors=False)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            pass


@dataclass
class Collected:
    channels: list[np.ndarray] = field(default_factory=list)
    times: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    arrivals: list[np.ndarray] = field(default_factory=list)

    def add(self, ch: Any, t: Any, arrival: float, v: Any = None) -> None:
        t = np.asarray(t)
        self.channels.append(np.asarray(ch, dtype=np.int64).reshape(-1))
        self.times.append(t.reshape(-1))
        self.arrivals.append(np.full(len(t), arrival, dtype=np.float64))
        if v is not None:
            self.values.append(np.asarray(v, dtype=np.float64).reshape(-1))

    def arrays(self) -> dict[str, np.ndarray]:
        def cat(xs: list[np.ndarray], dtype: Any) -> np.ndarray:
            return np.concatenate(xs) if xs else np.zeros(0, dtype=dtype)
        return {"channels": cat(self.channels, np.int64), "times": cat(self.times, np.float64),
                "values": cat(self.values, np.float64), "arrivals": cat(self.arrivals, np.float64)}


def _subscribe_thread(sw: Any, addr: str, port: str, into: Collected, stop: threading.Event) -> threading.Thread:
    """A direct spikewire subscriber: every batch with its arrival time (µs, the node's clock)."""
    def run() -> None:
        for b in sw.subscribe(addr, port):
            into.add(b.channels, b.times.astype(np.int64), float(now_us()), b.values)
            if stop.is_set():
                break
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def _inlet_thread(pylsl: Any, inlet: Any, into: Collected, stop: threading.Event, weighted: bool) -> threading.Thread:
    def run() -> None:
        while not stop.is_set():
            s, ts = inlet.pull_chunk(0.1, 4096, None, 1, True)
            if len(ts):
                arrival = pylsl.local_clock()
                s = np.asarray(s)
                if s.dtype == object:  # markers: keep their text as the "channel" column is meaningless
                    into.add(np.zeros(len(ts)), ts, arrival)
                elif weighted:
                    into.add(s[:, 0], ts, arrival, s[:, 1])
                else:
                    into.add(s[:, 0], ts, arrival)
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def locate_run(direct_ch: np.ndarray, direct_t: np.ndarray, ch: np.ndarray, remote_us: np.ndarray, tol: float) -> int:
    """Where bridged events (channels ``ch``, times ``remote_us`` mapped onto the publisher's clock) start in
    a direct subscriber's sequence: they must be a contiguous run of it, on the same channels. AssertionError
    otherwise."""
    n = len(ch)
    if n == 0:
        raise AssertionError("no bridged events")
    lo, hi = np.searchsorted(direct_t, [remote_us[0] - tol, remote_us[0] + tol])
    for j in range(int(lo), int(hi) + 1):
        if j + n <= len(direct_ch) and np.array_equal(direct_ch[j:j + n], ch):
            return j
    raise AssertionError(f"the {n} bridged events are no contiguous run of the publisher's {len(direct_ch)} events "
                         f"(first at {remote_us[0]:.0f} µs ± {tol:.0f})")


def _last_estimate(sw: Any, addr: str) -> Any:
    """The clock client's latest estimate (None without one), even while its stream reconnects."""
    async def read() -> Any:
        return sw.node.clock_for(addr).estimate()
    return sw.run(read)


def _wait_count(get: Any, n: int, timeout: float = WAIT_S) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if get() >= n:
            break
        time.sleep(0.05)
    return int(get())


def run_publish_path(tmp: Path, cfg: Path, *, channels: int = 8, rate_hz: float = 100.0, seconds: float = 3.0,
                     seed: int = 7, baseline_taps: bool = False) -> dict[str, Any]:
    """TS node → publish bridge → LSL inlet, with a direct subscriber. Returns the collected arrays, the
    bridge's lines and stats, the test's own clock estimate of the TS node and its LSL anchor.

    ``baseline_taps``: also run `python -m spikewire tap` and `spikewire tap` (TypeScript) as child processes
    subscribed to the same port while the bridge runs; their summaries (latency p50/p99 measured with their
    own clock estimates) are returned under "taps"."""
    lslcfg.use_config(cfg)
    pylsl = lslcfg.pylsl()
    import spikewire
    # Two nodes of this host dial the TS node (this process and the bridge), and py-libp2p dials in bursts:
    # more handshakes per address than the default 8 (docs/config.md) avoid resets mid-test.
    ts_cfg = {"name": "tslsl", "listen": ["/ip4/127.0.0.1/tcp/0"], "limits": {"maxPendingPerAddress": 64},
              "ports": [{"name": "spikes", "direction": "out", "channels": channels,
                         "source": {"type": "poisson", "rateHz": rate_hz, "seed": seed}}]}
    direct, lsl = Collected(), Collected()
    stop_direct, stop_inlet = threading.Event(), threading.Event()
    with ts_node(ts_cfg, tmp) as (_proc, started), spikewire.connect() as sw:
        addr = started["multiaddrs"][0]
        est = sw.clock(addr, converged=True, timeout=WAIT_S)
        anchor = measure_anchor(time.time_ns, pylsl.local_clock)
        th_direct = _subscribe_thread(sw, addr, "spikes", direct, stop_direct)
        bridge = Bridge(["publish", addr, "spikes", "--wait-consumers", str(WAIT_S), "--clock-timeout",
                         str(WAIT_S)], cfg)
        inlet = None
        try:
            # The bridge waits up to 20 s for a converged clock estimate before its outlet is ready.
            ready = bridge.wait("ready", 2 * WAIT_S)
            found = pylsl.resolve_byprop("source_id", ready["source_id"], 1, WAIT_S)
            if not found:
                raise TimeoutError(f"no LSL stream {ready['source_id']} within {WAIT_S:g} s")
            inlet = pylsl.StreamInlet(found[0], max_buflen=360, processing_flags=0)
            info = inlet.info(WAIT_S)
            inlet.open_stream(WAIT_S)
            th_inlet = _inlet_thread(pylsl, inlet, lsl, stop_inlet, weighted=False)
            bridge.wait("consumers")
            taps: dict[str, Proc] = {}
            if baseline_taps:
                taps["py"] = Proc([sys.executable, "-m", "spikewire", "tap", addr, "spikes", "--json", "--quiet"])
                taps["ts"] = ts_tap(addr, "spikes", "--quiet")
            time.sleep(seconds)
            summaries: dict[str, Any] = {}
            for name, tp in taps.items():
                tp.stop()
                try:
                    summaries[name] = tp.json_line(lambda o: bool(o.get("summary")), timeout=5.0)
                except TimeoutError:
                    summaries[name] = None
                tp.kill()
            stats = bridge.stop()
            got = _wait_count(lambda: sum(len(x) for x in lsl.times), stats["events"])
            stop_inlet.set()
            th_inlet.join(WAIT_S)
            # The direct subscriber runs a little longer than the bridge: it has every event of the bridge's span.
            time.sleep(0.3)
            stop_direct.set()
            th_direct.join(2.0)
            est_end = _last_estimate(sw, addr) or est
        finally:
            bridge.kill()
            stop_inlet.set()
            stop_direct.set()
    desc = info.desc().child("spikewire")
    meta = {k: desc.child_value(k) for k in ("port", "kind", "channels", "peer", "node", "clock_offset_us",
                                              "clock_uncertainty_us")}
    return {"direct": direct.arrays(), "lsl": lsl.arrays(), "stats": stats, "ready": ready, "got": got,
            "taps": summaries,
            "estimate": est, "estimate_end": est_end, "anchor": anchor, "meta": meta, "peer": started["peer"],
            "info_type": info.type(), "info_format": info.channel_format(), "source_id": info.source_id(),
            "lines": bridge.seen}


def poisson_schedule(n: int, rate_hz: float, channels: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets s, channels, values) of n events at rate_hz in total."""
    rng = np.random.default_rng(seed)
    offsets = np.cumsum(rng.exponential(1.0 / rate_hz, n))
    return offsets, rng.integers(0, channels, n), np.round(rng.normal(0.0, 1.0, n), 4)


def run_ingest_path(tmp: Path, cfg: Path, *, kind: str = "weighted", channels: int = 8, rate_hz: float = 400.0,
                    n: int = 1200, seed: int = 11) -> dict[str, Any]:
    """LSL outlet → ingest bridge → `spikewire tap --json` and a Python subscriber; a direct inlet on the
    outlet is the baseline. ``kind``: "weighted" ([channel, value] doubles), "spike" (int32 channel ids) or
    "markers" (strings: "ch<k>" names). Returns what was pushed and what came out."""
    lslcfg.use_config(cfg)
    pylsl = lslcfg.pylsl()
    import spikewire
    sid = f"lsltest-{uuid.uuid4().hex[:12]}"
    if kind == "weighted":
        info = pylsl.StreamInfo("lsltest-events", "Events", 2, pylsl.IRREGULAR_RATE, pylsl.cf_double64, sid)
    elif kind == "spike":
        info = pylsl.StreamInfo("lsltest-spikes", "Spikes", 1, pylsl.IRREGULAR_RATE, pylsl.cf_int32, sid)
    else:
        info = pylsl.StreamInfo("lsltest-markers", "Markers", 1, pylsl.IRREGULAR_RATE, pylsl.cf_string, sid)
    info.desc().append_child("spikewire").append_child_value("channels", str(channels))
    outlet = pylsl.StreamOutlet(info, 0, 360)
    offsets, chans, vals = poisson_schedule(n, rate_hz, channels, seed)
    pushed_ts = np.zeros(n)
    bridge = Bridge(["ingest", f"source_id={sid}", "--listen", "/ip4/127.0.0.1/tcp/0", "--port", "events"], cfg)
    tap: Proc | None = None
    direct_lsl, sub = Collected(), Collected()
    stop_inlet, stop_sub = threading.Event(), threading.Event()
    sw = None
    if True:  # (the node is closed by hand: see below)
        try:
            sw = spikewire.connect()
            ready = bridge.wait("ready")
            addr = ready["addrs"][0]
            tap = ts_tap(addr, "events")
            description = sw.describe(addr)
            est = sw.clock(addr, converged=True, timeout=WAIT_S)
            anchor: ClockAnchor = measure_anchor(time.time_ns, pylsl.local_clock)
            th_sub = _subscribe_thread(sw, addr, "events", sub, stop_sub)
            found = pylsl.resolve_byprop("source_id", sid, 1, WAIT_S)
            baseline = pylsl.StreamInlet(found[0], max_buflen=360, processing_flags=0)
            baseline.open_stream(WAIT_S)
            th_in = _inlet_thread(pylsl, baseline, direct_lsl, stop_inlet, weighted=(kind == "weighted"))
            end = time.monotonic() + WAIT_S
            while not any('"open"' in x for x in tap.stderr):
                if time.monotonic() > end:
                    raise TimeoutError(f"the tap did not subscribe within {WAIT_S:g} s: {tap.stderr[-5:]}")
                time.sleep(0.05)
            while outlet.have_consumers() is False and time.monotonic() < end:
                time.sleep(0.05)
            time.sleep(0.5)  # the Python subscriber's stream opens too
            t0 = pylsl.local_clock() + 0.05
            for i in range(n):
                due = t0 + offsets[i]
                left = due - pylsl.local_clock()
                if left > 0:
                    # Sleep, never spin: a spinning thread holds the GIL and delays this process's node
                    # (its clock answers, its subscriber). The sample's time is read after the sleep.
                    time.sleep(left)
                ts = pylsl.local_clock()
                pushed_ts[i] = ts
                if kind == "weighted":
                    outlet.push_sample([float(chans[i]), float(vals[i])], ts)
                elif kind == "spike":
                    outlet.push_sample([int(chans[i])], ts)
                else:
                    outlet.push_sample([f"ch{int(chans[i])}"], ts)
            taps: list[dict[str, Any]] = []

            def tap_count() -> int:
                while True:
                    try:
                        line = tap.lines.get_nowait()  # type: ignore[union-attr]
                    except queue.Empty:
                        return len(taps)
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        continue
                    if "time_us" in obj:
                        taps.append(obj)
            _wait_count(tap_count, n)
            _wait_count(lambda: sum(len(x) for x in sub.times), n)
            _wait_count(lambda: sum(len(x) for x in direct_lsl.times), n)
            stop_inlet.set()
            stop_sub.set()
            est_end = _last_estimate(sw, addr) or est
            # Close this process's node before the bridge goes: its clock client must not be left with a
            # burst the bridge will never answer.
            sw.close()
            sw = None
            stats = bridge.stop()
            tap.stop()
            summary: dict[str, Any] = {}
            while True:
                try:
                    obj = json.loads(tap.lines.get(timeout=1.0))
                except (queue.Empty, ValueError):
                    break
                if obj.get("summary"):
                    summary = obj
                    break
                if "time_us" in obj:
                    taps.append(obj)
            th_in.join(2.0)
            th_sub.join(2.0)
        finally:
            stop_inlet.set()
            stop_sub.set()
            if sw is not None:
                sw.close()
            bridge.kill()
            if tap is not None:
                tap.kill()
    return {"pushed": {"ts": pushed_ts, "channels": chans, "values": vals}, "tap": taps, "tap_summary": summary,
            "sub": sub.arrays(),
            "direct": direct_lsl.arrays(), "stats": stats, "ready": ready, "description": description, "estimate": est,
            "estimate_end": est_end, "anchor": anchor, "lines": bridge.seen}
