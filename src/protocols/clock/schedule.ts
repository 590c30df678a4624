/**
 * Adaptive probe scheduling: when to send clock probes to a peer. Pure policy: it never reads a clock or
 * sets a timer; the caller passes the time and sends the probes.
 *
 * Probes go out in bursts of `burstSize`, `probeSpacingUs` apart (the estimator keeps the fastest of each
 * burst). While the estimate is not converged, or after a burst that disagreed with it, bursts come every
 * `minPeriodUs`. Each converged and consistent burst multiplies the period by `backoff`, up to
 * `maxPeriodUs`. A burst with no answer leaves the period unchanged. The period is randomised by
 * ± `jitter` so that many peers do not probe in lockstep.
 *
 * | option          | default | meaning                                                           |
 * |-----------------|---------|-------------------------------------------------------------------|
 * | burstSize       | 16      | probes per burst                                                  |
 * | probeSpacingUs  | 5 ms    | time between the probes of a burst                                |
 * | minPeriodUs     | 250 ms  | burst period while converging and after an inconsistent burst     |
 * | maxPeriodUs     | 8 s     | longest burst period once stable                                  |
 * | backoff         | 2       | period factor per converged, consistent burst                     |
 * | jitter          | 0.1     | the period is multiplied by a uniform factor in [1 − j, 1 + j]    |
 * | probeTimeoutUs  | 2 s     | a probe unanswered after this is given up (not a sample)          |
 *
 * With the defaults a new peer is probed 4 times a second until converged (typically 1–10 s, depending on
 * jitter), then the period doubles to 8 s within 5 bursts: ≈ 2 probes per second in steady state.
 */
import { InvalidClockOptionError } from './errors.ts'

export interface ProbeScheduleOptions {
  burstSize?: number
  probeSpacingUs?: number
  minPeriodUs?: number
  maxPeriodUs?: number
  backoff?: number
  jitter?: number
  probeTimeoutUs?: number
  /** Uniform random numbers in [0, 1) for the jitter. Default Math.random. */
  random?: () => number
}

export const PROBE_DEFAULTS = {
  burstSize: 16,
  probeSpacingUs: 5_000,
  minPeriodUs: 250_000,
  maxPeriodUs: 8_000_000,
  backoff: 2,
  jitter: 0.1,
  probeTimeoutUs: 2_000_000
} as const

/** What the caller learned from the burst just finished (from the estimator). */
export interface BurstOutcome {
  /** `estimate().converged` after the burst. */
  converged: boolean
  /** Whether the burst agreed with the earlier estimate (`SampleVerdict.consistent` of any answered probe). */
  consistent: boolean
  /** Probes answered in the burst; 0 leaves the period unchanged. Default: treated as answered. */
  answered?: number
}

/** The policy without state or randomness: the next base period after a burst. */
export function nextPeriodUs (periodUs: number, outcome: BurstOutcome, options: ProbeScheduleOptions = {}): number {
  const min = options.minPeriodUs ?? PROBE_DEFAULTS.minPeriodUs
  const max = options.maxPeriodUs ?? PROBE_DEFAULTS.maxPeriodUs
  const backoff = options.backoff ?? PROBE_DEFAULTS.backoff
  if (outcome.answered === 0) return periodUs
  if (!outcome.converged || !outcome.consistent) return min
  return Math.min(max, Math.max(min, periodUs * backoff))
}

export class ProbeSchedule {
  readonly burstSize: number
  readonly probeSpacingUs: number
  readonly probeTimeoutUs: number
  readonly #options: ProbeScheduleOptions
  readonly #jitter: number
  readonly #random: () => number
  #periodUs: number

  constructor (options: ProbeScheduleOptions = {}) {
    this.burstSize = options.burstSize ?? PROBE_DEFAULTS.burstSize
    this.probeSpacingUs = options.probeSpacingUs ?? PROBE_DEFAULTS.probeSpacingUs
    this.probeTimeoutUs = options.probeTimeoutUs ?? PROBE_DEFAULTS.probeTimeoutUs
    this.#jitter = options.jitter ?? PROBE_DEFAULTS.jitter
    this.#random = options.random ?? Math.random
    const min = options.minPeriodUs ?? PROBE_DEFAULTS.minPeriodUs
    const max = options.maxPeriodUs ?? PROBE_DEFAULTS.maxPeriodUs
    if (!Number.isInteger(this.burstSize) || this.burstSize < 1) throw new InvalidClockOptionError(`burstSize must be an integer ≥ 1 (got ${this.burstSize})`)
    if (!(this.probeSpacingUs >= 0)) throw new InvalidClockOptionError(`probeSpacingUs must be ≥ 0 (got ${this.probeSpacingUs})`)
    if (!(min > 0) || !(max >= min)) throw new InvalidClockOptionError(`need 0 < minPeriodUs ≤ maxPeriodUs (got ${min}, ${max})`)
    if (!((options.backoff ?? 2) >= 1)) throw new InvalidClockOptionError(`backoff must be ≥ 1 (got ${options.backoff})`)
    if (!(this.#jitter >= 0 && this.#jitter < 1)) throw new InvalidClockOptionError(`jitter must be in [0, 1) (got ${this.#jitter})`)
    if (!(this.probeTimeoutUs > 0)) throw new InvalidClockOptionError(`probeTimeoutUs must be > 0 (got ${this.probeTimeoutUs})`)
    this.#options = { ...options, minPeriodUs: min, maxPeriodUs: max }
    this.#periodUs = min
  }

  /** Current base period (without jitter), µs. */
  get periodUs (): number {
    return this.#periodUs
  }

  /** Send times of the probes of a burst starting at `startUs`. */
  burstTimes (startUs: number): number[] {
    return Array.from({ length: this.burstSize }, (_, i) => startUs + i * this.probeSpacingUs)
  }

  /**
   * Record the outcome of the burst that started at `burstStartUs`; returns the start time of the next
   * burst (burst start + jittered period).
   */
  next (outcome: BurstOutcome, burstStartUs: number): number {
    this.#periodUs = nextPeriodUs(this.#periodUs, outcome, this.#options)
    const factor = 1 + this.#jitter * (2 * this.#random() - 1)
    return burstStartUs + this.#periodUs * factor
  }

  /** Back to the fast period (e.g. after a reconnect). */
  reset (): void {
    this.#periodUs = this.#options.minPeriodUs ?? PROBE_DEFAULTS.minPeriodUs
  }
}
