/**
 * The input side shared by the models: a bounded FIFO of timestamped events that keeps inputs in time
 * order, applies late inputs at the earliest time still open, and counts what it clamps or refuses.
 */
import { isChannel } from './params.ts'

/** Counters of an {@link InputQueue}. */
export interface InputCounts {
  /** Inputs queued (including late ones). */
  accepted: number
  /** Inputs whose time was earlier than the time already reached; they were applied at that time instead. */
  late: number
  /** Inputs refused for a channel out of range, a non-finite time or a non-finite value. */
  invalid: number
  /** Inputs refused because the queue already held `maxPending` events. */
  overflow: number
}

export class InputQueue {
  readonly channels: number
  readonly maxPending: number
  readonly counts: InputCounts = { accepted: 0, late: 0, invalid: 0, overflow: 0 }
  #ch: number[] = []
  #t: number[] = []
  #v: number[] = []
  #head = 0
  #lastUs = -Infinity

  constructor (channels: number, maxPending: number) {
    this.channels = channels
    this.maxPending = maxPending
  }

  get length (): number {
    return this.#t.length - this.#head
  }

  /**
   * Queue an input. `floorUs` is the earliest time the model can still apply it (its current time);
   * an earlier input, or one earlier than the previous input, is moved to the later of the two and counted
   * as late. Returns false (and counts) when the input is refused.
   */
  push (channel: number, timeUs: number, value: number, floorUs: number): boolean {
    if (!isChannel(channel, this.channels) || !Number.isFinite(timeUs) || !Number.isFinite(value)) {
      this.counts.invalid++
      return false
    }
    if (this.length >= this.maxPending) {
      this.counts.overflow++
      return false
    }
    const floor = Math.max(floorUs, this.#lastUs)
    if (timeUs < floor) {
      this.counts.late++
      timeUs = floor
    }
    this.#lastUs = timeUs
    this.#ch.push(channel)
    this.#t.push(timeUs)
    this.#v.push(value)
    this.counts.accepted++
    return true
  }

  /** Time of the next queued input, `Infinity` when empty. */
  peekTime (): number {
    return this.#head < this.#t.length ? this.#t[this.#head] : Infinity
  }

  peekChannel (): number {
    return this.#ch[this.#head]
  }

  peekValue (): number {
    return this.#v[this.#head]
  }

  /** Drop the next queued input (after reading it with the peek methods). */
  shift (): void {
    this.#head++
    if (this.#head === this.#t.length) {
      this.#ch.length = 0
      this.#t.length = 0
      this.#v.length = 0
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#t.length) {
      this.#ch.splice(0, this.#head)
      this.#t.splice(0, this.#head)
      this.#v.splice(0, this.#head)
      this.#head = 0
    }
  }
}
