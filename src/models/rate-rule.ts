/**
 * The 2020 spike-rate-dependent rule (Serb et al. 2020, Southampton hub): when a post-synaptic spike
 * arrives, count the pre-synaptic spikes in the last second (pre times in (t_post − window, t_post]),
 * looking at most at the last 100 of them. More than 20 → one potentiating pulse (+4 V, 100 µs); fewer than
 * 5 → one depressing pulse (−4 V, 100 µs); otherwise nothing. Pre-synaptic spikes only update the count.
 */
import { checkNumber } from './params.ts'
import type { ModelParam, PlasticityRule, Pulse } from './index.ts'

export interface RateRuleInit {
  /** Counting window, µs (default 1 000 000). */
  windowUs?: number
  /** Most recent pre-synaptic spikes kept (default 100). */
  maxCount?: number
  /** Potentiate when the count is above this (default 20). */
  highCount?: number
  /** Depress when the count is below this (default 5). */
  lowCount?: number
  /** Pulse amplitude, V (default 4; potentiation +, depression −). */
  pulseV?: number
  /** Pulse width, µs (default 100). */
  widthUs?: number
}

export class RateRule implements PlasticityRule {
  readonly name = 'rate'
  readonly windowUs: number
  readonly maxCount: number
  readonly highCount: number
  readonly lowCount: number
  readonly pulseV: number
  readonly widthUs: number
  readonly #ring: Float64Array
  #n = 0
  #head = 0

  constructor (init: RateRuleInit = {}) {
    this.windowUs = checkNumber('windowUs', init.windowUs ?? 1_000_000, { above: 0 })
    this.maxCount = checkNumber('maxCount', init.maxCount ?? 100, { min: 1, max: 1_000_000, integer: true })
    this.highCount = checkNumber('highCount', init.highCount ?? 20, { min: 0 })
    this.lowCount = checkNumber('lowCount', init.lowCount ?? 5, { min: 0, max: this.highCount })
    this.pulseV = checkNumber('pulseV', init.pulseV ?? 4, { above: 0 })
    this.widthUs = checkNumber('widthUs', init.widthUs ?? 100, { above: 0 })
    this.#ring = new Float64Array(this.maxCount)
  }

  params (): ModelParam[] {
    return [
      ['rate_window', this.windowUs / 1000, 'ms'],
      ['rate_max_count', this.maxCount, ''],
      ['rate_high', this.highCount, ''],
      ['rate_low', this.lowCount, ''],
      ['pulse_amplitude', this.pulseV, 'V'],
      ['pulse_width', this.widthUs, 'us']
    ]
  }

  /** Pre-synaptic spikes (among the last `maxCount`) in (t − window, t]. */
  count (timeUs: number): number {
    let n = 0
    for (let i = 0; i < this.#n; i++) {
      const t = this.#ring[(this.#head - 1 - i + this.maxCount) % this.maxCount]
      if (t <= timeUs - this.windowUs) break
      if (t <= timeUs) n++
    }
    return n
  }

  onPre (timeUs: number): undefined {
    this.#ring[this.#head] = timeUs
    this.#head = (this.#head + 1) % this.maxCount
    if (this.#n < this.maxCount) this.#n++
    return undefined
  }

  onPost (timeUs: number): Pulse | undefined {
    const n = this.count(timeUs)
    if (n > this.highCount) return { voltageV: this.pulseV, widthUs: this.widthUs }
    if (n < this.lowCount) return { voltageV: -this.pulseV, widthUs: this.widthUs }
    return undefined
  }
}
