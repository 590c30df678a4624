/**
 * The worker's side of one port: the events received since the page last asked, kept as the batches they
 * came in with each batch's offset to the local clock taken on arrival, and handed over as one set of typed
 * arrays. Bounded: when the page does not ask (a hidden tab has no animation frames), more than `cap`
 * pending events are not kept; they are counted as skipped and reported with the next answer. No DOM.
 */
import type { Batch } from '../codec/index.ts'
import { RING_EVENTS } from './port-view.ts'

export interface FeedChunk {
  skipped: number
  count: number
  times: Float64Array
  locals: Float64Array
  channels: Uint32Array
}

interface Pending {
  count: number
  times: Float64Array
  channels: Uint32Array
  /** Local time − node time for this batch's events. */
  offset: number
}

export class EventFeed {
  /** Events and batches received. */
  events = 0
  batches = 0
  readonly #cap: number
  #pending: Pending[] = []
  #count = 0
  #skipped = 0

  constructor (cap = RING_EVENTS) {
    this.#cap = cap
  }

  /**
   * Take a batch; `toLocal` maps the node's times to the local clock. It is asked once per batch, for the
   * batch's first event, and the other events keep that offset: the view's mapping is slewed (PeerTime), so
   * across a batch it moves by at most 500 ppm of the batch's span — under a microsecond for the node's 2 ms
   * flushes, against 5.5 ms per pixel of a 5 s raster.
   */
  add (batch: Batch, toLocal: (t: number) => number): void {
    const { count, times, channels } = batch
    this.events += count
    this.batches++
    if (count === 0) return
    this.#pending.push({ count, times, channels, offset: toLocal(times[0]) - times[0] })
    this.#count += count
    // Whole batches are let go from the front while the rest still holds `cap` events.
    while (this.#pending.length > 1 && this.#count - this.#pending[0].count >= this.#cap) {
      const old = this.#pending.shift()!
      this.#count -= old.count
      this.#skipped += old.count
    }
  }

  /** Events pending (kept) now. */
  get pending (): number {
    return this.#count
  }

  /** Everything pending, newest `cap` events at most, as fresh arrays (the caller may transfer them). */
  take (): FeedChunk {
    const keep = Math.min(this.#count, this.#cap)
    let drop = this.#count - keep
    const skipped = this.#skipped + drop
    const times = new Float64Array(keep)
    const locals = new Float64Array(keep)
    const channels = new Uint32Array(keep)
    let at = 0
    for (const p of this.#pending) {
      const from = Math.min(drop, p.count)
      drop -= from
      if (from === p.count) continue
      times.set(p.times.subarray(from, p.count), at)
      for (let i = from, j = at; i < p.count; i++, j++) locals[j] = p.times[i] + p.offset
      channels.set(p.channels.subarray(from, p.count), at)
      at += p.count - from
    }
    this.#pending = []
    this.#count = 0
    this.#skipped = 0
    return { skipped, count: keep, times, locals, channels }
  }
}
