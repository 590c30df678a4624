/**
 * A software stand-in for a culture of neurons on an electrode chip; implements CultureDevice.
 *
 * - Spontaneous activity: an independent Poisson process per electrode (default 1 Hz).
 * - Evoked activity: a delivered pulse of amplitude code w (0..255) evokes one action potential on the same
 *   electrode with probability
 *       P(w) = pMax / (1 + exp(−(w − w50) / slope))        (defaults pMax 0.9, w50 128, slope 20)
 *   after a latency drawn from a normal distribution (mean 10 ms, sd 2.5 ms) truncated to [5, 15] ms by
 *   redrawing. Evoked spikes are reported with origin 'evoked', the others 'spontaneous'.
 * - No refractoriness or interaction between electrodes or between spontaneous and evoked spikes.
 * - Spontaneous and stimulation draws use separate sub-streams of the seed, so stimulating does not change
 *   the spontaneous train.
 * This emulator enforces no safety limit: wrap it in StimulationGuard (culture.ts does).
 */
import { TimeHeap } from './heap.ts'
import { Poisson } from './poisson.ts'
import { Prng } from '../base/prng.ts'
import { checkChannels, checkNumber, isChannel } from './params.ts'
import { ModelParamError, ModelUsageError } from './errors.ts'
import { MAX_AMPLITUDE, pulseChargeNc } from './culture-device.ts'
import type { CultureDevice, RecordSink, StimulusOutcome, StimulusPulseShape } from './culture-device.ts'
import type { ModelDescription, ModelStats } from './index.ts'

export interface CultureEmulatorInit {
  /** Electrodes (default 16). */
  electrodes?: number
  /** Spontaneous rate per electrode, Hz (default 1). */
  spontaneousHz?: number | readonly number[]
  /** Evoked probability at saturation (default 0.9). */
  pMax?: number
  /** Amplitude code at half of pMax (default 128). */
  w50?: number
  /** Sigmoid slope, amplitude codes (default 20). */
  slope?: number
  latencyMeanMs?: number
  latencySdMs?: number
  latencyMinMs?: number
  latencyMaxMs?: number
  /** Phase width of the stimulation pulse, µs (default 200). */
  pulseWidthUs?: number
  /** Current at amplitude 255, µA (default 10; a full-scale pulse then carries 2 nC). */
  fullScaleUa?: number
  seed?: number
  startUs?: number
}

/** P(evoked action potential | amplitude w) of the emulator, for the given parameters. */
export function evokedProbability (w: number, pMax = 0.9, w50 = 128, slope = 20): number {
  return pMax / (1 + Math.exp(-(w - w50) / slope))
}

export class CultureEmulator implements CultureDevice {
  readonly electrodes: number
  readonly pulse: StimulusPulseShape
  readonly seed: number
  readonly #p: { pMax: number, w50: number, slope: number, latMean: number, latSd: number, latMin: number, latMax: number }
  readonly #spont: Poisson
  readonly #rng: Prng
  readonly #evoked = new TimeHeap()
  #timeUs: number
  #lastStimUs = -Infinity
  #stimuli = 0
  #evokedCount = 0
  #spontCount = 0

