"""The clock protocol (spec §9.3): a client that probes in bursts and estimates a peer's clock offset, and a
bounded server.

Client (§9.3.1, §9.3.3): requests go out in bursts (16 requests 5 ms apart), t1 read just before each write,
t4 read when the response's bytes arrive (FramedStream stamps each frame with the arrival time, before it
is decoded). Responses are matched in order against the outstanding requests (ClockRequests); a request
without an answer after 2 s is given up but stays outstanding for matching. Each burst ends in
ClockEstimator.end_burst(), which keeps its fastest sample. The period starts at 250 ms, doubles after
every burst that leaves the estimate converged and consistent, up to 8 s, with ±10 % jitter.

Server (§9.3.1, §9.3.3 "Server", §11.4): t2 is the arrival time of the request's bytes, t3 is read just
before the write, after any wait. Answers are paced by a token bucket per peer (shared by that peer's
streams); at most `max_pending` requests wait, then the server stops reading (the muxer window then stops
the client); a write that does not complete within `stall_s` ends the stream with close{slow-consumer} and
a reset; no request for `idle_s` ends it with close{timeout}. After the client's close{normal} or the end of
its writing, the server sends what it owes and closes its write side, with no close of its own.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import trio
from libp2p.abc import IHost, INetStream
from libp2p.peer.id import ID

from spikewire.clock.estimator import ClockEstimator, ClockFaultError, ClockRequests, Estimate
from spikewire.codec.messages import ClockRequest, ClockResponse, Close, DecodeContext, MessageType
from spikewire.errors import CODES, ProtocolError, RemoteCloseError, SpikewireError, StreamResetError
from spikewire.net.host import dial, last_transmit_ns, open_stream
from spikewire.wire.stream import FramedStream, unwrap

log = logging.getLogger("spikewire.clock")

PROTOCOL = "/spikewire/clock/1.0.0"
SERVER = DecodeContext.make(expected=[MessageType.CLOCK_REQUEST, MessageType.CLOSE])
CLIENT = DecodeContext.make(expected=[MessageType.CLOCK_RESPONSE, MessageType.CLOSE])


def now_us() -> int:
    """The node's clock: µs since the Unix epoch (the system's real-time clock, 1 ns resolution), rounded
    to the nearest µs (§9.3.3: rounding, not truncation, keeps θ unbiased)."""
    return (time.time_ns() + 500) // 1000


Clock = Callable[[], int]

# -- client -------------------------------------------------------------------------------------------


_BURST_IDS = itertools.count()
"""Burst numbers, unique in the process (see ClockClient._prober)."""


@dataclass(frozen=True)
class ProbeSchedule:
    """The reference probe schedule of §9.3.3 (informative), in seconds."""

    burst_size: int = 16
    spacing_s: float = 0.005
    fast_period_s: float = 0.25
    slow_period_s: float = 8.0
    backoff: float = 2.0
    jitter: float = 0.10
    probe_timeout_s: float = 2.0


@dataclass
class ClockStats:
    probes: int = 0
    answers: int = 0
    timeouts: int = 0
    discarded: int = 0
    late: int = 0
    bursts: int = 0


@dataclass
class ClockClient:
    """One clock stream to one peer and its estimator. Use `run()` in a nursery; read `estimate()`.

    `on_estimate(est)` is called after every burst that produced an estimate.
    """

    fs: FramedStream
    clock: Clock = now_us
    schedule: ProbeSchedule = field(default_factory=ProbeSchedule)
    on_estimate: Callable[[Estimate], None] | None = None
    rng: random.Random = field(default_factory=random.Random)
    estimator: ClockEstimator = field(default_factory=ClockEstimator)
    stats: ClockStats = field(default_factory=ClockStats)

    def __post_init__(self) -> None:
        self._requests = ClockRequests()
        self._answered: dict[int, int] = {}  # burst -> answers matched
        self._burst_done: dict[int, trio.Event] = {}
        self._burst_sent: dict[int, int] = {}
        self._t1_wire: dict[int, int] = {}
        self._closing = False

    def estimate(self, at_local_us: float | None = None) -> Estimate | None:
        return self.estimator.estimate(self.clock() if at_local_us is None else at_local_us)

    async def run(self, bursts: int | None = None) -> None:
        """Probe until cancelled (or for `bursts` bursts), then end the stream with close{normal}.

        Raises RemoteCloseError when the server closes with an error, ProtocolError on a broken rule
        (after closing and resetting the stream), StreamResetError when the stream is reset.
        """
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._reader, nursery.cancel_scope)
                try:
                    await self._prober(bursts)
                finally:
                    self._closing = True
                    with trio.CancelScope(shield=True), trio.move_on_after(self.schedule.probe_timeout_s):
                        await self.fs.close("normal")
                # Wait (bounded) for the server to send what it owes and end its write side.
                with trio.move_on_after(self.schedule.probe_timeout_s):
                    await self._drained.wait()
                nursery.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            leaf = unwrap(group)
            if isinstance(leaf, trio.Cancelled):
                raise
            # The stream's own failure is the cause; a write that failed because of it is a consequence.
            raise (self.fs.failure or leaf) from None

    @property
    def _drained(self) -> trio.Event:
        ev = getattr(self, "_drained_ev", None)
        if ev is None:
            ev = self._drained_ev = trio.Event()
        return ev

    async def _prober(self, bursts: int | None) -> None:
        s = self.schedule
        period = s.fast_period_s
        n = 0
        while bursts is None or n < bursts:
            started = trio.current_time()
            aside_before = self.estimator.bursts_set_aside
            # Burst numbers are unique in the process: a reconnecting node hands the same estimator to the
            # next client, which must not reuse the numbers of bursts the estimator has already ended.
            await self._burst(next(_BURST_IDS))
            est = self.estimator.estimate(self.clock())
            self.stats.bursts += 1
            if est is not None and self.on_estimate is not None:
                self.on_estimate(est)
            consistent = self.estimator.bursts_set_aside == aside_before
            if est is None or not est.converged or not consistent \
                    or est.drift_uncertainty_ppm > 100.0:
                period = s.fast_period_s
            else:
                period = min(s.slow_period_s, period * s.backoff)
            n += 1
            if bursts is not None and n >= bursts:
                break
            wait = period * self.rng.uniform(1 - s.jitter, 1 + s.jitter)
            await trio.sleep_until(started + wait)

    async def _burst(self, burst: int) -> None:
        s = self.schedule
        done = self._burst_done[burst] = trio.Event()
        self._answered[burst] = 0
        self._burst_sent[burst] = 0
        for i in range(s.burst_size):
            if i:
                await trio.sleep(s.spacing_s)
            rid = self._requests.next_id()
            t1 = self.clock()
            t1_ns = time.time_ns()
            self._requests.sent(rid, t1, burst)
            self._burst_sent[burst] += 1
            await self.fs.write(ClockRequest(rid, t1))
            self.stats.probes += 1
            # The computation may use the time just before the socket write that carried the request
            # (never after the bytes left); the echo is still matched against the t1 sent (Appendix B).
            tx = last_transmit_ns()
            if tx is not None and t1_ns <= tx <= time.time_ns() and tx - t1_ns < 1_000_000_000:
                self._t1_wire[rid] = t1 + (tx - t1_ns) // 1000
        with trio.move_on_after(s.probe_timeout_s):
            await done.wait()
        missing = self._burst_sent[burst] - self._answered[burst]
        if missing:
            self.stats.timeouts += missing
            # Earlier bursts' requests are given up already, so this gives up the rest of this burst.
            self._requests.give_up_older_than(self.clock() + 1)
        self.estimator.end_burst()
        del self._burst_done[burst], self._answered[burst], self._burst_sent[burst]

    async def _reader(self, scope: trio.CancelScope) -> None:
        try:
            while True:
                msg = await self.fs.read_message(CLIENT)
                if msg is None:
                    if not self._closing:
                        raise ProtocolError("unexpected-message", "the server ended the clock stream")
                    self._drained.set()
                    return
                assert self.fs.last_arrival is not None  # the stream has a clock
                t4 = int(self.fs.last_arrival)  # stamped when the bytes arrived
                if isinstance(msg, Close):
                    if msg.code != CODES["normal"]:
                        await self.fs.reset()
                        raise RemoteCloseError(msg.code, msg.reason)
                    if not self._closing:  # the server ended the stream on its own: stop probing
                        raise RemoteCloseError(msg.code, msg.reason or "server closed the clock stream")
                    self._drained.set()
                    return
                if not isinstance(msg, ClockResponse):
                    raise ProtocolError("unexpected-message", f"{type(msg).__name__} on a clock stream")
                self._on_response(msg, t4)
        except ClockFaultError as err:
            await self.fs.fail(err)
            raise
        except ProtocolError as err:
            if self.fs.failure is None:
                await self.fs.fail(err)
            raise

    def _on_response(self, r: ClockResponse, t4: int) -> None:
        m = self._requests.match(r.id, r.t1)
        if m.given_up:
            self._t1_wire.pop(r.id, None)
            self.stats.late += 1
            return
        self.stats.answers += 1
        t1 = self._t1_wire.pop(r.id, r.t1)
        if m.burst is not None and m.burst not in self._answered:
            self.stats.late += 1  # its burst has ended: an answer too late to be a sample of it
            return
        sample = self.estimator.add_sample(t1, r.t2, r.t3, t4, burst=m.burst)
        if sample.fault is not None:
            self.stats.discarded += 1
        b = m.burst
        if b is not None and b in self._answered:
            self._answered[b] += 1
            if self._answered[b] >= self._burst_sent[b] and self._burst_sent[b] >= self.schedule.burst_size:
                self._burst_done[b].set()


async def open_clock(host: IHost, addr: str | ID, timeout: float = 10.0) -> FramedStream:
    peer = addr if isinstance(addr, ID) else await dial(host, addr, timeout)
    stream = await open_stream(host, peer, [PROTOCOL], timeout)
    return FramedStream(stream, clock=now_us)


# -- server -------------------------------------------------------------------------------------------


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved; time from trio's clock (seconds)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._at = trio.current_time()

    def take(self) -> float:
        """0 when a token was taken, else the seconds to wait for one (nothing taken)."""
        now = trio.current_time()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


@dataclass
class ClockServerLimits:
    requests_per_second: float = 100.0
    burst: int = 32
    max_pending: int = 64
    idle_s: float = 20.0
    stall_s: float = 10.0


@dataclass
class ClockServerStats:
    streams: int = 0
    requests: int = 0
    answers: int = 0
    failed: int = 0
    slow_consumer: int = 0
    timeouts: int = 0


class ClockServer:
    """Serves /spikewire/clock/1.0.0 for a node: `handler` goes to host.set_stream_handler."""

    def __init__(self, clock: Clock = now_us, limits: ClockServerLimits | None = None) -> None:
        self.clock = clock
        self.limits = limits or ClockServerLimits()
        self.stats = ClockServerStats()
        self._buckets: dict[ID, tuple[TokenBucket, int]] = {}

    async def handler(self, stream: INetStream) -> None:
        fs = FramedStream(stream, clock=self.clock)
        peer = fs.peer
        bucket, users = self._buckets.get(peer, (None, 0))
        if bucket is None:
            bucket = TokenBucket(self.limits.requests_per_second, self.limits.burst)
        self._buckets[peer] = (bucket, users + 1)
        self.stats.streams += 1
        try:
            try:
                await self._serve(fs, bucket)
            except BaseExceptionGroup as group:
                leaf = unwrap(group)
                if isinstance(leaf, trio.Cancelled):
                    raise
                raise leaf from None
        except SpikewireError as err:
            self.stats.failed += 1
            log.debug("clock stream from %s failed: %s", peer, err)
        except Exception as err:  # a bug of ours: end this stream only
            self.stats.failed += 1
            log.warning("clock stream from %s: internal error: %r", peer, err)
            await fs.reset("internal-error", "internal error")
        finally:
            b, users = self._buckets[peer]
            if users <= 1:
                del self._buckets[peer]
            else:
                self._buckets[peer] = (b, users - 1)

    async def _serve(self, fs: FramedStream, bucket: TokenBucket) -> None:
        send, recv = trio.open_memory_channel[tuple[int, int, int]](self.limits.max_pending)
        peer_error: RemoteCloseError | None = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._answer, fs, bucket, recv, nursery.cancel_scope)
            try:
                async with send:
                    while True:
                        msg = await fs.read_message(SERVER, timeout=self.limits.idle_s)
                        if msg is None:
                            return  # end of the client's writing: answer what is owed, then close
                        if isinstance(msg, ClockRequest):
                            self.stats.requests += 1
                            # Blocks while max_pending answers wait: the server stops reading (§9.3.1).
                            assert fs.last_arrival is not None
                            await send.send((msg.id, msg.t1, int(fs.last_arrival)))
                            continue
                        if isinstance(msg, Close):
                            if msg.code != CODES["normal"]:
                                # The client failed the stream: send nothing more, no close of our own.
                                # (Raised after the nursery: inside it, the cancelled scope would turn
                                # the raise into a cancellation at the channel's close.)
                                peer_error = RemoteCloseError(msg.code, msg.reason)
                                nursery.cancel_scope.cancel()
                                with trio.CancelScope(shield=True):
                                    await fs.close_write()
                            return
                        await fs.fail(ProtocolError("unexpected-message",
                                                    f"{type(msg).__name__} on a clock stream"))
                        nursery.cancel_scope.cancel()
                        return
            except ProtocolError as err:
                if err.code == "timeout":
                    self.stats.timeouts += 1
                nursery.cancel_scope.cancel()
                raise
            except StreamResetError:
                nursery.cancel_scope.cancel()
                raise
        if peer_error is not None:
            raise peer_error
        if fs.failure is not None:  # the answering task failed the stream (slow consumer)
            raise fs.failure

    async def _answer(self, fs: FramedStream, bucket: TokenBucket,
                      recv: trio.MemoryReceiveChannel[tuple[int, int, int]], scope: trio.CancelScope) -> None:
        async with recv:
            async for first in recv:
                pending = [first]
                # Take what else is queued, so several answers can share one write.
                while len(pending) < 64:
                    try:
                        pending.append(recv.receive_nowait())
                    except (trio.WouldBlock, trio.EndOfChannel):
                        break
                out: list[ClockResponse] = []
                for (rid, t1, t2) in pending:
                    wait = bucket.take()
                    while wait > 0:
                        if out:  # send what is ready before waiting for the pace
                            await self._write(fs, out, scope)
                            out = []
                        await trio.sleep(wait)
                        wait = bucket.take()
                    t3 = max(self.clock(), t2)
                    out.append(ClockResponse(rid, t1, t2, t3))
                await self._write(fs, out, scope)
        # The reader ended normally: everything owed is sent; the end of our writing is the normal end.
        await fs.close_write()

    async def _write(self, fs: FramedStream, msgs: list[ClockResponse], scope: trio.CancelScope) -> None:
        with trio.move_on_after(self.limits.stall_s) as stall:
            try:
                await fs.write(*msgs)
            except (StreamResetError, SpikewireError):
                # The yamux write may give up on a window that stays closed: same as a stall.
                stall.cancel()
                self.stats.slow_consumer += 1
                await fs.fail(ProtocolError("slow-consumer", "the clock client does not read its responses"))
                scope.cancel()
                return
        if stall.cancelled_caught:
            self.stats.slow_consumer += 1
            await fs.fail(ProtocolError("slow-consumer", "the clock client does not read its responses"))
            scope.cancel()
            return
        self.stats.answers += len(msgs)


def clock_uncertainty_ok(est: Estimate, true_offset_us: float = 0.0) -> bool:
    return abs(est.offset_us - true_offset_us) <= est.uncertainty_us


def finite(x: float) -> bool:
    return not (math.isinf(x) or math.isnan(x))


Handler = Callable[[INetStream], Awaitable[None]]


# -- measurement --------------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def error_summary(errors: list[float], uncertainties: list[float]) -> dict[str, float | int]:
    """p50/p99/max of |error| and coverage (fraction with |error| <= uncertainty)."""
    n = len(errors)
    abs_err = [abs(e) for e in errors]
    covered = sum(1 for e, u in zip(abs_err, uncertainties, strict=True) if e <= u)
    return {
        "n": n,
        "abs_error_p50_us": round(_percentile(abs_err, 0.5), 2),
        "abs_error_p99_us": round(_percentile(abs_err, 0.99), 2),
        "abs_error_max_us": round(max(abs_err), 2) if abs_err else math.nan,
        "uncertainty_p50_us": round(_percentile(uncertainties, 0.5), 2),
        "coverage": round(covered / n, 4) if n else math.nan,
    }


async def measure_clock_error(addr: str, duration_s: float = 10.0, true_offset_us: float = 0.0,
                              check_interval_s: float = 0.02, host: IHost | None = None,
                              schedule: ProbeSchedule | None = None) -> dict[str, object]:
    """Run a clock client against the server at `addr` for `duration_s` and compare its estimates with the
    known true offset (0 for a server on the same machine, whose clock is this machine's clock).

    Two views: `bursts` (the estimate right after each burst) and `checks` (the estimate the client would
    use for mapping, read every `check_interval_s` at the current local time, so it includes the
    extrapolation between bursts). Each gives n, p50/p99/max of |offset − true_offset|, the median
    uncertainty and the coverage (fraction with |error| <= uncertainty); `*_converged` counts only the
    estimates flagged converged.

    Baseline for a benchmark line: in the same run, the TypeScript client against the same server,
    `spikewire clock ADDR --json --duration S`, its per-burst lines fed to `error_summary(offsets,
    uncertainties)` (compare with `bursts_view`).
    """
    from spikewire.net.host import open_host

    per_burst: list[tuple[float, float, bool]] = []
    checks: list[tuple[float, float, bool]] = []

    async def run(h: IHost) -> ClockClient:
        fs = await open_clock(h, addr)
        client = ClockClient(fs, schedule=schedule or ProbeSchedule(),
                             on_estimate=lambda e: per_burst.append((e.offset_us - true_offset_us,
                                                                     e.uncertainty_us, e.converged)))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client.run)

            async def checker() -> None:
                while True:
                    await trio.sleep(check_interval_s)
                    est = client.estimate()
                    if est is not None:
                        checks.append((est.offset_us - true_offset_us, est.uncertainty_us, est.converged))
            nursery.start_soon(checker)
            await trio.sleep(duration_s)
            nursery.cancel_scope.cancel()
        return client

    if host is None:
        async with open_host() as h:
            client = await run(h)
    else:
        client = await run(host)

    def view(rows: list[tuple[float, float, bool]], converged_only: bool) -> dict[str, float | int]:
        sel = [r for r in rows if r[2] or not converged_only]
        return error_summary([r[0] for r in sel], [r[1] for r in sel])

    est = client.estimate()
    return {
        "duration_s": duration_s,
        "true_offset_us": true_offset_us,
        "probes": client.stats.probes,
        "answers": client.stats.answers,
        "bursts": client.stats.bursts,
        "delay_min_us": None if est is None else est.delay_min_us,
        "final_offset_us": None if est is None else round(est.offset_us, 2),
        "final_uncertainty_us": None if est is None else round(est.uncertainty_us, 2),
        "bursts_view": view(per_burst, False),
        "bursts_view_converged": view(per_burst, True),
        "checks_view": view(checks, False),
        "checks_view_converged": view(checks, True),
    }


def measure_clock_error_sync(addr: str, duration_s: float = 10.0, **kw: object) -> dict[str, object]:
    """measure_clock_error in its own trio run (for a benchmark script)."""
    return trio.run(lambda: measure_clock_error(addr, duration_s, **kw))  # type: ignore[arg-type]
