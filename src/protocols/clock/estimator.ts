/**
 * Per-peer clock estimator: turns probe samples into an offset, a drift and an honest uncertainty.
 *
 * Model: offset(t) = θ(t) = server clock − client clock at client time t, linear in t over a sliding
 * window: θ(t) = θ0 + r·(t − t0), r the rate difference (drift, reported in ppm).
 *
 * 1. Clock filter (NTP): probes come in bursts; of each burst only the lowest-delay sample is kept, since
 *    its offset has the smallest possible error (≤ δ/2).
 * 2. Sliding window of the last `windowBursts` burst representatives, none older than `windowUs`.
 * 3. Robust fit (model.ts): weighted least squares over the window, weight 1/s² with
 *    s = (δ − δmin)/2 + a floor (the median excess, at least the noise floor); outliers (in units of s)
 *    rejected and the line refitted. If the residuals fail a runs test (the drift changed within the
 *    window), the oldest representatives are dropped until the line fits. While the slope is not known
 *    better than `maxDriftPpm` (too few samples, too short a span) a constant is fitted and the drift is
 *    taken as 0 ± maxDriftPpm.
 * 4. Uncertainty at time t, a bound meant to hold in ≥ 99 % of cases:
 *      δmin/2                         asymmetry bound: the best round trip could be split any way
 *    + t99 × fit standard error       scatter of the representatives around the line
 *    + driftUncertainty × distance    extrapolation: time from t to the nearest fitted sample
 * 5. Consistency and steps: each new burst is checked against the estimate made before it: the sample's
 *    own interval [θ − δ/2, θ + δ/2] must overlap the estimate's [θ̂ − u, θ̂ + u]. An inconsistent burst is
 *    kept aside; `stepBursts` inconsistent bursts in a row mean the peer's clock stepped (or the path
 *    changed) and replace the window. Any consistent burst discards the ones kept aside as outliers.
 *
 * Works the same whether the peer's clock is ahead, behind, or drifting: nothing assumes a sign.
 */
import { logger } from '@libp2p/logger'
import { InvalidClockOptionError } from './errors.ts'
import { fitModel, modelOffset, modelUncertainty } from './model.ts'
import type { ClockModel } from './model.ts'
import type { ClockSample } from './sample.ts'

const log = logger('spikewire:clock')

export interface ClockEstimate {
  /** Client (local) time the estimate refers to, µs. */
  atLocalUs: number
  /** θ: peer clock − local clock at `atLocalUs`, µs. A peer timestamp T maps to local time T − θ. */
  offsetUs: number
  /** Rate difference, ppm: positive when the peer's clock runs faster than the local one. */
  driftPpm: number
  /** Bound on the drift error, ppm. */
  driftUncertaintyPpm: number
  /** Bound on the offset error at `atLocalUs`, µs (Infinity before the first sample). */
  uncertaintyUs: number
  /** Best round trip (δmin) among the samples used, µs (Infinity before the first sample). */
  rttUs: number
  /** Number of burst representatives the fit used. */
  samples: number
  /** True once enough bursts are in and the drift is known well enough (see `convergeDriftPpm`). */
  converged: boolean
}

export interface ClockEstimatorOptions {
  /** A sample whose t1 is within this of the previous sample's t1 joins its burst. Default 50 ms. */
  burstGapUs?: number
  /** Burst representatives kept. Default 32. */
  windowBursts?: number
  /** Oldest representative kept, relative to the newest. Default 15 min. */
  windowUs?: number
  /** Error floor of a single sample (timestamp resolution, stamping noise), µs. Default 10. */
  noiseFloorUs?: number
  /** Largest plausible drift between two clocks, ppm: the prior before the drift is measured. Default 200. */
  maxDriftPpm?: number
  /** Drift uncertainty never reported below this (oscillator wander), ppm. Default 0.1. */
  driftFloorPpm?: number
  /** Bursts needed before `converged`. Default 4. */
  convergeBursts?: number
  /** Drift uncertainty needed before `converged`, ppm. Default 20. */
  convergeDriftPpm?: number
  /**
   * Longest expected time without a sample (the probe schedule's longest period), µs: a drift uncertainty
   * that adds less than δmin/2 over this long also counts as converged. Default 8 s.
   */
  convergeHorizonUs?: number
  /** Consecutive inconsistent bursts that mean a clock step. Default 3. */
  stepBursts?: number
  /** Outlier threshold in robust residual scales. Default 4. */
  outlierK?: number
}