  constructor (init: CultureEmulatorInit = {}) {
    this.electrodes = checkChannels('electrodes', init.electrodes ?? 16)
    this.seed = init.seed ?? 0
    const root = new Prng(this.seed)
    this.#rng = root.fork(2)
    this.#timeUs = checkNumber('startUs', init.startUs ?? 0)
    this.#spont = new Poisson({
      channels: this.electrodes,
      rateHz: init.spontaneousHz ?? 1,
      seed: root.fork(1).nextUint32(),
      startUs: this.#timeUs
    })
    this.#p = {
      pMax: checkNumber('pMax', init.pMax ?? 0.9, { min: 0, max: 1 }),
      w50: checkNumber('w50', init.w50 ?? 128),
      slope: checkNumber('slope', init.slope ?? 20, { above: 0 }),
      latMean: checkNumber('latencyMeanMs', init.latencyMeanMs ?? 10, { min: 0 }),
      latSd: checkNumber('latencySdMs', init.latencySdMs ?? 2.5, { min: 0 }),
      latMin: checkNumber('latencyMinMs', init.latencyMinMs ?? 5, { min: 0 }),
      latMax: checkNumber('latencyMaxMs', init.latencyMaxMs ?? 15, { min: 0 })
    }
    const p = this.#p
    if (!(p.latMin <= p.latMean && p.latMean <= p.latMax)) throw new ModelParamError('latencyMeanMs', 'must lie in [latencyMinMs, latencyMaxMs]')
    this.pulse = {
      widthUs: checkNumber('pulseWidthUs', init.pulseWidthUs ?? 200, { above: 0 }),
      fullScaleUa: checkNumber('fullScaleUa', init.fullScaleUa ?? 10, { above: 0 })
    }
  }

  get timeUs (): number {
    return this.#timeUs
  }

  describe (): ModelDescription {
    const p = this.#p
    let sum = 0
    for (let e = 0; e < this.electrodes; e++) sum += this.#spont.rate(e)
    return {
      name: 'culture-emulator',
      params: [
        ['electrodes', this.electrodes, ''],
        ['spontaneous_rate', sum / this.electrodes, 'Hz'],
        ['p_max', p.pMax, ''],
        ['w50', p.w50, ''],
        ['slope', p.slope, ''],
        ['latency_mean', p.latMean, 'ms'],
        ['latency_sd', p.latSd, 'ms'],
        ['latency_min', p.latMin, 'ms'],
        ['latency_max', p.latMax, 'ms'],
        ['pulse_width', this.pulse.widthUs, 'us'],
        ['full_scale', this.pulse.fullScaleUa, 'uA'],
        ['seed', this.seed, '']
      ]
    }
  }

  stats (): ModelStats {
    return { stimuli: this.#stimuli, evoked: this.#evokedCount, spontaneous: this.#spontCount, pendingEvoked: this.#evoked.length }
  }

  /** P(evoked | amplitude) with this emulator's parameters. */
  evokedProbability (amplitude: number): number {
    return evokedProbability(amplitude, this.#p.pMax, this.#p.w50, this.#p.slope)
  }

  stimulate (electrode: number, timeUs: number, amplitude: number): StimulusOutcome {
    if (!isChannel(electrode, this.electrodes) || !Number.isFinite(timeUs) ||
      typeof amplitude !== 'number' || !(amplitude >= 0 && amplitude <= MAX_AMPLITUDE)) {
      return { delivered: false, reason: 'invalid', timeUs, chargeNc: 0 }
    }
    const t = Math.max(timeUs, this.#timeUs, this.#lastStimUs)
    this.#lastStimUs = t
    this.#stimuli++
    if (this.#rng.next() < this.evokedProbability(amplitude)) {
      this.#evoked.push(t + this.#latencyUs(), electrode)
    }
    return { delivered: true, timeUs: t, chargeNc: pulseChargeNc(this.pulse, amplitude) }
  }

  nextEventUs (): number {
    return Math.min(this.#spont.nextEventUs(), this.#evoked.peekTime())
  }

  advanceTo (tUs: number, record: RecordSink): void {
    if (!Number.isFinite(tUs)) throw new ModelUsageError('invalid-time', `advanceTo needs a finite time, got ${tUs}`)
    const spont = (e: number, t: number): void => {
      this.#spontCount++
      record(e, t, 'spontaneous')
    }
    for (;;) {
      const ts = this.#spont.nextEventUs()
      const te = this.#evoked.peekTime()
      if (ts > tUs && te > tUs) break
      if (ts <= te) {
        this.#spont.advanceTo(ts, spont)
      } else {
        const e = this.#evoked.peekChannel()
        this.#evoked.pop()
        this.#evokedCount++
        record(e, te, 'evoked')
      }
    }
    this.#spont.advanceTo(tUs, spont)
    if (tUs > this.#timeUs) this.#timeUs = tUs
  }

  /** Latency of an evoked spike, µs: normal(mean, sd) redrawn until inside [min, max] (clamped after 64 tries). */
  #latencyUs (): number {
    const p = this.#p
    let x = p.latMean
    for (let i = 0; i < 64; i++) {
      x = this.#rng.normal(p.latMean, p.latSd)
      if (x >= p.latMin && x <= p.latMax) break
    }
    return Math.min(Math.max(x, p.latMin), p.latMax) * 1000
  }
}
