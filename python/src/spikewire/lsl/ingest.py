"""`ingest`: an LSL stream served as a spikewire out port (docs/lsl.md).

The bridge resolves the stream, opens an inlet with post-processing OFF (liblsl hands over the outlet's own
timestamps), and applies LSL's time correction itself, once:

    T = anchor.us + round((ts + c − anchor.lsl) × 1e6)

ts being the sample's timestamp on the outlet machine's `local_clock()`, c the time correction the bridge
applies (liblsl's estimate from `lsl_time_correction_ex`, re-read every 2 s and followed without steps by
SlewedOffset), anchor the (bridge µs, LSL s) pair measured at start. T is a time on the bridge node's clock,
which is what an out port's events carry.
"""
from __future__ import annotations

import ctypes
import logging
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import trio

from ..codec.messages import Model, Param
from ..errors import SpikewireError
from ..node import Node
from ..timing.localclock import MonotonicClock
from . import lslcfg
from .mapping import ClockAnchor, SampleMapper, SlewedOffset, measure_anchor

log = logging.getLogger("spikewire.lsl.ingest")

Report = Callable[[dict[str, Any]], None]

CORRECTION_INTERVAL_S = 2.0
PULL_TIMEOUT_S = 0.1
MAX_CHUNK = 4096
DEFAULT_CHANNELS = 1024


@dataclass
class IngestStats:
    samples: int = 0
    """Samples pulled from the inlet."""
    events: int = 0
    """Events emitted on the out port (samples minus unmapped minus refused)."""
    unmapped: dict[str, int] = field(default_factory=dict)
    """Samples that are no event, by reason (non-integer-channel, channel-out-of-range, non-finite-value)."""
    refused: int = 0
    """Events the out port refused (a time before the previous event's: out of order after correction)."""
    time_correction_s: float = 0.0
    """The correction applied at the last chunk (s, added to the outlet's timestamps)."""
    time_correction_uncertainty_s: float = 0.0
    correction_error_bound_us: float = 0.0
    """The largest (liblsl's uncertainty + |applied − liblsl's estimate|) over the run, µs."""
    correction_steps: int = 0
    correction_reads: int = 0
    correction_failures: int = 0
    clock_resets: int = 0
    """Times liblsl reported the outlet's clock reset (the outlet restarted on another clock)."""
    anchor_spread_us: float = 0.0
    markers: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def predicate(query: str) -> str:
    """An LSL resolve predicate: an XPath 1.0 predicate as is (``name='X' and type='Markers'``), or the
    shorthand ``prop=value`` (``name=MyMarkers``, ``source_id=12D3…/spikes``)."""
    q = query.strip()
    if not q:
        raise SpikewireError("invalid-query", "an empty stream query")
    if "'" in q or '"' in q or " " in q or "=" not in q:
        return q
    prop, value = q.split("=", 1)
    return f"{prop}='{value}'"


def _time_correction_ex(pylsl: Any, inlet: Any, timeout: float) -> tuple[float, float]:
    """(correction s, uncertainty s) from liblsl's lsl_time_correction_ex (pylsl only wraps the value)."""
    lib = pylsl.lib.lib if hasattr(pylsl.lib, "lib") else pylsl.lib
    fn = getattr(lib, "lsl_time_correction_ex", None)
    if fn is None:
        return float(inlet.time_correction(timeout)), math.nan
    fn.restype = ctypes.c_double
    fn.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double),
                   ctypes.c_double, ctypes.POINTER(ctypes.c_int32)]
    remote = ctypes.c_double()
    unc = ctypes.c_double()
    ec = ctypes.c_int32()
    value = fn(inlet.obj, ctypes.byref(remote), ctypes.byref(unc), ctypes.c_double(timeout), ctypes.byref(ec))
    pylsl.util.handle_error(ec)
    return float(value), float(unc.value)


def _desc_channels(info: Any) -> int | None:
    sw = info.desc().child("spikewire")
    if sw.empty():
        return None
    try:
        n = int(sw.child_value("channels"))
    except ValueError:
        return None
    return n if 1 <= n <= 2**32 - 1 else None


def lsl_model(info: Any) -> Model:
    """The port's model in the description: name "lsl:<stream name>" (cut to 256 bytes), and the stream's
    numbers as params (model params are numbers in the spec; the stream's name, type and source_id go into
    the bridge's "ready" report and log)."""
    name = f"lsl:{info.name()}".encode("utf-8")[:256].decode("utf-8", "ignore")
    return Model(name, (Param("channel_count", int(info.channel_count()), ""),
                        Param("nominal_srate", float(info.nominal_srate()), "Hz")))


