/**
 * Pair-based STDP with exponential windows, nearest-spike pairing: each post-synaptic spike pairs with the
 * most recent pre-synaptic spike and each pre-synaptic spike with the most recent post-synaptic spike.
 *
 *   Δt = t_post − t_pre
 *   on a post spike, Δt ≥ 0 (pre before post):  potentiation of size A+ · e^(−Δt/τ+)
 *   on a pre spike,  Δt ≤ 0 (post before pre):  depression   of size A− · e^(−|Δt|/τ−)
 *
 * Defaults follow the 2020 variant's windows: τ+ = 100 ms, τ− = 37.5 ms, A+ = A− = 1. A size is a fraction
 * of one full programming pulse (±4 V, 100 µs) and is turned into a pulse by `mapping`:
 * - 'width' (default): one pulse of full amplitude and width size · 100 µs, so the device change follows the
 *   exponential window (the memristor's change is proportional to the width); sizes giving less than
 *   `minWidthUs` (1 µs) send nothing — with the defaults, pairs further apart than 4.6 τ.
 * - 'fixed': one full pulse whenever |Δt| ≤ τ (the 2020 hard windows), nothing otherwise; A± ignored.
 */
import { checkNumber } from './params.ts'
import { ModelParamError } from './errors.ts'
import type { ModelParam, PlasticityRule, Pulse } from './index.ts'

export interface StdpRuleInit {
  aPlus?: number
  aMinus?: number
  /** τ+, ms (default 100). */
  tauPlusMs?: number
  /** τ−, ms (default 37.5). */
  tauMinusMs?: number
  mapping?: 'width' | 'fixed'
  /** Full pulse amplitude, V (default 4). */
  pulseV?: number
  /** Full pulse width, µs (default 100). */
  widthUs?: number
  /** Shortest pulse sent, µs (default 1). */
  minWidthUs?: number
}

export class StdpRule implements PlasticityRule {
  readonly name = 'stdp'
  readonly aPlus: number
  readonly aMinus: number
  readonly tauPlusUs: number
  readonly tauMinusUs: number
  readonly mapping: 'width' | 'fixed'
  readonly pulseV: number
  readonly widthUs: number
  readonly minWidthUs: number
  #lastPre = -Infinity
  #lastPost = -Infinity

  constructor (init: StdpRuleInit = {}) {
    this.aPlus = checkNumber('aPlus', init.aPlus ?? 1, { min: 0, max: 100 })
    this.aMinus = checkNumber('aMinus', init.aMinus ?? 1, { min: 0, max: 100 })
    this.tauPlusUs = checkNumber('tauPlusMs', init.tauPlusMs ?? 100, { above: 0 }) * 1000
    this.tauMinusUs = checkNumber('tauMinusMs', init.tauMinusMs ?? 37.5, { above: 0 }) * 1000
    this.mapping = init.mapping ?? 'width'
    if (this.mapping !== 'width' && this.mapping !== 'fixed') throw new ModelParamError('mapping', 'must be width or fixed')
    this.pulseV = checkNumber('pulseV', init.pulseV ?? 4, { above: 0 })
    this.widthUs = checkNumber('widthUs', init.widthUs ?? 100, { above: 0 })
    this.minWidthUs = checkNumber('minWidthUs', init.minWidthUs ?? 1, { min: 0 })
  }

  params (): ModelParam[] {
    return [
      ['A_plus', this.aPlus, ''],
      ['A_minus', this.aMinus, ''],
      ['tau_plus', this.tauPlusUs / 1000, 'ms'],
      ['tau_minus', this.tauMinusUs / 1000, 'ms'],
      ['fixed_pulses', this.mapping === 'fixed' ? 1 : 0, ''],
      ['pulse_amplitude', this.pulseV, 'V'],
      ['pulse_width', this.widthUs, 'us']
    ]
  }

  /** Signed size of the change for a pair at Δt = t_post − t_pre (positive: potentiation). */
  size (dtUs: number): number {
    return dtUs >= 0 ? this.aPlus * Math.exp(-dtUs / this.tauPlusUs) : -this.aMinus * Math.exp(dtUs / this.tauMinusUs)
  }

  onPre (timeUs: number): Pulse | undefined {
    this.#lastPre = timeUs
    if (this.#lastPost === -Infinity) return undefined
    return this.#pulse(this.#lastPost - timeUs, -1)
  }

  onPost (timeUs: number): Pulse | undefined {
    this.#lastPost = timeUs
    if (this.#lastPre === -Infinity) return undefined
    return this.#pulse(timeUs - this.#lastPre, 1)
  }

  #pulse (dtUs: number, sign: 1 | -1): Pulse | undefined {
    if (this.mapping === 'fixed') {
      const tau = sign > 0 ? this.tauPlusUs : this.tauMinusUs
      return Math.abs(dtUs) <= tau ? { voltageV: sign * this.pulseV, widthUs: this.widthUs } : undefined
    }
    const d = Math.abs(dtUs)
    const size = sign > 0 ? this.aPlus * Math.exp(-d / this.tauPlusUs) : this.aMinus * Math.exp(-d / this.tauMinusUs)
    const width = size * this.widthUs
    return width >= this.minWidthUs && width > 0 ? { voltageV: sign * this.pulseV, widthUs: width } : undefined
  }
}
