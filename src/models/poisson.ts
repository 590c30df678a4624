/**
 * Poisson spike source: `channels` independent homogeneous Poisson processes. Each channel's next spike is
 * drawn as the previous one plus an exponential interval (mean 1/rate); a heap merges the channels in time
 * order. All draws come from one seeded generator in event order, so a seed fixes the whole train.
 * Changing a rate takes effect at `timeUs` (the process is memoryless, so the channel's pending draw is
 * simply replaced).
 */
import { IndexedMinHeap } from './heap.ts'
import { Prng } from '../base/prng.ts'
import { checkChannels, checkNumber, isChannel, perChannel } from './params.ts'
import { ModelUsageError } from './errors.ts'
import type { EventSink, ModelDescription, ModelStats, PortSpec, SourceModel } from './index.ts'

export interface PoissonInit {
  channels?: number
  /** Rate per channel, Hz (default 10). One number for all channels or one per channel. */
  rateHz?: number | readonly number[]
  /** PRNG seed, integer (default 0). */
  seed?: number
  /** Start time, µs (default 0). */
  startUs?: number
  /** Largest rate accepted, Hz (default 100 000). */
  maxRateHz?: number
}

export class Poisson implements SourceModel {
  readonly output: PortSpec
  readonly inputs: readonly PortSpec[] = []
  readonly channels: number
  readonly seed: number
  readonly #maxRateHz: number
  readonly #rate: Float64Array
  readonly #heap: IndexedMinHeap
  readonly #rng: Prng
  #timeUs: number
  #spikes = 0

  constructor (init: PoissonInit = {}) {
    const channels = this.channels = checkChannels('channels', init.channels ?? 1)
    this.seed = init.seed ?? 0
    this.#rng = new Prng(this.seed)
    this.#maxRateHz = checkNumber('maxRateHz', init.maxRateHz ?? 100_000, { above: 0 })
    this.#rate = perChannel('rateHz', init.rateHz ?? 10, channels, { min: 0, max: this.#maxRateHz })
    this.#timeUs = checkNumber('startUs', init.startUs ?? 0)
    this.#heap = new IndexedMinHeap(channels)
    this.output = { name: 'spikes', kind: 'spike', channels }
    for (let c = 0; c < channels; c++) this.#draw(c, this.#timeUs)
  }

  get timeUs (): number {
    return this.#timeUs
  }

  describe (): ModelDescription {
    let sum = 0
    for (const r of this.#rate) sum += r
    return {
      name: 'poisson',
      params: [['channels', this.channels, ''], ['rate', sum / this.channels, 'Hz'], ['seed', this.seed, '']]
    }
  }

  stats (): ModelStats {
    return { spikes: this.#spikes }
  }

  rate (channel: number): number {
    return this.#rate[channel]
  }

  /** Set the rate (Hz) of one channel, or of all when `channel` is omitted, from `timeUs` on. */
  setRate (hz: number, channel?: number): void {
    checkNumber('rateHz', hz, { min: 0, max: this.#maxRateHz })
    if (channel !== undefined && !isChannel(channel, this.channels)) throw new ModelUsageError('channel-out-of-range', `no channel ${channel}`)
    const from = channel ?? 0
    const to = channel ?? this.channels - 1
    for (let c = from; c <= to; c++) {
      this.#rate[c] = hz
      this.#draw(c, this.#timeUs)
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
      this.#draw(c, t)
    }
    if (tUs > this.#timeUs) this.#timeUs = tUs
  }

  #draw (c: number, fromUs: number): void {
    const r = this.#rate[c]
    this.#heap.set(c, r > 0 ? fromUs + this.#rng.exponential(r) * 1e6 : Infinity)
  }
}