class Ingest:
    """Runs the ingest bridge inside a trio task: ``await Ingest(query, listen, port).run()``."""

    def __init__(self, query: str, listen: str, port: str, *, channels: int | None = None,
                 identity: str | None = None, resolve_timeout_s: float = 20.0, name: str = "spikewire-lsl",
                 report: Report | None = None) -> None:
        self.query = predicate(query)
        self.listen = listen
        self.port_name = port
        self.channels = channels
        self.identity = identity
        self.resolve_timeout_s = resolve_timeout_s
        self.name = name
        self.report = report or (lambda e: None)
        self.stats = IngestStats()
        self.tracker = SlewedOffset()
        self.clock = MonotonicClock()
        self.node: Node | None = None
        self.port: Any = None
        self.ready = trio.Event()
        self._correction: tuple[float, float] | None = None

    async def run(self, stop: trio.Event | None = None) -> IngestStats:
        pylsl = lslcfg.pylsl()
        found = await trio.to_thread.run_sync(lambda: pylsl.resolve_bypred(self.query, 1, self.resolve_timeout_s),
                                             abandon_on_cancel=True)
        if not found:
            raise SpikewireError("lsl-stream-not-found", f"no LSL stream matches {self.query!r} within "
                                 f"{self.resolve_timeout_s:g} s")
        if len(found) > 1:
            log.warning("%d streams match %r; taking %s (%s)", len(found), self.query, found[0].name(),
                        found[0].source_id())
        inlet = pylsl.StreamInlet(found[0], max_buflen=360, max_chunklen=0, recover=True, processing_flags=0)
        await trio.to_thread.run_sync(inlet.open_stream, self.resolve_timeout_s, abandon_on_cancel=True)
        info = await trio.to_thread.run_sync(inlet.info, self.resolve_timeout_s)
        is_string = info.channel_format() == pylsl.cf_string
        channels = self.channels or _desc_channels(info) or DEFAULT_CHANNELS
        try:
            mapper = SampleMapper(info.channel_count(), is_string, channels)
        except ValueError as err:
            raise SpikewireError("lsl-stream-unsupported", f"{info.name()}: {err}") from None
        self._correction = await trio.to_thread.run_sync(_time_correction_ex, pylsl, inlet, self.resolve_timeout_s)
        self.stats.correction_reads += 1
        anchor = measure_anchor(self.clock.now_ns, pylsl.local_clock)
        self.stats.anchor_spread_us = anchor.spread_us
        model = lsl_model(info)
        async with Node(listen=[self.listen], identity=self.identity, name=self.name, role="bridge",
                        clock=self.clock) as node:
            self.node = node
            self.port = node.add_out_port(self.port_name, channels=channels, kind=mapper.kind, model=model)
            # Watermarks promise no event before their time. The bridge knows nothing beyond the last sample
            # it received (LSL has no such promise, and samples arrive after their time stamps): idle
            # watermarks stop at the last event's time, so no later sample is dropped as late.
            self.port.horizon = 0
            self.report({"event": "ready", "addrs": node.addrs, "port": self.port_name, "kind": mapper.kind,
                         "channels": channels, "stream": info.name(), "source_id": info.source_id(),
                         "time_correction_s": self._correction[0]})
            self.ready.set()
            async with trio.open_nursery() as nursery:
                if stop is not None:
                    async def watch() -> None:
                        await stop.wait()
                        nursery.cancel_scope.cancel()
                    nursery.start_soon(watch)
                nursery.start_soon(self._corrections, pylsl, inlet)
                nursery.start_soon(self._pump, inlet, mapper, anchor, nursery.cancel_scope)
            with trio.CancelScope(shield=True):
                await node.shutdown()
        self.stats.unmapped = dict(mapper.unmapped.counts)
        self.stats.markers = dict(mapper.markers)
        self.stats.correction_steps = self.tracker.steps
        try:
            inlet.close_stream()
        except Exception:  # the outlet may be gone
            pass
        return self.stats

    async def _corrections(self, pylsl: Any, inlet: Any) -> None:
        while True:
            await trio.sleep(CORRECTION_INTERVAL_S)
            try:
                self._correction = await trio.to_thread.run_sync(_time_correction_ex, pylsl, inlet, 2.0,
                                                                 abandon_on_cancel=True)
                self.stats.correction_reads += 1
            except Exception as err:  # the outlet is away; liblsl keeps recovering, the last value stays
                self.stats.correction_failures += 1
                log.warning("time correction failed (keeping %.6f s): %r", self.stats.time_correction_s, err)

    async def _pump(self, inlet: Any, mapper: SampleMapper, anchor: ClockAnchor, scope: trio.CancelScope) -> None:
        def pull() -> tuple[Any, Any, bool]:
            samples, ts = inlet.pull_chunk(PULL_TIMEOUT_S, MAX_CHUNK, None, 1, True)
            reset = bool(len(ts)) and inlet.was_clock_reset()
            return samples, ts, reset

        while True:
            samples, ts, reset = await trio.to_thread.run_sync(pull, abandon_on_cancel=True)
            n = len(ts)
            if n == 0:
                continue
            if reset:
                self.stats.clock_resets += 1
                log.warning("the outlet's clock was reset (the outlet restarted); the correction is re-read")
            self.stats.samples += n
            c_s, u_s = self._correction or (0.0, math.nan)
            now = self.clock.now_us()
            u_us = 0.0 if not math.isfinite(u_s) else u_s * 1e6
            applied_us = self.tracker.update(c_s * 1e6, u_us, now)
            self.stats.time_correction_s = applied_us / 1e6
            self.stats.time_correction_uncertainty_s = u_s if math.isfinite(u_s) else 0.0
            self.stats.correction_error_bound_us = max(self.stats.correction_error_bound_us,
                                                       u_us + abs(c_s * 1e6 - applied_us) + anchor.spread_us)
            times = anchor.to_us(np.asarray(ts, dtype=np.float64) + applied_us / 1e6)
            ch, values, ok = mapper.map(samples)
            if not ok.all():
                log.warning("%d of %d samples are no event (totals: %s)", int((~ok).sum()), n,
                            mapper.unmapped.counts)
                self.report({"event": "unmapped", "samples": int((~ok).sum()), "totals": dict(mapper.unmapped.counts)})
                ch, times = ch[ok], times[ok]
                values = None if values is None else values[ok]
            if len(ch) == 0:
                continue
            before = self.port.stats.refused
            accepted = self.port.emit(ch, times, values)
            if accepted:
                self.port.horizon = max(self.port.horizon or 0, int(times.max()))
            self.port.flush()
            refused = self.port.stats.refused - before
            if refused:
                self.stats.refused += refused
                log.warning("%d events refused by the port (time before the previous event's)", refused)
                self.report({"event": "refused", "events": refused, "total": self.stats.refused})
            self.stats.events += accepted
