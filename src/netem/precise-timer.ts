import type { Clock } from '../clock/clock.ts'

/**
 * One wake-up source for all delay lines of a proxy: the caller asks for the earliest time it needs, the
 * timer calls `onFire(nowUs)` once that time has come, and `onFire` releases every chunk that is due
 * (a timer wheel with one slot per due time, rather than one timer per chunk).
 *
 * Precision. Node's setTimeout works in whole milliseconds of a cached loop time: measured on this
 * project's machines (Node 24, idle), a 1–10 ms timeout fires 0.08–0.2 ms late at the median and can fire
 * up to ≈1 ms early or, under load, several ms late. So the timer sleeps with setTimeout until `spinMs`
 * before the due time, then polls the clock from setImmediate callbacks (the event loop keeps serving
 * sockets in between) until the due time. Measured (idle): release lateness p50 ≈ 1 µs, p99 ≈ 3–60 µs;
 * the cost is up to `spinMs` of one core busy per wake-up. With `spinMs: 0` only setTimeout is used and
 * releases are late by up to ≈1 ms. Each proxy reports the lateness it observed in its stats (`lateMs`).
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
