/**
 * Where received batches wait for the application: delivered to listeners at once, and to an async
 * iterator through a bounded queue. When the queue is full the feeding streams are paused (read
 * backpressure reaches the sender, which drops and reports); they resume when it has half emptied.
 */
import type { Batch } from '../codec/index.ts'

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

export class Inbox implements AsyncIterable<Delivery> {
  readonly capacity: number
  readonly #listeners = new Set<(d: Delivery) => void>()
  readonly #observers = new Set<(d: Delivery) => void>()
  readonly #watermarkListeners = new Set<(w: WatermarkNote) => void>()
  readonly #sources = new Set<Pausable>()
  #queue: Delivery[] = []
  #waiting: ((r: IteratorResult<Delivery>) => void) | undefined
  #iterating = false
  #paused = false
  #ended = false

  constructor (capacity = 1024) {
    this.capacity = capacity
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
   * or an iterator, and backpressure still applies.
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
    this.#queue.push(d)
    if (this.#queue.length >= this.capacity && !this.#paused) {
      this.#paused = true
      for (const s of this.#sources) s.pause()
    }
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
          if (this.#paused && this.#queue.length <= this.capacity / 2) {
            this.#paused = false
            for (const s of this.#sources) s.resume()
          }
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
    }
  }
}