/** What the estimator did with a sample. */
export interface SampleVerdict {
  /** The sample opened a new burst. */
  newBurst: boolean
  /** The sample's burst agrees with the estimate made before it (true for the first burst). */
  consistent: boolean
  /** This sample completed a run of inconsistent bursts and the window was replaced (a clock step). */
  step: boolean
}

interface Burst {
  id: number | undefined
  lastT1: number
  rep: ClockSample
  count: number
  consistent: boolean
}

function positive (name: string, v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new InvalidClockOptionError(`${name} must be a positive finite number (got ${v})`)
  return v
}

export class ClockEstimator extends EventTarget {
  readonly #burstGapUs: number
  readonly #windowBursts: number
  readonly #windowUs: number
  readonly #noiseFloorUs: number
  readonly #maxDrift: number
  readonly #driftFloor: number
  readonly #convergeBursts: number
  readonly #convergeDrift: number
  readonly #convergeHorizonUs: number
  readonly #stepBursts: number
  readonly #outlierK: number

  #window: Burst[] = []
  #suspect: Burst[] = []
  #open: Burst | undefined
  #reference: ClockModel | undefined
  #model: ClockModel | undefined
  #steps = 0
  #rejectedBursts = 0
  #totalSamples = 0

  constructor (options: ClockEstimatorOptions = {}) {
    super()
    this.#burstGapUs = positive('burstGapUs', options.burstGapUs ?? 50_000)
    this.#windowBursts = Math.max(1, Math.floor(positive('windowBursts', options.windowBursts ?? 32)))
    this.#windowUs = positive('windowUs', options.windowUs ?? 900_000_000)
    this.#noiseFloorUs = positive('noiseFloorUs', options.noiseFloorUs ?? 10)
    this.#maxDrift = positive('maxDriftPpm', options.maxDriftPpm ?? 200) * 1e-6
    this.#driftFloor = positive('driftFloorPpm', options.driftFloorPpm ?? 0.1) * 1e-6
    this.#convergeBursts = Math.max(1, Math.floor(positive('convergeBursts', options.convergeBursts ?? 4)))
    this.#convergeDrift = positive('convergeDriftPpm', options.convergeDriftPpm ?? 20) * 1e-6
    this.#convergeHorizonUs = positive('convergeHorizonUs', options.convergeHorizonUs ?? 8_000_000)
    this.#stepBursts = Math.max(1, Math.floor(positive('stepBursts', options.stepBursts ?? 3)))
    this.#outlierK = positive('outlierK', options.outlierK ?? 4)
  }

