import type { Clock } from '../base/clock.ts'

/**
 * One wake-up source for all delay lines of a proxy: the caller asks for the earliest time it needs, the
 * timer calls `onFire(nowUs)` once that time has come, and `onFire` releases every chunk that is due
 * (a timer wheel with one slot per due time, rather than one timer per chunk).
 *
 * Precision. Node's setTimeout works in whole milliseconds of a cached loop time: it can fire up to ≈1 ms
 * early and, under load, several ms late. So the timer sleeps with setTimeout until `spinMs` before the due
 * time, then polls the clock from setImmediate callbacks (the event loop keeps serving sockets in between)
 * until the due time; it never releases early. Measured through a proxy on this project's machines (Node 24,
 * 2 cores, otherwise idle; 300 ping-pongs with 3 + 2 ms delay, lateness = write time − due time):
 *   spinMs 0 (setTimeout only): p50 0.17 ms, p90 0.28 ms, p99 0.98 ms, max 2.3 ms;
 *   spinMs 1 (default):         p50 1.3 µs,  p90 2.7 µs,  p99 0.20 ms, max 0.49 ms;
 *   spinMs 2:                   p50 1.3 µs,  p90 2.2 µs,  p99 0.07 ms, max 0.14 ms.
 * The price is up to `spinMs` (plus setTimeout's lateness) of one busy core per wake-up: with spinMs 1 that
 * run used ≈25 % of a core for ≈300 wake-ups/s, and a steady stream of chunks keeps the poll running almost
 * all the time. Use spinMs 0 for bulk transfers where ±1 ms does not matter. Each proxy reports the lateness
 * it observed in its stats (`lateMs`).
 *
 * The clock must advance with real time (SystemClock or a SkewedClock on it): due times are read on it
 * and the waits are real timers.
 */
export class PreciseTimer {
  readonly #clock: Clock
  readonly #onFire: (nowUs: number) => void
  readonly #spinUs: number
  #dueUs = Infinity
  #timeout: ReturnType<typeof setTimeout> | undefined
  #immediate: ReturnType<typeof setImmediate> | undefined
  #stopped = false

  constructor (clock: Clock, onFire: (nowUs: number) => void, spinMs = 1) {
    this.#clock = clock
    this.#onFire = onFire
    this.#spinUs = Math.max(0, spinMs) * 1000
  }

  /** Make sure `onFire` runs at or soon after `dueUs` (earlier requests win; later ones are ignored). */
  schedule (dueUs: number): void {
    if (this.#stopped || dueUs >= this.#dueUs) return
    this.#dueUs = dueUs
    this.#cancel()
    // Never fire from inside the caller (a socket handler): check again on the next loop turn.
    this.#immediate = setImmediate(this.#arm)
  }

  /** Cancel any pending wake-up and refuse new ones. */
  stop (): void {
    this.#stopped = true
    this.#dueUs = Infinity
    this.#cancel()
  }

  #cancel (): void {
    if (this.#timeout !== undefined) clearTimeout(this.#timeout)
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    this.#timeout = undefined
    this.#immediate = undefined
  }

  #arm = (): void => {
    this.#timeout = undefined
    this.#immediate = undefined
    if (this.#stopped || this.#dueUs === Infinity) return
    const nowUs = this.#clock.nowUs()
    const remainingUs = this.#dueUs - nowUs
    if (remainingUs > this.#spinUs && remainingUs >= 1000) {
      // setTimeout rounds to whole ms and may fire up to ≈1 ms early: #arm checks again when it fires.
      this.#timeout = setTimeout(this.#arm, Math.max(1, Math.floor((remainingUs - this.#spinUs) / 1000)))
    } else if (remainingUs > 0 && this.#spinUs > 0) {
      this.#immediate = setImmediate(this.#arm)
    } else if (remainingUs > 0) {
      this.#timeout = setTimeout(this.#arm, 1)
    } else {
      this.#dueUs = Infinity
      this.#onFire(nowUs)
    }
  }
}
