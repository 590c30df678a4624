/**
 * Stimulation safety limits, enforced in front of any CultureDevice whatever the input:
 * - rate: on each electrode, a pulse closer than `minIntervalUs` to the previous delivered pulse is refused;
 * - charge: on each electrode, the first-phase charge of the pulses delivered in any sliding window of
 *   `chargeWindowUs` (the interval (t − window, t]) may not exceed `maxChargeNc`; a pulse that would exceed
 *   it is refused;
 * - invalid arguments (electrode out of range, non-finite time, amplitude outside 0..255) are refused.
 * Refused pulses reach neither the device nor the limits' history; they are only counted. Times are made
 * non-decreasing: a request earlier than the previous request or than the device's time is judged (and
 * delivered) at the later time.
 */
import { logger } from '@libp2p/logger'
import { checkNumber, isChannel } from './params.ts'
import { MAX_AMPLITUDE, pulseChargeNc } from './culture-device.ts'
import type { CultureDevice, RecordSink, StimulusOutcome, StimulusPulseShape } from './culture-device.ts'
import type { ModelDescription, ModelStats } from './index.ts'

const log = logger('spikewire:models:stim-guard')

export interface StimulationLimits {
  /** Minimum interval between delivered pulses on one electrode, µs (default 20 000: at most 50 Hz). */
  minIntervalUs?: number
  /** Length of the sliding charge window, µs (default 1 000 000). */
  chargeWindowUs?: number
  /** Charge budget per electrode per window, nC (default 20: ten full-scale pulses of the emulator's default shape). */
  maxChargeNc?: number
}

export interface StimulationCounters {
  delivered: number
  refusedInvalid: number
  refusedRate: number
  refusedCharge: number
  refusedDevice: number
  /** Total first-phase charge delivered, nC. */
  chargeNc: number
}

export class StimulationGuard implements CultureDevice {
  readonly device: CultureDevice
  readonly electrodes: number
  readonly pulse: StimulusPulseShape
  readonly minIntervalUs: number
  readonly chargeWindowUs: number
  readonly maxChargeNc: number
  /** Present when the device knows its next spike time in advance. */
  readonly nextEventUs?: () => number
  readonly counters: StimulationCounters = { delivered: 0, refusedInvalid: 0, refusedRate: 0, refusedCharge: 0, refusedDevice: 0, chargeNc: 0 }
  readonly #last: Float64Array
  readonly #winT: number[][]
  readonly #winQ: number[][]
  readonly #winSum: Float64Array
  #lastStimUs = -Infinity

  constructor (device: CultureDevice, limits: StimulationLimits = {}) {
    this.device = device
    this.electrodes = device.electrodes
    this.pulse = device.pulse
    if (device.nextEventUs !== undefined) this.nextEventUs = () => device.nextEventUs?.() ?? Infinity
    this.minIntervalUs = checkNumber('minIntervalUs', limits.minIntervalUs ?? 20_000, { min: 0 })
    this.chargeWindowUs = checkNumber('chargeWindowUs', limits.chargeWindowUs ?? 1_000_000, { above: 0 })
    this.maxChargeNc = checkNumber('maxChargeNc', limits.maxChargeNc ?? 20, { above: 0 })
    this.#last = new Float64Array(this.electrodes).fill(-Infinity)
    this.#winT = Array.from({ length: this.electrodes }, () => [])
    this.#winQ = Array.from({ length: this.electrodes }, () => [])
    this.#winSum = new Float64Array(this.electrodes)
  }

  get timeUs (): number {
    return this.device.timeUs
  }

  describe (): ModelDescription {
    const d = this.device.describe()
    return {
      name: d.name,
      params: [
        ...d.params,
        ['stim_min_interval', this.minIntervalUs / 1000, 'ms'],
        ['stim_charge_window', this.chargeWindowUs / 1000, 'ms'],
        ['stim_max_charge', this.maxChargeNc, 'nC']
      ]
    }
  }

  stats (): ModelStats {
    return { ...this.device.stats(), ...this.counters }
  }

  /** Charge delivered on `electrode` in the window ending at `timeUs` (nC). */
  chargeInWindow (electrode: number, timeUs: number): number {
    this.#expire(electrode, timeUs)
    return this.#winSum[electrode]
  }

  stimulate (electrode: number, timeUs: number, amplitude: number): StimulusOutcome {
    if (!isChannel(electrode, this.electrodes) || !Number.isFinite(timeUs) ||
      typeof amplitude !== 'number' || !(amplitude >= 0 && amplitude <= MAX_AMPLITUDE)) {
      this.counters.refusedInvalid++
      return { delivered: false, reason: 'invalid', timeUs, chargeNc: 0 }
    }
    const t = Math.max(timeUs, this.#lastStimUs, this.device.timeUs)
    this.#lastStimUs = t
    const q = pulseChargeNc(this.pulse, amplitude)
    if (t - this.#last[electrode] < this.minIntervalUs) {
      this.counters.refusedRate++
      log('electrode %d: pulse at %d refused (rate)', electrode, t)
      return { delivered: false, reason: 'rate', timeUs: t, chargeNc: q }
    }
    if (this.chargeInWindow(electrode, t) + q > this.maxChargeNc * (1 + 1e-12)) {
      this.counters.refusedCharge++
      log('electrode %d: pulse at %d refused (charge)', electrode, t)
      return { delivered: false, reason: 'charge', timeUs: t, chargeNc: q }
    }
    const out = this.device.stimulate(electrode, t, amplitude)
    if (!out.delivered) {
      this.counters.refusedDevice++
      return out
    }
    this.#last[electrode] = out.timeUs
    if (q > 0) {
      this.#winT[electrode].push(out.timeUs)
      this.#winQ[electrode].push(q)
      this.#winSum[electrode] += q
    }
    this.counters.delivered++
    this.counters.chargeNc += q
    return out
  }

  advanceTo (tUs: number, record: RecordSink): void {
    this.device.advanceTo(tUs, record)
  }

  /** Drop pulses that left the window (t − window, t]; recompute the sum from the rest to avoid drift. */
  #expire (e: number, t: number): void {
    const ts = this.#winT[e]
    let k = 0
    while (k < ts.length && ts[k] <= t - this.chargeWindowUs) k++
    if (k === 0) return
    ts.splice(0, k)
    this.#winQ[e].splice(0, k)
    let sum = 0
    for (const q of this.#winQ[e]) sum += q
    this.#winSum[e] = sum
  }
}
