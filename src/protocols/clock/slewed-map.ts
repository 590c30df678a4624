/**
 * A peer → local time mapping that follows a clock estimate without stepping. Each refinement of the
 * estimate (a new probe burst) moves its offset by a fraction of a millisecond; applied at once, that
 * step lands inside one inter-spike interval. Here the mapping's offset moves toward the estimate's at
 * most `maxSlew` µs per µs of event time (NTP's 500 ppm by default), so an interval is stretched by at
 * most that fraction. A difference larger than `stepUs` (first estimate, clock step, new path) is applied
 * at once.
 */
export interface SlewedMapOptions {
  /** Largest rate of change of the offset, µs per µs of event time. Default 500e-6. */
  maxSlew?: number
  /** Differences above this are stepped, µs. Default 50 ms. */
  stepUs?: number
}

export function slewedMap (estimate: (remoteUs: number) => number, options: SlewedMapOptions = {}): (remoteUs: number) => number {
  const maxSlew = options.maxSlew ?? 500e-6
  const stepUs = options.stepUs ?? 50_000
  let offset = NaN
  let last = -Infinity
  return remoteUs => {
    const target = estimate(remoteUs) - remoteUs
    if (Number.isNaN(offset) || !(Math.abs(target - offset) <= stepUs)) {
      offset = target
    } else {
      const allowed = maxSlew * Math.max(0, remoteUs - last)
      offset += Math.min(allowed, Math.max(-allowed, target - offset))
    }
    if (remoteUs > last) last = remoteUs
    return remoteUs + offset
  }
}
