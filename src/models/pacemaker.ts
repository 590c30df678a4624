/**
 * Pacemaker source: each channel fires periodically. Spike k (k = 0, 1, ...) of channel c is at
 * anchor_c + (phase_c + k) · period_c, period_c = 10^6 / rate_c µs, computed by multiplication (no
 * accumulated rounding). The anchor is `startUs`; `setRate` re-anchors a channel so that its next spike
 * is one new period after its last spike (or at `timeUs` if that is later), keeping no phase.
 */
import { IndexedMinHeap } from './heap.ts'
import { checkChannels, checkNumber, isChannel, perChannel } from './params.ts'
import { ModelUsageError } from './errors.ts'
import type { EventSink, ModelDescription, ModelStats, PortSpec, SourceModel } from './index.ts'

export interface PacemakerInit {
  channels?: number
  /** Rate per channel, Hz (default 10). */
  rateHz?: number | readonly number[]
  /** Phase per channel as a fraction of the period, in [0, 1) (default 0: first spike at `startUs`). */
  phase?: number | readonly number[]
  startUs?: number
}

export class Pacemaker implements SourceModel {
  readonly output: PortSpec
  readonly inputs: readonly PortSpec[] = []
  readonly channels: number
  readonly #rate: Float64Array
  readonly #phase: Float64Array
  readonly #anchor: Float64Array
  readonly #k: Float64Array
  readonly #last: Float64Array
  readonly #heap: IndexedMinHeap
  #timeUs: number
  #spikes = 0

  constructor (init: PacemakerInit = {}) {
    const channels = this.channels = checkChannels('channels', init.channels ?? 1)
    this.#rate = perChannel('rateHz', init.rateHz ?? 10, channels, { min: 0, max: 1e6 })
    this.#phase = perChannel('phase', init.phase ?? 0, channels, { min: 0 })
    for (let c = 0; c < channels; c++) checkNumber(`phase[${c}]`, this.#phase[c], { max: 1 - Number.EPSILON })
    this.#timeUs = checkNumber('startUs', init.startUs ?? 0)
    this.#anchor = new Float64Array(channels).fill(this.#timeUs)
    this.#k = new Float64Array(channels)
    this.#last = new Float64Array(channels).fill(-Infinity)
    this.#heap = new IndexedMinHeap(channels)
    this.output = { name: 'spikes', kind: 'spike', channels }
    for (let c = 0; c < channels; c++) this.#schedule(c)
  }

  get timeUs (): number {
    return this.#timeUs
  }

  describe (): ModelDescription {
    let sum = 0
    for (const r of this.#rate) sum += r
    return { name: 'pacemaker', params: [['channels', this.channels, ''], ['rate', sum / this.channels, 'Hz']] }
  }

  stats (): ModelStats {
    return { spikes: this.#spikes }
  }

  /** Set the rate (Hz) of one channel, or of all when `channel` is omitted, from `timeUs` on. */
  setRate (hz: number, channel?: number): void {
    checkNumber('rateHz', hz, { min: 0, max: 1e6 })
    if (channel !== undefined && !isChannel(channel, this.channels)) throw new ModelUsageError('channel-out-of-range', `no channel ${channel}`)
    const from = channel ?? 0
    const to = channel ?? this.channels - 1
    for (let c = from; c <= to; c++) {
      this.#rate[c] = hz
      this.#phase[c] = 0
      this.#k[c] = 0
      this.#anchor[c] = hz > 0 ? Math.max(this.#last[c] + 1e6 / hz, this.#timeUs) : this.#timeUs
      this.#schedule(c)
    }
  }

  nextEventUs (): number {
    return this.#heap.peekPriority()
  }

  advanceTo (tUs: number, emit: EventSink): void {
    if (!Number.isFinite(tUs)) throw new ModelUsageError('invalid-time', `advanceTo needs a finite time, got ${tUs}`)
    for (;;) {
      const t = this.#heap.peekPriority()
      if (t > tUs) break
      const c = this.#heap.peekKey()
      this.#spikes++
      emit(c, t)
      this.#last[c] = t
      this.#k[c]++
      this.#schedule(c)
    }
    if (tUs > this.#timeUs) this.#timeUs = tUs
  }

  #schedule (c: number): void {
    const r = this.#rate[c]
    this.#heap.set(c, r > 0 ? this.#anchor[c] + (this.#phase[c] + this.#k[c]) * (1e6 / r) : Infinity)
  }
}
