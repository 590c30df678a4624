/**
 * Where received batches wait for the application: delivered to listeners at once, and to an async
 * iterator through a queue bounded in batches and in bytes. When the queue is full:
 * - with an iterator reading (or the `pause` policy, a subscription's), the feeding streams are paused:
 *   read backpressure reaches the sender, which drops and reports losses (spec §9.2.9); they resume
 *   when the queue has half emptied;
 * - with nobody reading and the `drop` policy (an `in` port, which may have no application at all), the
 *   batches that arrive while it is full are dropped and counted (`stats.dropped…`) and no stream is ever
 *   paused, so a port without a reader never wedges its pushers; a reader that comes later gets what is
 *   queued, then the rest as it arrives. Dropping the arriving batch (not the oldest queued) lets the
 *   receiver know before decoding that a batch will be dropped (`dropsNext`): it then checks the batch in
 *   reused buffers, so a flood into a port nobody reads allocates nothing per batch. An iterator that stops
 *   reading ends its pause, and its queue is cut to the bounds (the oldest batches dropped).
 */
import type { Batch } from '../codec/index.ts'
import { logger } from '@libp2p/logger'
import { DEFAULTS, LIMITS } from './defaults.ts'

const log = logger('spikewire:inbox')

/** A batch with where it came from. */
export interface Delivery {
  /** PeerId of the node that sent the events. */
  peer: string
  /** The port the events come from: the remote `out` port (subscribe) or the pusher's source port. */
  port: string
  /** The local port or subscription that received them. */
  to: string
  batch: Batch
}

export interface Pausable {
  pause(): void
  resume(): void
}

/** A watermark from one sender: no event from (peer, port) before `time` (sender clock) will follow. */
export interface WatermarkNote {
  peer: string
  port: string
  time: number
}

/** What a full inbox does while no iterator reads it (with one reading, it always pauses its streams). */
export type UnreadPolicy = 'pause' | 'drop'

export interface InboxInit {
  /** Most batches queued (default 1024). */
  capacity?: number
  /** Most bytes of batches queued (default 16 MiB); a single batch larger than this is still queued. */
  maxBytes?: number
  /** Full and unread: pause the streams (default) or drop the arriving batches. */
  whenUnread?: UnreadPolicy
}

export interface InboxStats {
  queued: number
  queuedBytes: number
  /** Batches and events dropped because the inbox was full and nobody read it. */
  droppedBatches: number
  droppedEvents: number
  /** The streams feeding the inbox are paused now. */
  paused: boolean
}

/** Bytes a batch holds in memory (its columns), for the inbox bound. */
export function batchBytes (b: Batch): number {
  return 64 + b.channels.byteLength + b.times.byteLength + (b.values?.byteLength ?? 0)
}

export class Inbox implements AsyncIterable<Delivery> {
  readonly capacity: number
  readonly maxBytes: number
  readonly whenUnread: UnreadPolicy
  readonly #listeners = new Set<(d: Delivery) => void>()
  readonly #observers = new Set<(d: Delivery) => void>()
  readonly #watermarkListeners = new Set<(w: WatermarkNote) => void>()
  readonly #sources = new Set<Pausable>()
  #queue: Delivery[] = []
  #bytes = 0
  #droppedBatches = 0
  #droppedEvents = 0
  #waiting: ((r: IteratorResult<Delivery>) => void) | undefined
  /** Unread with the drop policy: a batch was dropped for not fitting; the next ones are too until a read. */
  #spilling = false
  #iterating = false
  #paused = false
  #ended = false

  constructor (init: number | InboxInit = {}) {
    const o = typeof init === 'number' ? { capacity: init } : init
    this.capacity = o.capacity ?? DEFAULTS.inboxCapacity
    this.maxBytes = o.maxBytes ?? LIMITS.inboxBytes.default
    this.whenUnread = o.whenUnread ?? 'pause'
  }

  get stats (): InboxStats {
    return { queued: this.#queue.length, queuedBytes: this.#bytes, droppedBatches: this.#droppedBatches, droppedEvents: this.#droppedEvents, paused: this.#paused }
  }

  /** Call `fn` for every delivery; returns a function that removes it. */
  onDelivery (fn: (d: Delivery) => void): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }

  /** Call `fn` for every watermark of the streams feeding this inbox. */
  onWatermark (fn: (w: WatermarkNote) => void): () => void {
    this.#watermarkListeners.add(fn)
    return () => this.#watermarkListeners.delete(fn)
  }

