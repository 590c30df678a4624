/**
 * The playout delay D of a stream: fixed, synaptic (a declared axonal/synaptic delay), or adaptive.
 *
 * Adaptive: D follows target = (a high percentile of the observed latency) + margin, recomputed at most
 * every `retargetEveryUs`, and moves toward it at a bounded slew. The slew is measured against event time
 * (mapped to the local clock), not arrival time, so the interval between two consecutive events is
 * stretched or shrunk by at most slew × that interval, however the arrivals bunch up. D rises as soon as
 * the target is above it; it falls only once it is more than `hysteresisUs` above the target, so that a
 * target wandering by less than that leaves D, and the intervals, untouched.
 */
import { check } from './check.ts'
import type { LatencyTracker } from '../protocols/clock/latency.ts'

export interface FixedDelay { mode: 'fixed', us: number }
export interface SynapticDelay { mode: 'synaptic', us: number }
export interface AdaptiveDelay {
  mode: 'adaptive'
  /** Latency percentile tracked, 0..1. Default 0.999. */
  percentile?: number
  /** Added to the percentile, µs. Default 2000. */
  marginUs?: number
  /** Starting D, µs. Default: the first event's latency + margin. */
  initialUs?: number
  /** Bounds of D, µs. Defaults 0 and 10 s. */
  minUs?: number
  maxUs?: number
  /**
   * Largest rate of increase of D, µs per µs of event time. Default 0.01 (10 ms per s): a change of D
   * stretches the interval between two events by at most this fraction of it (0.1 ms for a 10 ms interval).
   */
  slewUp?: number
  /** Largest rate of decrease of D. Default 0.01 (10 ms per s). */
  slewDown?: number
  /**
   * D only starts to decrease once it is this far above the target, µs, and then goes down to the target:
   * small dips of the target leave D (and the intervals) alone. Default 1000.
   */
  hysteresisUs?: number
  /** The target is recomputed at most this often, µs of local time. Default 100 ms. */
  retargetEveryUs?: number
}
export type PlayoutDelay = FixedDelay | SynapticDelay | AdaptiveDelay

export class DelayController {
  readonly mode: PlayoutDelay['mode']
  readonly #percentile: number
  readonly #margin: number
  readonly #lo: number
  readonly #hi: number
  readonly #up: number
  readonly #down: number
  readonly #every: number
  readonly #hysteresis: number
  #falling = false
  #d: number | undefined
  #target: number | undefined
  #lastMappedUs = NaN
  #nextRetargetUs = -Infinity

  constructor (delay: PlayoutDelay) {
    this.mode = delay.mode
    if (delay.mode === 'fixed' || delay.mode === 'synaptic') {
      check(delay.us >= 0 && Number.isFinite(delay.us), `delay must be a finite number ≥ 0 µs (got ${delay.us})`)
      this.#d = this.#target = delay.us
    } else {
      check(delay.mode === 'adaptive', `unknown delay mode ${(delay as { mode: string }).mode}`)
    }
    const a: Partial<AdaptiveDelay> = delay.mode === 'adaptive' ? delay : {}
    this.#percentile = a.percentile ?? 0.999
    this.#margin = a.marginUs ?? 2000
    this.#lo = a.minUs ?? 0
    this.#hi = a.maxUs ?? 10_000_000
    this.#up = a.slewUp ?? 0.01
    this.#down = a.slewDown ?? 0.01
    this.#every = a.retargetEveryUs ?? 100_000
    this.#hysteresis = a.hysteresisUs ?? 1000
    check(this.#hysteresis >= 0 && Number.isFinite(this.#hysteresis), `hysteresisUs must be a finite number ≥ 0 (got ${this.#hysteresis})`)
    check(this.#percentile > 0 && this.#percentile <= 1, `percentile must be in (0, 1] (got ${this.#percentile})`)
    check(this.#lo <= this.#hi, 'minUs must not exceed maxUs')
    check(this.#up > 0 && this.#down > 0, 'slew rates must be > 0')
    if (a.initialUs !== undefined) {
      check(a.initialUs >= 0, `initialUs must be ≥ 0 (got ${a.initialUs})`)
      this.#d = a.initialUs
    }
  }

  /** Current D, µs (NaN in adaptive mode before the first event, without initialUs). */
  get delayUs (): number {
    return this.#d ?? NaN
  }

  get targetUs (): number {
    return this.#target ?? NaN
  }

  /** D for an event at `mappedUs` arriving at `nowUs`; `latency` already holds this event's latency. */
  next (nowUs: number, mappedUs: number, latency: LatencyTracker): number {
    if (this.mode !== 'adaptive') return this.#d as number
    const clamp = (v: number): number => Math.min(this.#hi, Math.max(this.#lo, v))
    if (this.#d === undefined) this.#d = clamp(nowUs - mappedUs + this.#margin)
    if (nowUs >= this.#nextRetargetUs) {
      this.#target = clamp(latency.percentile(this.#percentile) + this.#margin)
      this.#nextRetargetUs = nowUs + this.#every
    }
    const dt = Number.isNaN(this.#lastMappedUs) ? 0 : Math.max(0, mappedUs - this.#lastMappedUs)
    if (!(mappedUs <= this.#lastMappedUs)) this.#lastMappedUs = mappedUs
    const target = this.#target as number
    if (target >= this.#d) this.#falling = false
    else if (this.#d - target > this.#hysteresis) this.#falling = true
    if (target > this.#d) this.#d += Math.min(this.#up * dt, target - this.#d)
    else if (this.#falling) this.#d -= Math.min(this.#down * dt, this.#d - target)
    return this.#d
  }
}
