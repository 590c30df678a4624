"""Clock estimation of a clock client (spec §9.2.8, §9.3.2, §9.3.3), sans-IO.

Normative parts, computed exactly as the spec states them:

- per sample θ = ((t2 − t1) + (t3 − t4)) / 2 and δ = (t4 − t1) − (t3 − t2), from differences, not rounded;
- the faults: ``echo-mismatch`` and ``t3-before-t2`` reject the response (``invalid-message``),
  ``t4-before-t1`` and ``negative-delay`` (δ < −ε) discard the sample; a kept sample uses δ⁺ = max(δ, 0);
- the clock filter: one representative per burst, the smallest δ⁺, the earliest on a tie;
- every reported uncertainty is at least δmin/2 over the representatives the estimate uses;
- a request given up on stays outstanding for matching, and its late response is matched and discarded.

The fit is the reference method the spec describes as informative (§9.3.3 steps 1 to 7): a window of 32
bursts and 15 minutes, weighted least squares with weights 1/s², outlier rejection, a drift shrunk toward 0
while it is not measurable, a runs test for a change of drift, a consistency check of each new burst, and
the uncertainty u(t) = δmin/2 + e_fit(t*) + ρ·Δt aimed at 99 % coverage.

Time is injected: every timestamp is an integer number of µs on the caller's clock (t1, t4) or the server's
(t2, t3). Nothing here reads a clock, sleeps or does I/O.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Iterable, Sequence

import numpy as np

from spikewire.errors import ProtocolError

__all__ = [
    "ClockFaultError",
    "ClockEstimator",
    "ClockRequests",
    "Estimate",
    "Sample",
    "sample_offset_delay",
    "student_t99",
    "FAULT_ECHO_MISMATCH",
    "FAULT_T3_BEFORE_T2",
    "FAULT_T4_BEFORE_T1",
    "FAULT_NEGATIVE_DELAY",
]

FAULT_ECHO_MISMATCH = "echo-mismatch"
FAULT_T3_BEFORE_T2 = "t3-before-t2"
FAULT_T4_BEFORE_T1 = "t4-before-t1"
FAULT_NEGATIVE_DELAY = "negative-delay"

MAX_UINT32 = 2**32 - 1
MAX_TIME = 2**53 - 1

# Reference parameters (§9.3.3, informative).
DEFAULT_EPSILON_US = 20.0
WINDOW_BURSTS = 32
WINDOW_AGE_US = 15 * 60 * 1_000_000
WEIGHT_FLOOR_US = 10.0
MAX_DRIFT = 200e-6
MIN_DRIFT_UNCERTAINTY = 0.1e-6
PRIOR_Q = 2.58
CONVERGED_DRIFT = 20e-6
SLOW_PERIOD_US = 8_000_000
RUNS_Z = 1.645
RUNS_MIN = 8
STEP_BURSTS = 3

# Two-sided 99 % quantiles of Student's t, degrees of freedom 1 to 30; 2.58 above 30.
_T99 = (
    63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355, 3.250, 3.169,
    3.106, 3.055, 3.012, 2.977, 2.947, 2.921, 2.898, 2.878, 2.861, 2.845,
    2.831, 2.819, 2.807, 2.797, 2.787, 2.779, 2.771, 2.763, 2.756, 2.750,
)


def student_t99(df: int) -> float:
    """The two-sided 99 % quantile of Student's t with ``df`` degrees of freedom (df ≥ 1)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1 (got {df})")
    return _T99[df - 1] if df <= len(_T99) else 2.58


class ClockFaultError(ProtocolError):
    """A clock response the client must reject: the stream closes with ``invalid-message``.

    ``fault`` names the §9.3.3 fault (``echo-mismatch``, ``t3-before-t2``); a response when no request is
    outstanding is ``unexpected-message`` with fault None.
    """

    def __init__(self, code: str, fault: str | None, message: str) -> None:
        super().__init__(code, message)
        self.fault = fault