  /** Counters: samples added, clock steps detected, bursts discarded as inconsistent. */
  get counters (): { samples: number, steps: number, rejectedBursts: number } {
    return { samples: this.#totalSamples, steps: this.#steps, rejectedBursts: this.#rejectedBursts }
  }

  /**
   * Add one probe sample. Samples of one burst are grouped by `burst` when given, otherwise by time
   * (t1 within `burstGapUs` of the previous sample's t1). Emits 'estimate'.
   */
  addSample (sample: ClockSample, options: { burst?: number } = {}): SampleVerdict {
    this.#totalSamples++
    const open = this.#open
    const joins = open !== undefined && (options.burst !== undefined
      ? options.burst === open.id
      : Math.abs(sample.t1 - open.lastT1) <= this.#burstGapUs)
    let step = false
    let burst: Burst
    if (open !== undefined && joins) {
      burst = open
      burst.count++
      burst.lastT1 = Math.max(burst.lastT1, sample.t1)
      if (sample.delayUs < burst.rep.delayUs) burst.rep = sample
      if (!burst.consistent && this.#agrees(this.#reference, sample)) {
        // The burst now agrees with the estimate: it joins the window; earlier suspects were outliers.
        this.#suspect.pop()
        this.#rejectedBursts += this.#suspect.length
        this.#suspect = []
        burst.consistent = true
        this.#window.push(burst)
      }
    } else {
      this.#reference = this.#model
      burst = { id: options.burst, lastT1: sample.t1, rep: sample, count: 1, consistent: false }
      this.#open = burst
      if (this.#agrees(this.#reference, sample)) {
        burst.consistent = true
        this.#rejectedBursts += this.#suspect.length
        this.#suspect = []
        this.#window.push(burst)
      } else {
        this.#suspect.push(burst)
        if (this.#suspect.length >= this.#stepBursts) {
          step = true
          this.#steps++
          log('clock step: %d inconsistent bursts in a row, window replaced', this.#suspect.length)
          for (const b of this.#suspect) b.consistent = true
          this.#window = this.#suspect
          this.#suspect = []
        }
      }
    }
    this.#trim()
    this.#model = this.#fit()
    const estimate = this.estimate(sample.t4)
    this.dispatchEvent(new CustomEvent<ClockEstimate>('estimate', { detail: estimate }))
    return { newBurst: burst.count === 1, consistent: burst.consistent, step }
  }

  /** Subscribe to estimate changes; returns a function that unsubscribes. */
  onEstimate (fn: (estimate: ClockEstimate) => void): () => void {
    const listener = (evt: Event): void => { fn((evt as CustomEvent<ClockEstimate>).detail) }
    this.addEventListener('estimate', listener)
    return () => { this.removeEventListener('estimate', listener) }
  }

  /** The estimate at local time `atLocalUs`. Before any sample: offset 0, uncertainty Infinity. */
  estimate (atLocalUs: number): ClockEstimate {
    const m = this.#model
    if (m === undefined) {
      return {
        atLocalUs,
        offsetUs: 0,
        driftPpm: 0,
        driftUncertaintyPpm: this.#maxDrift * 1e6,
        uncertaintyUs: Infinity,
        rttUs: Infinity,
        samples: 0,
        converged: false
      }
    }
    return {
      atLocalUs,
      offsetUs: modelOffset(m, atLocalUs),
      driftPpm: m.b * 1e6,
      driftUncertaintyPpm: m.driftU * 1e6,
      uncertaintyUs: modelUncertainty(m, atLocalUs),
      rttUs: m.dminUs,
      samples: m.n,
      converged: this.#converged(m)
    }
  }

  /** Map a peer timestamp to local time (solves local = remote − θ(local)). */
  toLocal (remoteUs: number): { localUs: number, uncertaintyUs: number } {
    const m = this.#model
    if (m === undefined) return { localUs: remoteUs, uncertaintyUs: Infinity }
    const localUs = m.x0 + (remoteUs - m.x0 - m.y0 - m.a) / (1 + m.b)
    return { localUs, uncertaintyUs: modelUncertainty(m, localUs) }
  }

  /** Map a local timestamp to the peer's clock. */
  toRemote (localUs: number): { remoteUs: number, uncertaintyUs: number } {
    const m = this.#model
    if (m === undefined) return { remoteUs: localUs, uncertaintyUs: Infinity }
    return { remoteUs: localUs + modelOffset(m, localUs), uncertaintyUs: modelUncertainty(m, localUs) }
  }

  /** Forget all samples (e.g. after the peer restarted). */
  reset (): void {
    this.#window = []
    this.#suspect = []
    this.#open = undefined
    this.#reference = undefined
    this.#model = undefined
  }

  /**
   * Converged: enough bursts, and more probing at the fast rate would not help much. Either the drift is
   * known within `convergeDriftPpm`, or over `convergeHorizonUs` without a sample it would add no more than
   * the error already there (δmin/2 or the fit error, whichever is larger; on a slow or jittery path this
   * holds before the slope is measured), or the window is full (fast probing then only replaces samples;
   * backing off is what lengthens the window and pins the drift down).
   */
  #converged (m: ClockModel): boolean {
    if (m.n < this.#convergeBursts) return false
    if (m.driftU <= this.#convergeDrift || m.n >= this.#windowBursts) return true
    return m.driftU * this.#convergeHorizonUs <= Math.max(m.dminUs / 2, m.fitErr(m.xMax))
  }

  #agrees (m: ClockModel | undefined, s: ClockSample): boolean {
    if (m === undefined) return true
    const gap = Math.abs(s.offsetUs - modelOffset(m, s.atLocalUs))
    return gap <= s.delayUs / 2 + modelUncertainty(m, s.atLocalUs) + this.#noiseFloorUs
  }

  #trim (): void {
    const w = this.#window
    if (w.length === 0) return
    const newest = w[w.length - 1].rep.atLocalUs
    let drop = Math.max(0, w.length - this.#windowBursts)
    while (drop < w.length - 1 && newest - w[drop].rep.atLocalUs > this.#windowUs) drop++
    if (drop > 0) this.#window = w.slice(drop)
  }

  #fit (): ClockModel | undefined {
    if (this.#window.length === 0) return undefined
    const { model, drop } = fitModel(this.#window.map(b => b.rep), {
      noiseFloorUs: this.#noiseFloorUs,
      maxDrift: this.#maxDrift,
      driftFloor: this.#driftFloor,
      outlierK: this.#outlierK
    })
    if (drop > 0) {
      log('drift changed within the window: %d oldest bursts dropped', drop)
      this.#window = this.#window.slice(drop)
    }
    return model
  }
}
