/**
 * A token bucket on an injected clock: `ratePerSecond` tokens a second, at most `burst` saved up. The
 * clock server paces its answers with one per peer (spec §9.3.1: a server may bound the requests it
 * processes per second and per peer, and then delays its responses).
 */
import type { Clock } from '../../base/clock.ts'
import { InvalidArgumentError } from '../../base/errors.ts'

export class TokenBucket {
  readonly ratePerSecond: number
  readonly burst: number
  readonly #clock: Clock
  #tokens: number
  #atUs: number

  constructor (ratePerSecond: number, burst: number, clock: Clock) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new InvalidArgumentError(`a token bucket needs a rate > 0 and a burst ≥ 1 (got ${ratePerSecond}, ${burst})`)
    this.ratePerSecond = ratePerSecond
    this.burst = burst
    this.#clock = clock
    this.#tokens = burst
    this.#atUs = clock.nowUs()
  }

  /** Take one token: 0 when taken, else the µs to wait until one is available (nothing taken). */
  take (): number {
    this.#refill()
    if (this.#tokens >= 1) {
      this.#tokens -= 1
      return 0
    }
    return Math.ceil((1 - this.#tokens) * 1e6 / this.ratePerSecond)
  }

  /** True when the bucket is full again (nothing to remember about its owner). */
  get full (): boolean {
    this.#refill()
    return this.#tokens >= this.burst
  }

  #refill (): void {
    const now = this.#clock.nowUs()
    if (now > this.#atUs) {
      this.#tokens = Math.min(this.burst, this.#tokens + (now - this.#atUs) * this.ratePerSecond / 1e6)
    }
    this.#atUs = now
  }
}