def sample_offset_delay(t1: float, t2: int, t3: int, t4: float) -> tuple[float, float]:
    """θ and δ of one sample exactly as §9.3.2 defines them (θ in halves of a µs, δ not clamped)."""
    theta2 = (t2 - t1) + (t3 - t4)  # exact integer, twice θ
    delta = (t4 - t1) - (t3 - t2)
    return theta2 / 2, delta


@dataclass(frozen=True)
class Sample:
    """One probe: the four timestamps, θ, δ, and the fault that discarded it (None when kept)."""

    index: int
    burst: int
    t1: float  # an int unless the client kept fractions of a µs
    t2: int
    t3: int
    t4: float
    offset_us: float
    delay_us: float
    fault: str | None

    @property
    def delay_plus_us(self) -> float:
        return float(max(self.delay_us, 0))

    @property
    def local_us(self) -> float:
        """x = (t1 + t4) / 2, the local time the sample stands for."""
        return self.t1 + (self.t4 - self.t1) / 2


@dataclass(frozen=True)
class Estimate:
    """θ̂(t) = offset at ``anchor_us`` + drift × (t − anchor_us), with its uncertainty at ``at_local_us``.

    An Estimate is immutable: a playout thread can keep mapping with it while the estimator moves on.
    ``uncertainty_us`` is u(at_local_us); ``uncertainty_at(t)`` gives u(t) elsewhere.
    """

    at_local_us: float
    offset_us: float
    uncertainty_us: float
    drift_ppm: float
    drift_uncertainty_ppm: float
    rtt_us: float
    delay_min_us: float
    samples_used: int
    bursts: int
    converged: bool
    # The model, for mapping and u(t): θ̂(t) = theta_anchor + drift × (t − anchor_us).
    anchor_us: int = field(repr=False, default=0)
    theta_anchor_us: float = field(repr=False, default=0.0)
    drift: float = field(repr=False, default=0.0)
    x_first_us: float = field(repr=False, default=0.0)
    x_last_us: float = field(repr=False, default=0.0)
    _efit: tuple[float, ...] = field(repr=False, default=())

    def offset_at(self, local_us: float) -> float:
        """θ̂ at a local time."""
        return self.theta_anchor_us + self.drift * (local_us - self.anchor_us)

    def uncertainty_at(self, local_us: float) -> float:
        """u(t) = δmin/2 + e_fit(t*) + ρ·|t − t*|, t* = t clamped to the representatives' span."""
        return _uncertainty(self._efit, self.delay_min_us, self.x_first_us, self.x_last_us, local_us)

    def to_remote(self, local_us):  # type: ignore[no-untyped-def]
        """A local time mapped to the server's clock: t + θ̂(t). Scalars give float, arrays float64."""
        if isinstance(local_us, np.ndarray):
            rel = (local_us - self.anchor_us).astype(np.float64) if local_us.dtype.kind in "iu" else local_us - self.anchor_us
            return self.anchor_us + (rel + self.theta_anchor_us + self.drift * rel)
        rel = local_us - self.anchor_us
        return self.anchor_us + (rel + self.theta_anchor_us + self.drift * rel)

    def to_local(self, remote_us):  # type: ignore[no-untyped-def]
        """A server time T mapped to the local t that solves t = T − θ̂(t) (§9.3.3 Mapping).

        Scalars give float; int64 arrays give float64 arrays (differences taken in integers first, so
        that µs survive the 2^50-sized epoch values).
        """
        if isinstance(remote_us, np.ndarray):
            rel = (remote_us - self.anchor_us).astype(np.float64) if remote_us.dtype.kind in "iu" else remote_us - self.anchor_us
            return self.anchor_us + (rel - self.theta_anchor_us) / (1.0 + self.drift)
        rel = remote_us - self.anchor_us
        return self.anchor_us + (rel - self.theta_anchor_us) / (1.0 + self.drift)


