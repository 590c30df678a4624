/**
 * A user-space network emulator for tests, benchmarks and examples: a TCP proxy on loopback that delays,
 * jitters and rate-limits each direction of every connection it forwards (`tc netem` is not available on
 * the project's machines). Listen and target addresses must be loopback IP literals.
 *
 * Directions: `up` is client → target, `down` is target → client. The link model (bottleneck, delay,
 * in-order release) is described on DelayLine, the jitter distributions on LinkParams, the timer precision
 * on PreciseTimer.
 *
 * @example
 * const proxy = await createDelayProxy({
 *   listen: { host: '127.0.0.1', port: 0 },
 *   target: { host: '127.0.0.1', port: serverPort },
 *   up: { delayMs: 10 },
 *   down: { delayMs: 30, jitterMs: 2 },
 *   seed: 1
 * })
 * // dial proxy.address:proxy.port instead of the server
 * proxy.set('down', { rateBytesPerSec: 1e6 })
 * proxy.cut({ refuseNew: true }); proxy.restore()
 * await proxy.close()
 */
import type { Clock } from '../base/clock.ts'
import type { LinkParams, ResolvedLinkParams } from './link.ts'
import type { DirectionStats } from './stats.ts'

export { createDelayProxy } from './proxy.ts'
export { NetemAddressError, NetemParamsError, NetemClosedError } from './errors.ts'
export { isLoopback } from './address.ts'
export { DelayLine } from './delay-line.ts'
export { PreciseTimer } from './precise-timer.ts'
export type { Chunk } from './delay-line.ts'
export type { LinkParams, ResolvedLinkParams } from './link.ts'
export type { DirectionStats, Percentiles } from './stats.ts'

export type Direction = 'up' | 'down'

export interface HostPort {
  host: string
  port: number
}

export interface DelayProxyInit {
  /** Where to listen: a loopback IP literal; port 0 picks a free port. */
  listen: HostPort
  /** Where every accepted connection is forwarded: a loopback IP literal and port. */
  target: HostPort
  /** Client → target link. */
  up?: LinkParams
  /** Target → client link. */
  down?: LinkParams
  /**
   * Seed of the jitter generator (src/base/prng.ts; an integer 0 ≤ seed < 2^53, default 0). Connection n (0, 1, …, in accept order) and
   * direction get their own stream derived from it, so a run's delay samples per connection repeat exactly
   * as long as the bytes arrive in the same reads.
   */
  seed?: number
  /** Clock for arrival/release times and stats; must advance with real time. Default SystemClock. */
  clock?: Clock
  /** How long before a due time the timer stops sleeping and polls (ms, default 1; 0: setTimeout only). */
  spinMs?: number
}

export interface CutOptions {
  /** Also refuse (reset at once) every new connection until restore(). Default false. */
  refuseNew?: boolean
}

export interface DelayProxyStats {
  up: DirectionStats
  down: DirectionStats
  connections: {
    /** Connections forwarded now. */
    open: number
    /** Connections accepted and forwarded since start. */
    accepted: number
    /** Connections reset at accept because the proxy was cut with refuseNew. */
    refused: number
    /** Connections reset by cut(). */
    cut: number
  }
}

export interface DelayProxy {
  /** The address the proxy listens on (loopback). */
  readonly address: string
  /** The port the proxy listens on. */
  readonly port: number
  /** Change one or both directions' parameters; applies to bytes read from now on. Throws NetemParamsError. */
  set(dir: Direction | 'both', params: LinkParams): void
  /** The parameters in force for a direction. */
  params(dir: Direction): ResolvedLinkParams
  /**
   * Drop every open connection abruptly: queued bytes are discarded and both sockets are reset (RST via
   * socket.resetAndDestroy()). With `refuseNew`, connections accepted until restore() are reset at once
   * (the client's connect may succeed, then it sees ECONNRESET or a close without data).
   * Returns the number of connections cut.
   */
  cut(opts?: CutOptions): number
  /** Accept new connections again after cut({ refuseNew: true }). */
  restore(): void
  stats(): DelayProxyStats
  /** Stop listening and close every connection. Idempotent. */
  close(options?: { signal?: AbortSignal }): Promise<void>
}
