/**
 * Everything a node knows about one peer's time, in one object: the clock sync with it (estimate), the
 * mapping of its timestamps to the local clock that playout, merge and latency use (slewed: it follows
 * refinements of the estimate without stepping), and the one-way latency of each of its streams.
 * The clock service owns one per peer and hands it to subscriptions, in ports, playout and merge.
 */
import type { Clock } from '../../base/clock.ts'
import type { Batch } from '../../codec/index.ts'
import { LatencyTracker } from './latency.ts'
import type { LatencyObserver, LatencySnapshot } from './latency.ts'
import { slewedMap } from './slewed-map.ts'
import type { SlewedMapOptions } from './slewed-map.ts'
import type { PeerClock } from './peer-clock.ts'
import type { ClockEstimate } from './estimator.ts'

export interface PeerTimeInit {
  /** Slew limits of the mapping. */
  slew?: SlewedMapOptions
  /** Most streams whose latency is tracked; further ones are counted in `untracked`. */
  maxStreams?: number
  /** Latency samples taken from one batch (spread over it), at most. */
  samplesPerBatch?: number
  /**
   * Called once per tracked stream when its tracker is created; the observer it returns sees every latency
   * that stream records (the node's metrics feed a histogram with it).
   */
  observe?: (peer: string, stream: string) => LatencyObserver | undefined
}

export class PeerTime {
  readonly peer: string
  /** The clock sync with this peer; undefined when the node runs without clock sync. */
  readonly sync: PeerClock | undefined
  readonly #clock: Clock
  readonly #map: (remoteUs: number) => number
  readonly #latency = new Map<string, LatencyTracker>()
  readonly #maxStreams: number
  readonly #perBatch: number
  readonly #observe: PeerTimeInit['observe']
  /** Streams refused a latency tracker because `maxStreams` were tracked already. */
  untracked = 0

  constructor (peer: string, clock: Clock, sync: PeerClock | undefined, init: PeerTimeInit = {}) {
    this.peer = peer
    this.sync = sync
    this.#clock = clock
    this.#maxStreams = init.maxStreams ?? 1024
    this.#perBatch = init.samplesPerBatch ?? 64
    this.#observe = init.observe
    this.#map = sync === undefined ? t => t : slewedMap(t => sync.toLocal(t).localUs, init.slew)
  }

  /** True once the clock sync has at least one sample (before, times map as they are). */
  get estimated (): boolean {
    return this.sync !== undefined && this.sync.estimator.estimate(this.#clock.nowUs()).samples > 0
  }

  /** The clock estimate now, or undefined without clock sync. */
  estimate (): ClockEstimate | undefined {
    return this.sync?.estimator.estimate(this.#clock.nowUs())
  }

  /** A timestamp of the peer's clock in the local clock (slewed mapping; identity before any estimate). */
  toLocal (remoteUs: number): number {
    return this.#map(remoteUs)
  }

  /** The latency tracker of one of the peer's streams (created on first use), or undefined past the bound. */
  latency (stream: string): LatencyTracker | undefined {
    let t = this.#latency.get(stream)
    if (t === undefined) {
      if (this.#latency.size >= this.#maxStreams) {
        this.untracked++
        return undefined
      }
      t = new LatencyTracker({ onRecord: this.#observe?.(this.peer, stream) })
      this.#latency.set(stream, t)
    }
    return t
  }

  /** Snapshots of every tracked stream whose name starts with `prefix`, keyed by the rest of the name. */
  latencies (prefix = ''): Record<string, LatencySnapshot> {
    const out: Record<string, LatencySnapshot> = {}
    for (const [k, t] of this.#latency) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = t.snapshot()
    return out
  }

  /**
   * Record the one-way latency (arrival − send time in the local clock) of a batch that just arrived on
   * `stream`, for up to `samplesPerBatch` of its events, once the clock is estimated (before, latency is
   * unknown). It maps with the estimate itself, not the slewed mapping: a measurement takes the best
   * estimate there is, while playout needs intervals that do not step.
   */
  record (stream: string, batch: Batch): void {
    if (batch.count === 0 || !this.estimated) return
    const tracker = this.latency(stream)
    if (tracker === undefined) return
    const sync = this.sync!
    const now = this.#clock.nowUs()
    const step = Math.ceil(batch.count / this.#perBatch)
    for (let i = batch.count - 1; i >= 0; i -= step) tracker.record(now - sync.toLocal(batch.times[i]).localUs)
  }
}