def _uncertainty(efit: tuple[float, ...], delay_min: float, x_first: float, x_last: float, t: float) -> float:
    kind = efit[0]
    t_star = min(max(t, x_first), x_last)
    dt_out = abs(t - t_star)
    if kind == 0.0:  # mean: (3σ₀/√Σw, xs of the representatives, ρ)
        _, base, rho, lo, hi = efit
        far = max(abs(t_star - lo), abs(t_star - hi))
        e = base + MAX_DRIFT * far
    elif kind == 1.0:  # line: (k, σ, Σw, x̄, Sxx, ρ)
        _, k, sigma, sw, xbar, sxx, rho = efit
        e = k * sigma * math.sqrt(1.0 / sw + (t_star - xbar) ** 2 / sxx)
    else:  # shrunk line: (k, σ, Σw, x̄, g, SE_b, ρ)
        _, k, sigma, sw, xbar, g, se_b, rho = efit
        d = t_star - xbar
        e = k * math.sqrt(sigma**2 / sw + (g * se_b * d) ** 2) + (1.0 - g) * MAX_DRIFT * abs(d)
    return delay_min / 2 + e + rho * dt_out


@dataclass
class _Rep:
    sample: Sample
    x: float  # local time relative to the estimator's origin, µs
    theta: float
    dplus: float


@dataclass
class _Fit:
    reps: list[_Rep]
    theta_xbar: float
    xbar: float
    slope: float
    drift_unc: float
    efit: tuple[float, ...]
    delay_min: float