  watermark (w: WatermarkNote): void {
    for (const fn of this.#watermarkListeners) fn(w)
  }

  /**
   * Call `fn` for every delivery without consuming it (statistics): deliveries still wait for a listener
   * or an iterator, and backpressure still applies. `fn` must not keep the batch: one about to be dropped
   * may live in buffers that the next decode reuses (`dropsNext`).
   */
  observe (fn: (d: Delivery) => void): () => void {
    this.#observers.add(fn)
    return () => this.#observers.delete(fn)
  }

  /** Register a stream that feeds this inbox, so it can be paused. */
  addSource (s: Pausable): () => void {
    this.#sources.add(s)
    if (this.#paused) s.pause()
    return () => this.#sources.delete(s)
  }

  /**
   * True when a batch pushed now would be dropped at once, without anyone seeing it but the observers:
   * nobody reads, the policy is `drop`, and the queue is full (or a batch did not fit since the last read).
   * A receiver may then decode the batch into reused buffers: observers must not keep a dropped batch.
   */
  get dropsNext (): boolean {
    return this.#unread && this.#queue.length > 0 && (this.#spilling || this.#full)
  }

  push (d: Delivery): void {
    for (const fn of this.#observers) fn(d)
    for (const fn of this.#listeners) fn(d)
    if (!this.#iterating && this.#listeners.size > 0) return
    if (this.#waiting !== undefined) {
      const w = this.#waiting
      this.#waiting = undefined
      w({ value: d, done: false })
      return
    }
    const size = batchBytes(d.batch)
    if (this.#unread) {
      // Keep what is queued and count the arriving batch as dropped, unless it fits (or the queue is empty).
      if (this.#queue.length > 0 && (this.#spilling || this.#full || this.#queue.length + 1 > this.capacity || this.#bytes + size > this.maxBytes)) {
        this.#spilling = true
        this.#droppedBatches++
        this.#droppedEvents += d.batch.count
        log.trace('dropped an unread batch (%d events)', d.batch.count)
        return
      }
      this.#queue.push(d)
      this.#bytes += size
      return
    }
    this.#queue.push(d)
    this.#bytes += size
    if (this.#full) this.#pause()
  }

  /** Nobody reads and the policy is to drop. */
  get #unread (): boolean {
    return !this.#iterating && this.whenUnread === 'drop' && this.#listeners.size === 0
  }

  get #full (): boolean {
    return this.#queue.length >= this.capacity || this.#bytes >= this.maxBytes
  }

  #pause (): void {
    if (this.#paused) return
    this.#paused = true
    for (const s of this.#sources) s.pause()
  }

  #resume (): void {
    if (!this.#paused) return
    this.#paused = false
    for (const s of this.#sources) s.resume()
  }

  /** The reader left: keep the newest batches within the bounds (at least one), count the rest. */
  #dropOldest (): void {
    let batches = 0
    let events = 0
    while (this.#queue.length > 1 && (this.#queue.length > this.capacity || this.#bytes > this.maxBytes)) {
      const d = this.#queue.shift()!
      this.#bytes -= batchBytes(d.batch)
      batches++
      events += d.batch.count
    }
    if (batches === 0) return
    this.#droppedBatches += batches
    this.#droppedEvents += events
    log.trace('dropped %d unread batches (%d events)', batches, events)
  }

  /** No more deliveries: iterators finish after the queue. */
  end (): void {
    this.#ended = true
    if (this.#waiting !== undefined && this.#queue.length === 0) {
      const w = this.#waiting
      this.#waiting = undefined
      w({ value: undefined, done: true })
    }
  }

  get queued (): number {
    return this.#queue.length
  }

  async * [Symbol.asyncIterator] (): AsyncGenerator<Delivery> {
    this.#iterating = true
    try {
      for (;;) {
        const d = this.#queue.shift()
        if (d !== undefined) {
          this.#bytes -= batchBytes(d.batch)
          this.#spilling = false
          if (this.#paused && this.#queue.length <= this.capacity / 2 && this.#bytes <= this.maxBytes / 2) this.#resume()
          yield d
          continue
        }
        if (this.#ended) return
        const r = await new Promise<IteratorResult<Delivery>>(resolve => { this.#waiting = resolve })
        if (r.done === true) return
        yield r.value
      }
    } finally {
      this.#iterating = false
      this.#waiting = undefined
      if (this.whenUnread === 'drop') {
        // Nobody reads any more: never leave the streams paused; keep what fits and count the rest.
        this.#resume()
        this.#dropOldest()
      }
    }
  }
}
