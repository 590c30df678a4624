/**
 * A Scheduler on simulated time, for tests and simulations: time moves only when advanced, and timers
 * fire in order of their time (ties in the order they were set), each with the clock set to its time.
 */
import { ManualClock } from '../base/clock.ts'
import { InvalidTimingOptionError } from './errors.ts'
import type { Scheduler, TimerHandle } from './scheduler.ts'

interface SimTimer extends TimerHandle {
  seq: number
  fn: () => void
  cleared: boolean
}

function before (a: SimTimer, b: SimTimer): boolean {
  return a.atUs < b.atUs || (a.atUs === b.atUs && a.seq < b.seq)
}

export class SimulatedScheduler implements Scheduler {
  readonly clock: ManualClock
  readonly #heap: SimTimer[] = []
  #seq = 0
  #live = 0

  constructor (clock: ManualClock = new ManualClock()) {
    this.clock = clock
  }

  nowUs (): number {
    return this.clock.nowUs()
  }

  /** Timers armed and not yet fired or cleared. */
  get pending (): number {
    return this.#live
  }

  setTimer (atUs: number, fn: () => void): TimerHandle {
    if (Number.isNaN(atUs)) throw new InvalidTimingOptionError('timer time is NaN')
    const t: SimTimer = { atUs, fn, seq: this.#seq++, cleared: false }
    this.#push(t)
    this.#live++
    return t
  }

  clearTimer (handle: TimerHandle): void {
    const t = handle as SimTimer
    if (!t.cleared) {
      t.cleared = true
      this.#live--
    }
  }

  /** Advance to `us`, firing every timer due by then (including ones set by fired timers). */
  advanceTo (us: number): void {
    for (;;) {
      const top = this.#peek()
      if (top === undefined || top.atUs > us) break
      this.#pop()
      if (top.cleared) continue
      top.cleared = true
      this.#live--
      if (top.atUs > this.clock.nowUs()) this.clock.set(top.atUs)
      top.fn()
    }
    if (us > this.clock.nowUs()) this.clock.set(us)
  }

  /** Advance by `us` microseconds. */
  advance (us: number): void {
    this.advanceTo(this.clock.nowUs() + us)
  }

  /** Fire timers until none is left or `limitUs` is reached; returns the time reached. */
  runUntilIdle (limitUs = Infinity): number {
    for (;;) {
      const top = this.#peek()
      if (top === undefined) return this.clock.nowUs()
      if (top.atUs > limitUs) {
        this.advanceTo(limitUs)
        return this.clock.nowUs()
      }
      this.advanceTo(Math.max(top.atUs, this.clock.nowUs()))
    }
  }

  #peek (): SimTimer | undefined {
    while (this.#heap.length > 0 && this.#heap[0].cleared) {
      this.#pop()
    }
    return this.#heap[0]
  }

  #push (t: SimTimer): void {
    const h = this.#heap
    h.push(t)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(h[i], h[p])) break
      ;[h[i], h[p]] = [h[p], h[i]]
      i = p
    }
  }

  #pop (): SimTimer | undefined {
    const h = this.#heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last !== undefined) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && before(h[l], h[m])) m = l
        if (r < h.length && before(h[r], h[m])) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m], h[i]]
        i = m
      }
    }
    return top
  }
}