class ClockEstimator:
    """The §9.3.3 estimator of one client for one server.

    Feed samples with ``add_sample(t1, t2, t3, t4, burst)``; a sample whose burst differs from the previous
    one ends that burst, as does ``end_burst()``. ``estimate(at_local_us)`` uses the ended bursts only.
    """

    def __init__(
        self,
        negative_delay_tolerance_us: float = DEFAULT_EPSILON_US,
        window_bursts: int = WINDOW_BURSTS,
        window_age_us: int = WINDOW_AGE_US,
    ) -> None:
        if not (0 <= negative_delay_tolerance_us):
            raise ValueError("negative_delay_tolerance_us must be >= 0")
        if window_bursts < 1:
            raise ValueError("window_bursts must be >= 1")
        self.epsilon = float(negative_delay_tolerance_us)
        self.window_bursts = window_bursts
        self.window_age_us = window_age_us
        self.samples: list[Sample] = []
        self.filtered: list[int] = []  # index of each burst's representative, in burst order
        self.rejected: list[tuple[int, str]] = []
        self.bursts_total = 0
        self.bursts_set_aside = 0
        self.bursts_discarded = 0
        self.steps = 0
        self._origin: int | None = None
        self._open_burst: int | None = None
        self._open_best: Sample | None = None
        self._open_count = 0
        self._window: Deque[_Rep] = deque()
        self._aside: list[_Rep] = []
        self._all_dmin = math.inf
        self._fit: _Fit | None = None
        self._last_burst_key: object = None
        self._ended: Deque[object] = deque(maxlen=64)  # the latest ended burst numbers

    # -- samples -------------------------------------------------------------------------------------

    def add_sample(self, t1: float, t2: int, t3: int, t4: float, burst: int | None = None) -> Sample:
        """Take one response's four timestamps (t4 read by the caller when the bytes arrived).

        Raises ClockFaultError (``invalid-message``, fault ``t3-before-t2``) for t3 < t2; returns the
        Sample, whose ``fault`` is ``t4-before-t1`` or ``negative-delay`` when it was discarded.
        ``burst`` None makes the sample a burst of its own.
        """
        # t2 and t3 come from the wire as integers; t1 and t4 are the client's own readings, which MAY keep
        # fractions of a µs (§9.3.3 Timestamps).
        name: str
        v: object
        for name, v in (("t2", t2), ("t3", t3)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not 0 <= v <= MAX_TIME:
                raise ValueError(f"{name} must be an integer in 0..2^53-1 µs (got {v!r})")
        for name, v in (("t1", t1), ("t4", t4)):
            if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool) \
                    or not 0 <= v <= MAX_TIME:  # NaN fails the range too
                raise ValueError(f"{name} must be a number in 0..2^53-1 µs (got {v!r})")
        t2, t3 = int(t2), int(t3)
        t1 = int(t1) if isinstance(t1, (int, np.integer)) else float(t1)
        t4 = int(t4) if isinstance(t4, (int, np.integer)) else float(t4)
        if t3 < t2:
            raise ClockFaultError("invalid-message", FAULT_T3_BEFORE_T2, f"clock response has t3 {t3} < t2 {t2}")
        key = object() if burst is None else burst
        if burst is not None and burst in self._ended:
            raise ValueError(f"burst {burst} has ended: give its unanswered requests up (ClockRequests) "
                             "so that their late answers are not taken as samples")
        if self._open_burst is not None and key != self._last_burst_key:
            self.end_burst()
        offset, delay = sample_offset_delay(t1, t2, t3, t4)
        fault = None
        if t4 < t1:
            fault = FAULT_T4_BEFORE_T1
        elif delay < -self.epsilon:
            fault = FAULT_NEGATIVE_DELAY
        index = len(self.samples)
        if self._open_burst is None:
            self._open_burst = self.bursts_total
            self._open_best = None
            self._open_count = 0
        self._last_burst_key = key
        s = Sample(index, self._open_burst, t1, t2, t3, t4, offset, delay, fault)
        self.samples.append(s)
        self._open_count += 1
        if fault is not None:
            self.rejected.append((index, fault))
        elif self._open_best is None or s.delay_plus_us < self._open_best.delay_plus_us:
            self._open_best = s  # strict <: on a tie the earlier sample stays
        if burst is None:
            self.end_burst()
        return s

    def update(self, t1: float, t2: int, t3: int, t4: float, burst: int | None = None) -> Estimate | None:
        """``add_sample`` then the estimate at t4 (the local receive time); None while there is none.
        With a burst number the sample enters the estimate only once its burst has ended."""
        self.add_sample(t1, t2, t3, t4, burst)
        return self.estimate(t4)

    def end_burst(self) -> int | None:
        """End the open burst; returns the index of its representative (None: no sample kept)."""
        if self._open_burst is None:
            return None
        best = self._open_best
        if self._last_burst_key is not None:
            self._ended.append(self._last_burst_key)
        self._open_burst = None
        self._open_best = None
        self._last_burst_key = None
        self.bursts_total += 1
        if best is None:
            return None
        self.filtered.append(best.index)
        if self._origin is None:
            self._origin = math.floor(best.t1)
        rep = _Rep(best, best.local_us - self._origin, best.offset_us, best.delay_plus_us)
        self._all_dmin = min(self._all_dmin, rep.dplus)
        self._accept(rep)
        return best.index

    # -- window and consistency (steps 1 and 6) ---------------------------------------------------------

    def _accept(self, rep: _Rep) -> None:
        fit = self._fit
        if fit is not None and not self._consistent(fit, rep):
            self._aside.append(rep)
            self.bursts_set_aside += 1
            if len(self._aside) >= STEP_BURSTS:
                # The peer's clock stepped or the path changed: the inconsistent bursts replace the window.
                self.steps += 1
                self._window = deque(self._aside)
                self._aside = []
                self._refit()
            return
        if self._aside:
            self.bursts_discarded += len(self._aside)
            self._aside = []
        self._window.append(rep)
        while len(self._window) > self.window_bursts:
            self._window.popleft()
        newest = self._window[-1].x
        while self._window and newest - self._window[0].x > self.window_age_us:
            self._window.popleft()
        self._refit()

    def _consistent(self, fit: _Fit, rep: _Rep) -> bool:
        theta_hat = fit.theta_xbar + fit.slope * (rep.x - fit.xbar)
        u = self._u(fit, rep.x) + WEIGHT_FLOOR_US
        lo, hi = rep.theta - rep.dplus / 2, rep.theta + rep.dplus / 2
        return hi >= theta_hat - u and lo <= theta_hat + u

    # -- the fit (steps 2 to 5) ----------------------------------------------------------------------

    def _refit(self) -> None:
        reps = list(self._window)
        if not reps:
            self._fit = None
            return
        fit = self._fit_with_outliers(reps)
        # Step 5: a change of drift shows as too few runs of residual signs; drop the oldest eighth.
        drop = max(1, self.window_bursts // 8)
        while len(fit.reps) >= 3 and len(self._window) > RUNS_MIN and _too_few_runs(fit):
            for _ in range(min(drop, len(self._window) - RUNS_MIN)):
                self._window.popleft()
            fit = self._fit_with_outliers(list(self._window))
        self._fit = fit

    def _fit_with_outliers(self, reps: list[_Rep]) -> _Fit:
        fit = _fit(reps)
        n_window = len(reps)
        for _ in range(2):
            if len(fit.reps) < 4:
                break
            z = _normalised_residuals(fit)
            robust = max(1.0, 1.4826 * float(np.median(z)))
            keep = [r for r, zi in zip(fit.reps, z) if zi <= 4 * robust]
            if len(keep) == len(fit.reps) or len(keep) < 3 or len(keep) < n_window / 2:
                break
            fit = _fit(keep)
        return fit

    def _u(self, fit: _Fit, x: float) -> float:
        xs = [r.x for r in fit.reps]
        return _uncertainty(fit.efit, fit.delay_min, min(xs), max(xs), x)

    # -- results -------------------------------------------------------------------------------------

    @property
    def has_estimate(self) -> bool:
        return self._fit is not None

    @property
    def uncertainty_min_us(self) -> float:
        """δmin/2 over every representative so far (inf before the first)."""
        return self._all_dmin / 2

    def estimate(self, at_local_us: float | None = None) -> Estimate | None:
        """The estimate at a local time (default: the newest representative's x); None before the first
        representative (no estimate, §9.3.3)."""
        fit = self._fit
        if fit is None or self._origin is None:
            return None
        origin = self._origin
        xs = [r.x for r in fit.reps]
        x_first, x_last = min(xs), max(xs)
        t_rel = x_last if at_local_us is None else at_local_us - origin
        offset = fit.theta_xbar + fit.slope * (t_rel - fit.xbar)
        u = _uncertainty(fit.efit, fit.delay_min, x_first, x_last, t_rel)
        newest = max(fit.reps, key=lambda r: r.x)
        rho = fit.drift_unc
        e_at_last = _uncertainty(fit.efit, 0.0, x_first, x_last, x_last)
        converged = len(self._window) >= 4 and (
            rho <= CONVERGED_DRIFT
            or rho * SLOW_PERIOD_US <= max(fit.delay_min / 2, e_at_last)
            or len(self._window) >= self.window_bursts
        )
        # Anchor the model at the origin (an integer µs) so mapping subtracts integers first.
        theta_anchor = fit.theta_xbar - fit.slope * fit.xbar
        efit = _shift_efit(fit.efit, origin)
        return Estimate(
            at_local_us=origin + t_rel,
            offset_us=offset,
            uncertainty_us=u,
            drift_ppm=fit.slope * 1e6,
            drift_uncertainty_ppm=rho * 1e6,
            rtt_us=newest.dplus,
            delay_min_us=fit.delay_min,
            samples_used=len(fit.reps),
            bursts=self.bursts_total,
            converged=converged,
            anchor_us=origin,
            theta_anchor_us=theta_anchor,
            drift=fit.slope,
            x_first_us=origin + x_first,
            x_last_us=origin + x_last,
            _efit=efit,
        )

    def to_local(self, remote_us):  # type: ignore[no-untyped-def]
        """Map a server time to local time with the current estimate (raises LookupError before one)."""
        est = self.estimate()
        if est is None:
            raise LookupError("no clock estimate yet")
        return est.to_local(remote_us)

    def to_remote(self, local_us):  # type: ignore[no-untyped-def]
        """Map a local time to the server's clock with the current estimate."""
        est = self.estimate()
        if est is None:
            raise LookupError("no clock estimate yet")
        return est.to_remote(local_us)


def _shift_efit(efit: tuple[float, ...], origin: int) -> tuple[float, ...]:
    """The e_fit parameters with their x positions moved from origin-relative to absolute µs."""
    kind = efit[0]
    if kind == 0.0:
        return (kind, efit[1], efit[2], efit[3] + origin, efit[4] + origin)
    parts = list(efit)
    parts[4] = parts[4] + origin  # x̄
    return tuple(parts)


def _fit(reps: list[_Rep]) -> _Fit:
    n = len(reps)
    x = np.array([r.x for r in reps], dtype=np.float64)
    y = np.array([r.theta for r in reps], dtype=np.float64)
    d = np.array([r.dplus for r in reps], dtype=np.float64)
    dmin = float(d.min())
    excess = (d - dmin) / 2
    floor = max(WEIGHT_FLOOR_US, float(np.median(excess)))
    s = excess + floor
    w = 1.0 / (s * s)
    sw = float(w.sum())
    xbar = float((w * x).sum() / sw)
    ybar = float((w * y).sum() / sw)
    sxx = float((w * (x - xbar) ** 2).sum())
    if n >= 3 and sxx > 0:
        b = float((w * (x - xbar) * (y - ybar)).sum() / sxx)
        r = y - (ybar + b * (x - xbar))
        sigma = max(1.0, math.sqrt(float(((r / s) ** 2).sum()) / (n - 2)))
        k = student_t99(n - 2)
        se_b = sigma / math.sqrt(sxx)
        if k * se_b > MAX_DRIFT:
            p = (MAX_DRIFT / PRIOR_Q) ** 2
            g = p / (p + se_b * se_b)
            rho = min(MAX_DRIFT, max(MIN_DRIFT_UNCERTAINTY, k * g * se_b + (1 - g) * MAX_DRIFT))
            return _Fit(reps, ybar, xbar, g * b, rho, (2.0, k, sigma, sw, xbar, g, se_b, rho), dmin)
        rho = max(k * se_b, MIN_DRIFT_UNCERTAINTY)
        return _Fit(reps, ybar, xbar, b, rho, (1.0, k, sigma, sw, xbar, sxx, rho), dmin)
    # Fewer than 3 representatives, or no spread in time: the weighted mean, drift 0 ± 200 ppm.
    if n == 1:
        sigma0 = 1.0
    else:
        sigma0 = max(1.0, math.sqrt(float((((y - ybar) / s) ** 2).sum()) / (n - 1)))
    base = 3 * sigma0 / math.sqrt(sw)
    return _Fit(reps, ybar, xbar, 0.0, MAX_DRIFT, (0.0, base, MAX_DRIFT, float(x.min()), float(x.max())), dmin)


def _normalised_residuals(fit: _Fit) -> np.ndarray:
    x = np.array([r.x for r in fit.reps])
    y = np.array([r.theta for r in fit.reps])
    d = np.array([r.dplus for r in fit.reps])
    excess = (d - d.min()) / 2
    s = excess + max(WEIGHT_FLOOR_US, float(np.median(excess)))
    return np.abs(y - (fit.theta_xbar + fit.slope * (x - fit.xbar))) / s


def _too_few_runs(fit: _Fit) -> bool:
    """One-sided Wald–Wolfowitz runs test on the residual signs in time order, at z = 1.645."""
    ordered = sorted(fit.reps, key=lambda r: r.x)
    signs = [1 if r.theta - (fit.theta_xbar + fit.slope * (r.x - fit.xbar)) > 0 else -1
             for r in ordered
             if r.theta - (fit.theta_xbar + fit.slope * (r.x - fit.xbar)) != 0]
    n = len(signs)
    if n < RUNS_MIN:
        return False
    n1 = signs.count(1)
    n2 = n - n1
    if n1 == 0 or n2 == 0:
        return True
    runs = 1 + sum(1 for a, b in zip(signs, signs[1:]) if a != b)
    mu = 2 * n1 * n2 / n + 1
    var = 2 * n1 * n2 * (2 * n1 * n2 - n) / (n * n * (n - 1))
    if var <= 0:
        return False
    return (runs - mu) / math.sqrt(var) < -RUNS_Z


@dataclass
class _Outstanding:
    id: int
    t1: int
    burst: int | None
    given_up: bool = False


@dataclass(frozen=True)
class Matched:
    """A response matched to the oldest outstanding request; ``given_up`` responses are not samples."""

    id: int
    t1: int
    burst: int | None
    given_up: bool


class ClockRequests:
    """The requests outstanding on one clock stream, oldest first (§9.3.1, §9.3.3).

    ``sent`` records a request; ``match`` checks a response against the oldest one and removes it.
    A request given up on (``give_up``) stays outstanding, so that its late answer is matched in order and
    then discarded rather than taken as a sample.
    """

    def __init__(self, max_outstanding: int = 1024) -> None:
        self._q: Deque[_Outstanding] = deque()
        self._next_id = 0
        self.max_outstanding = max_outstanding

    def __len__(self) -> int:
        return len(self._q)

    def next_id(self) -> int:
        """A counter modulo 2^32: requests outstanding together have different ids."""
        i = self._next_id
        self._next_id = (i + 1) & MAX_UINT32
        return i

    def sent(self, id: int, t1: int, burst: int | None = None) -> None:
        if not 0 <= id <= MAX_UINT32:
            raise ValueError(f"clock request id must be in 0..2^32-1 (got {id})")
        if any(o.id == id for o in self._q):
            raise ValueError(f"clock request id {id} is already outstanding")
        if len(self._q) >= self.max_outstanding:
            raise ValueError(f"more than {self.max_outstanding} clock requests outstanding")
        self._q.append(_Outstanding(id, int(t1), burst))

    def give_up(self, id: int) -> None:
        for o in self._q:
            if o.id == id:
                o.given_up = True
                return

    def give_up_older_than(self, t1_limit: int) -> int:
        """Give up every request sent before ``t1_limit``; returns how many were newly given up."""
        n = 0
        for o in self._q:
            if o.t1 < t1_limit and not o.given_up:
                o.given_up = True
                n += 1
        return n

    def match(self, id: int, t1: int) -> Matched:
        """Match a response's echo against the oldest outstanding request (§9.3.1)."""
        if not self._q:
            raise ClockFaultError("unexpected-message", None, "clock response while no request is outstanding")
        head = self._q[0]
        if id != head.id or t1 != head.t1:
            raise ClockFaultError(
                "invalid-message", FAULT_ECHO_MISMATCH,
                f"clock response echoes id {id} t1 {t1}, the oldest outstanding request is id {head.id} t1 {head.t1}",
            )
        self._q.popleft()
        return Matched(head.id, head.t1, head.burst, head.given_up)


def replay(samples: Iterable[Sequence[int]], bursts: Sequence[int] | None = None,
           negative_delay_tolerance_us: float = DEFAULT_EPSILON_US) -> ClockEstimator:
    """Feed a list of [t1, t2, t3, t4] (and optional burst numbers) into a new estimator, ending the last burst."""
    est = ClockEstimator(negative_delay_tolerance_us)
    for i, (t1, t2, t3, t4) in enumerate(samples):
        est.add_sample(t1, t2, t3, t4, burst=None if bursts is None else bursts[i])
    est.end_burst()
    return est
