import { InvalidArgumentError } from './errors.ts'

/**
 * The one clock interface of a node. Everything that reads time takes a Clock, so tests and simulations
 * can run a node with a known offset and drift and compare estimates with the truth.
 *
 * Time is microseconds since the Unix epoch as a JS number. Readings are monotonic (never go back) and may
 * carry a fractional part (sub-microsecond resolution); wire timestamps are rounded to integers.
 */
export interface Clock {
  /** Current time, µs since the Unix epoch, monotonic. */
  nowUs(): number
}

/**
 * The host's clock: anchored once to wall time when created, then advanced by the monotonic high-resolution
 * timer, so it never jumps when the wall clock is stepped.
 */
export class SystemClock implements Clock {
  readonly #originUs: number

  constructor () {
    this.#originUs = performance.timeOrigin * 1000
  }

  nowUs (): number {
    return this.#originUs + performance.now() * 1000
  }
}

/** A clock that moves only when told to: for deterministic tests and simulations. */
export class ManualClock implements Clock {
  #nowUs: number

  constructor (startUs = 1_700_000_000_000_000) {
    this.#nowUs = startUs
  }

  nowUs (): number {
    return this.#nowUs
  }

  /** Advance by `us` microseconds (≥ 0). */
  advance (us: number): void {
    if (!(us >= 0)) throw new InvalidArgumentError(`ManualClock cannot go back (advance ${us})`)
    this.#nowUs += us
  }

  /** Set the time; it must not be earlier than the current time. */
  set (us: number): void {
    if (us < this.#nowUs) throw new InvalidArgumentError(`ManualClock cannot go back (${us} < ${this.#nowUs})`)
    this.#nowUs = us
  }
}

export interface SkewedClockInit {
  /** Constant offset added to the base clock, µs (positive: this clock is ahead). */
  offsetUs?: number
  /** Rate error in parts per million (positive: this clock runs fast). */
  driftPpm?: number
}

/**
 * A clock derived from a base clock with a known offset and drift, anchored at creation:
 * skewed(t) = t + offset + (t − t0) · drift · 1e-6. Used to inject a known error and measure estimates
 * against the truth (the base clock).
 */
export class SkewedClock implements Clock {
  readonly base: Clock
  readonly offsetUs: number
  readonly driftPpm: number
  readonly #anchorUs: number

  constructor (base: Clock, init: SkewedClockInit = {}) {
    this.base = base
    this.offsetUs = init.offsetUs ?? 0
    this.driftPpm = init.driftPpm ?? 0
    this.#anchorUs = base.nowUs()
  }

  nowUs (): number {
    return this.toSkewed(this.base.nowUs())
  }

  /** The true offset (this clock − base clock) at base time `baseUs`. */
  trueOffsetAt (baseUs: number): number {
    return this.toSkewed(baseUs) - baseUs
  }

  /** Map a base-clock reading to this clock. */
  toSkewed (baseUs: number): number {
    return baseUs + this.offsetUs + (baseUs - this.#anchorUs) * this.driftPpm * 1e-6
  }
}

/** Round a clock reading to an integer wire timestamp (µs). */
export function wireTime (us: number): number {
  return Math.round(us)
}
