/**
 * Event-loop stalls with their times, so that the benchmarks can tell a pause of the whole machine (seen
 * by every process at once: on these shared virtual machines the hypervisor now and then stops the guest
 * for 10–20 ms) from a stall of one process. A 2 ms interval timer notes every gap between its ticks
 * longer than `thresholdMs`; the times are SystemClock readings, comparable across processes to a few µs.
 */
import { SystemClock } from '../src/base/clock.ts'

export type Stall = [fromUs: number, toUs: number]

export class StallWatch {
  readonly #clock = new SystemClock()
  readonly #thresholdUs: number
  #timer: ReturnType<typeof setInterval> | undefined
  #last = 0
  #stalls: Stall[] = []

  constructor (thresholdMs = 5) {
    this.#thresholdUs = thresholdMs * 1000
  }

  start (): void {
    this.#stalls = []
    this.#last = this.#clock.nowUs()
    this.#timer = setInterval(() => {
      const now = this.#clock.nowUs()
      // A tick is due 2 ms after the previous one: the gap beyond that is the stall.
      if (now - this.#last > this.#thresholdUs) this.#stalls.push([this.#last + 2000, now])
      this.#last = now
    }, 2)
  }

  stop (): Stall[] {
    clearInterval(this.#timer)
    this.#timer = undefined
    return this.#stalls
  }
}

/** Total time, µs, during which every one of the lists has a stall (their intersection). */
export function commonStallUs (lists: readonly Stall[][]): number {
  if (lists.length === 0) return 0
  let common: Stall[] = lists[0]
  for (const other of lists.slice(1)) {
    const next: Stall[] = []
    for (const [a0, a1] of common) {
      for (const [b0, b1] of other) {
        const from = Math.max(a0, b0)
        const to = Math.min(a1, b1)
        if (to > from) next.push([from, to])
      }
    }
    common = next
  }
  return common.reduce((sum, [from, to]) => sum + to - from, 0)
}
