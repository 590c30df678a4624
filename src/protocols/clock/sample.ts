/**
 * One clock probe, NTP style. The client sends a request at t1 (client clock), the server receives it at
 * t2 and answers at t3 (server clock), the client receives the answer at t4 (client clock). All in µs.
 *
 *   offset θ = ((t2 − t1) + (t3 − t4)) / 2   — server clock − client clock, at the probe's midpoint
 *   delay  δ = (t4 − t1) − (t3 − t2)         — round trip minus the server's processing time
 *
 * Whatever the split of δ between the two directions, the true offset lies in [θ − δ/2, θ + δ/2]: the error
 * of θ is half the difference of the two one-way delays, at most δ/2.
 */
import { InvalidClockSampleError } from './errors.ts'

export interface ClockSample {
  /** Client clock when the request was sent. */
  t1: number
  /** Server clock when the request was received. */
  t2: number
  /** Server clock when the response was sent. */
  t3: number
  /** Client clock when the response was received. */
  t4: number
  /** θ, µs: server − client. */
  offsetUs: number
  /** δ, µs, never negative (small negative values within the tolerance are clamped to 0). */
  delayUs: number
  /** The client-clock time the offset refers to: (t1 + t4) / 2. */
  atLocalUs: number
}

export interface ClockSampleOptions {
  /**
   * How far below zero δ may be before the sample is rejected, µs. Integer wire timestamps and a drifting
   * server clock can make δ slightly negative on a fast link. Default 20 µs.
   */
  negativeDelayToleranceUs?: number
}

export const DEFAULT_NEGATIVE_DELAY_TOLERANCE_US = 20

/**
 * Compute θ and δ from the four timestamps of a probe.
 *
 * @throws InvalidClockSampleError (code 'invalid-clock-sample') when a timestamp is not finite, the reply
 * came back before the request left (t4 < t1), the server answered before it received (t3 < t2), or
 * δ < −tolerance.
 */
export function clockSample (t1: number, t2: number, t3: number, t4: number, options: ClockSampleOptions = {}): ClockSample {
  const tolerance = options.negativeDelayToleranceUs ?? DEFAULT_NEGATIVE_DELAY_TOLERANCE_US
  for (const [name, v] of [['t1', t1], ['t2', t2], ['t3', t3], ['t4', t4]] as const) {
    if (!Number.isFinite(v)) throw new InvalidClockSampleError(`${name} is not a finite number (${v})`)
  }
  if (t4 < t1) throw new InvalidClockSampleError(`response received before the request was sent (t4 ${t4} < t1 ${t1})`)
  if (t3 < t2) throw new InvalidClockSampleError(`server answered before it received (t3 ${t3} < t2 ${t2})`)
  const delay = (t4 - t1) - (t3 - t2)
  if (delay < -tolerance) {
    throw new InvalidClockSampleError(`negative round-trip delay ${delay} µs (tolerance ${tolerance} µs)`)
  }
  return {
    t1,
    t2,
    t3,
    t4,
    offsetUs: ((t2 - t1) + (t3 - t4)) / 2,
    delayUs: Math.max(0, delay),
    atLocalUs: (t1 + t4) / 2
  }
}
