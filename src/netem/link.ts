import { NetemParamsError } from './errors.ts'
import type { Prng } from '../base/prng.ts'

/**
 * How one direction of the emulated link behaves. All fields are optional in `set()`; omitted fields keep
 * their current value.
 *
 * Jitter distributions (the sample is added to `delayMs`, and the sum is clamped at 0):
 * - `uniform` (default): uniform on [−jitterMs, +jitterMs]; standard deviation jitterMs/√3.
 * - `normal`: normal with mean 0 and standard deviation jitterMs, truncated to ±2·jitterMs by
 *   resampling (so the worst case is delayMs + 2·jitterMs); the truncated standard deviation is
 *   ≈ 0.88·jitterMs.
 */
export interface LinkParams {
  /** Fixed one-way delay in milliseconds (≥ 0, fractions allowed). Default 0. */
  delayMs?: number
  /** Jitter amplitude in milliseconds (≥ 0), see `jitter`. Default 0. */
  jitterMs?: number
  /** Jitter distribution. Default 'uniform'. */
  jitter?: 'uniform' | 'normal'
  /** Bandwidth limit in bytes per second (> 0), enforced by a token bucket. Default Infinity (no limit). */
  rateBytesPerSec?: number
  /**
   * Token bucket depth in bytes: what may pass at once after the link was idle. Default: 5 ms of traffic
   * at `rateBytesPerSec`, at least 1500 and at most 65536 bytes.
   */
  burstBytes?: number
  /**
   * Bound on the bytes held for this direction of one connection (delay queue plus the outgoing socket's
   * buffer). Above it the proxy stops reading from the sending socket, so TCP flow control pushes back on
   * the sender; reading resumes when the held bytes drop to half of it. The proxy's memory per direction
   * and connection is therefore at most queueBytes plus one socket read (64 KiB). Default 1 MiB.
   */
  queueBytes?: number
}

/** LinkParams with every field set and checked. */
export interface ResolvedLinkParams {
  delayMs: number
  jitterMs: number
  jitter: 'uniform' | 'normal'
  rateBytesPerSec: number
  /** Undefined: derived from the rate (see LinkParams.burstBytes). */
  burstBytes: number | undefined
  queueBytes: number
}

export const DEFAULT_QUEUE_BYTES = 1024 * 1024

export const DEFAULT_LINK: Readonly<ResolvedLinkParams> = Object.freeze({
  delayMs: 0,
  jitterMs: 0,
  jitter: 'uniform',
  rateBytesPerSec: Infinity,
  burstBytes: undefined,
  queueBytes: DEFAULT_QUEUE_BYTES
})

/** Merge `patch` into `base` and check the result; throws NetemParamsError. */
export function resolveLink (base: ResolvedLinkParams, patch: LinkParams = {}): ResolvedLinkParams {
  const p: ResolvedLinkParams = {
    delayMs: patch.delayMs ?? base.delayMs,
    jitterMs: patch.jitterMs ?? base.jitterMs,
    jitter: patch.jitter ?? base.jitter,
    rateBytesPerSec: patch.rateBytesPerSec ?? base.rateBytesPerSec,
    burstBytes: 'burstBytes' in patch ? patch.burstBytes : base.burstBytes,
    queueBytes: patch.queueBytes ?? base.queueBytes
  }
  if (!(Number.isFinite(p.delayMs) && p.delayMs >= 0)) throw new NetemParamsError(`delayMs must be a finite number ≥ 0, got ${p.delayMs}`)
  if (!(Number.isFinite(p.jitterMs) && p.jitterMs >= 0)) throw new NetemParamsError(`jitterMs must be a finite number ≥ 0, got ${p.jitterMs}`)
  if (p.jitter !== 'uniform' && p.jitter !== 'normal') throw new NetemParamsError(`jitter must be 'uniform' or 'normal', got ${String(p.jitter)}`)
  if (!(p.rateBytesPerSec > 0)) throw new NetemParamsError(`rateBytesPerSec must be > 0 (Infinity for no limit), got ${p.rateBytesPerSec}`)
  if (p.burstBytes !== undefined && !(Number.isInteger(p.burstBytes) && p.burstBytes >= 1)) {
    throw new NetemParamsError(`burstBytes must be an integer ≥ 1, got ${p.burstBytes}`)
  }
  if (!(Number.isInteger(p.queueBytes) && p.queueBytes >= 1)) throw new NetemParamsError(`queueBytes must be an integer ≥ 1, got ${p.queueBytes}`)
  return p
}

/** The token bucket depth in force: explicit, or 5 ms of traffic clamped to [1500, 65536] bytes. */
export function burstOf (p: ResolvedLinkParams): number {
  if (p.burstBytes !== undefined) return p.burstBytes
  if (p.rateBytesPerSec === Infinity) return Infinity
  return Math.min(65536, Math.max(1500, Math.round(p.rateBytesPerSec * 0.005)))
}

/** One delay sample in microseconds: delay plus a jitter sample from the configured distribution, ≥ 0. */
export function sampleDelayUs (p: ResolvedLinkParams, rng: Prng): number {
  let jitter = 0
  if (p.jitterMs > 0) {
    if (p.jitter === 'uniform') {
      jitter = (rng.next() * 2 - 1) * p.jitterMs
    } else {
      let z: number
      do z = rng.normal(); while (Math.abs(z) > 2)
      jitter = z * p.jitterMs
    }
  }
  return Math.max(0, (p.delayMs + jitter) * 1000)
}
