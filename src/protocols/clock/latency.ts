/**
 * Running one-way latency distribution of a stream: latency = arrival local time − the event's time
 * mapped to the local clock. Percentiles over the last `window` observations (a ring buffer); counts and
 * the all-time extremes over everything recorded.
 *
 * Latencies can be negative when the clock estimate is off by more than the true latency; they are kept
 * as measured.
 */
import { InvalidClockOptionError } from './errors.ts'

export interface LatencySnapshot {
  /** Observations recorded since creation. */
  count: number
  /** Observations in the window. */
  window: number
  /** Over the window, µs (NaN when empty). */
  minUs: number
  meanUs: number
  p50Us: number
  p90Us: number
  p99Us: number
  maxUs: number
  /** Most recent observation, µs (NaN when none). */
  lastUs: number
  /** Largest observation ever recorded, µs (NaN when none). */
  maxEverUs: number
}

export const DEFAULT_LATENCY_WINDOW = 4096

/** Sees each latency a tracker records, µs. */
export type LatencyObserver = (latencyUs: number) => void

export class LatencyTracker {
  readonly #ring: Float64Array
  #next = 0
  #size = 0
  #count = 0
  #maxEver = NaN
  #sorted: Float64Array | undefined
  readonly #onRecord: LatencyObserver | undefined

  /** `onRecord` sees every latency recorded (e.g. a metrics histogram), after the finite check. */
  constructor (options: { window?: number, onRecord?: LatencyObserver } = {}) {
    const window = options.window ?? DEFAULT_LATENCY_WINDOW
    if (!Number.isInteger(window) || window < 1) throw new InvalidClockOptionError(`latency window must be an integer ≥ 1 (got ${window})`)
    this.#ring = new Float64Array(window)
    this.#onRecord = options.onRecord
  }

  /** Record one latency, µs. Non-finite values are ignored. */
  record (latencyUs: number): void {
    if (!Number.isFinite(latencyUs)) return
    this.#onRecord?.(latencyUs)
    if (this.#size < this.#ring.length) this.#size++
    this.#ring[this.#next] = latencyUs
    this.#next = (this.#next + 1) % this.#ring.length
    this.#count++
    if (!(latencyUs <= this.#maxEver)) this.#maxEver = latencyUs
    this.#sorted = undefined
  }

  get count (): number {
    return this.#count
  }

  /**
   * The p-quantile (0 ≤ p ≤ 1) of the window, nearest rank; NaN when empty. Sorting is cached until the
   * next record, so asking for several percentiles costs one sort.
   */
  percentile (p: number): number {
    if (this.#size === 0) return NaN
    const sorted = this.#sortedWindow()
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))
    return sorted[rank]
  }

  snapshot (): LatencySnapshot {
    const empty = this.#size === 0
    const sorted = empty ? undefined : this.#sortedWindow()
    return {
      count: this.#count,
      window: this.#size,
      minUs: sorted?.[0] ?? NaN,
      meanUs: sorted === undefined ? NaN : sorted.reduce((a, b) => a + b, 0) / sorted.length,
      p50Us: this.percentile(0.5),
      p90Us: this.percentile(0.9),
      p99Us: this.percentile(0.99),
      maxUs: sorted?.[sorted.length - 1] ?? NaN,
      lastUs: empty ? NaN : this.#ring[(this.#next - 1 + this.#ring.length) % this.#ring.length],
      maxEverUs: this.#maxEver
    }
  }

  /** Forget the window (counts and all-time max are kept). */
  clearWindow (): void {
    this.#size = 0
    this.#next = 0
    this.#sorted = undefined
  }

  #sortedWindow (): Float64Array {
    if (this.#sorted === undefined) {
      this.#sorted = this.#ring.slice(0, this.#size).sort()
    }
    return this.#sorted
  }
}
