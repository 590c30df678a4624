/**
 * What the page keeps of one port: the recent events (a bounded ring, for the raster and for the test hook
 * that counts events since a time), counts, and per-channel rates over the last whole second. No DOM.
 */

/** Events as they reach the page: a batch, or a worker's chunk with the times also in the local clock. */
export interface Events {
  count: number
  /** The node's times, µs. */
  times: Float64Array
  channels: Uint32Array
  /** The same times in the local clock, µs (default: as they are). */
  locals?: Float64Array
}

/** Events held for drawing; older ones are forgotten (never more memory than this). */
export const RING_EVENTS = 1 << 18

export class PortView {
  readonly port: string
  readonly channels: number
  /** Events and batches received. */
  events = 0
  batches = 0
  /** Event times (µs, the node's clock) and channels of the most recent events; event i sits at i % RING_EVENTS. */
  readonly times = new Float64Array(RING_EVENTS)
  /** The same times in the local clock (where the raster draws them). */
  readonly locals = new Float64Array(RING_EVENTS)
  readonly chans = new Uint32Array(RING_EVENTS)
  /** Events per second of each channel over the last whole second (zero before). */
  readonly rates: Float64Array
  #counts: Uint32Array
  #bucketStartUs: number | undefined
  /** Events before this index were never held (skipped before they reached the page). */
  #heldFrom = 0

  constructor (port: string, channels: number) {
    this.port = port
    this.channels = channels
    this.rates = new Float64Array(channels)
    this.#counts = new Uint32Array(channels)
  }

  /** Take events that arrived at local time `nowUs` (one batch). */
  add (batch: Events, nowUs: number): void {
    this.tick(nowUs)
    const { count, times, channels } = batch
    const locals = batch.locals ?? times
    let i = this.events
    for (let k = 0; k < count; k++, i++) {
      const slot = i % RING_EVENTS
      this.times[slot] = times[k]
      this.locals[slot] = locals[k]
      const c = channels[k]
      this.chans[slot] = c
      if (c < this.channels) this.#counts[c]++
    }
    this.events = i
    this.batches++
  }

  /** Count `n` events that were received but never reached the page (nothing older is held after them). */
  skip (n: number): void {
    if (n <= 0) return
    this.events += n
    this.#heldFrom = this.events
  }

  /** Close the rate bucket when a second has passed (called per batch and per frame). */
  tick (nowUs: number): void {
    if (this.#bucketStartUs === undefined) {
      this.#bucketStartUs = nowUs
      return
    }
    const elapsed = nowUs - this.#bucketStartUs
    if (elapsed < 1e6) return
    const stale = elapsed >= 2e6
    for (let c = 0; c < this.channels; c++) this.rates[c] = stale ? 0 : this.#counts[c] * 1e6 / elapsed
    this.#counts.fill(0)
    this.#bucketStartUs = nowUs
  }

  /** The index of the oldest event still held. */
  get oldest (): number {
    return Math.max(this.#heldFrom, this.events - RING_EVENTS)
  }

  /** Mean rate of the port over the last whole second, events/s. */
  get rate (): number {
    let sum = 0
    for (let c = 0; c < this.channels; c++) sum += this.rates[c]
    return sum
  }

  /**
   * Events held whose time is ≥ `timeUs`, or undefined when events that old may have been forgotten already
   * (the ring wrapped past them).
   */
  countSince (timeUs: number): number | undefined {
    let n = 0
    for (let i = this.events - 1; i >= this.oldest; i--) {
      if (this.times[i % RING_EVENTS] < timeUs) return n
      n++
    }
    return this.oldest === 0 ? n : undefined
  }
}
