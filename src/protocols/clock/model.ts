/**
 * The clock model fitted by the estimator: θ(t) = offset of the peer's clock at local time t, a line over
 * the window's burst representatives, with an error bound at any t. See estimator.ts for the method.
 */
import { predictionError, robustLineFit, runsTestPasses, slopeError, t99 } from './fit.ts'
import type { FitPoint } from './fit.ts'
import type { ClockSample } from './sample.ts'

export interface ClockModel {
  /** Reference point: the newest representative's local time and offset. */
  x0: number
  y0: number
  /** θ(t) = y0 + a + b·(t − x0). */
  a: number
  b: number
  /** True while the slope is not measurable and the model is a constant with drift 0 ± maxDrift. */
  constant: boolean
  /** Fit error bound (coverage applied), µs, at x = t − x0 inside [xMin, xMax]. */
  fitErr: (x: number) => number
  xMin: number
  xMax: number
  /** Best round trip among the representatives used, µs. */
  dminUs: number
  /** Drift uncertainty (fraction, not ppm). */
  driftU: number
  /** Representatives used. */
  n: number
}

export interface ModelOptions {
  noiseFloorUs: number
  /** Fractions, not ppm. */
  maxDrift: number
  driftFloor: number
  outlierK: number
}

function median (values: readonly number[]): number {
  const v = [...values].sort((p, q) => p - q)
  const m = v.length >> 1
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2
}

export function modelOffset (m: ClockModel, t: number): number {
  return m.y0 + m.a + m.b * (t - m.x0)
}

/** δmin/2 + fit error (at t, or at the nearest end of the window) + drift uncertainty × distance outside it. */
export function modelUncertainty (m: ClockModel, t: number): number {
  const x = t - m.x0
  const xc = Math.min(Math.max(x, m.xMin), m.xMax)
  return m.dminUs / 2 + m.fitErr(xc) + m.driftU * Math.abs(x - xc)
}

/** Fit one window (representatives in time order, non-empty); also returns the residuals in time order. */
function fitWindow (reps: readonly ClockSample[], o: ModelOptions): { model: ClockModel, residuals: number[] } {
  const last = reps[reps.length - 1]
  const x0 = last.atLocalUs
  const y0 = last.offsetUs
  const dminAll = Math.min(...reps.map(r => r.delayUs))
  // Error scale of a representative: its excess round trip over the best one, halved, plus a floor. The
  // best representative is itself only "best so far": the floor is the median excess (at least the noise
  // floor), so that a single lucky sample does not outweigh all others.
  const excess = reps.map(r => (r.delayUs - dminAll) / 2)
  const floor = Math.max(o.noiseFloorUs, median(excess))
  const points: FitPoint[] = reps.map((r, i) => ({ x: r.atLocalUs - x0, y: r.offsetUs - y0, s: excess[i] + floor }))
  const line = robustLineFit(points, { outlierK: o.outlierK })
  const kept = line.kept.map(i => points[i])
  const dminUs = Math.min(...line.kept.map(i => reps[i].delayUs))
  const coverage = t99(line.n - 2)
  const slopeU = Math.max(coverage * slopeError(line), o.driftFloor)
  if (line.n >= 3 && slopeU <= o.maxDrift) {
    return {
      model: {
        x0, y0, a: line.a, b: line.b, constant: false, fitErr: x => coverage * predictionError(line, x),
        xMin: line.xMin, xMax: line.xMax, dminUs, driftU: slopeU, n: line.n
      },
      residuals: kept.map(p => p.y - line.a - line.b * p.x)
    }
  }
  const se = slopeError(line)
  if (line.n >= 3 && Number.isFinite(se)) {
    // Slope measured, but not yet to within maxDrift: combine it with the prior 0 ± maxDrift (shrinkage,
    // as a Bayesian estimate with a normal prior would), so a drift is followed before it is pinned down.
    const prior = (o.maxDrift / 2.58) ** 2
    const k = prior / (prior + se * se)
    const b = k * line.b
    const a = line.a + (line.b - b) * line.xMean
    const driftU = Math.min(o.maxDrift, Math.max(o.driftFloor, coverage * k * se + (1 - k) * o.maxDrift))
    const noiseA = line.sigma * Math.sqrt(1 / line.sw)
    return {
      model: {
        x0, y0, a, b, constant: false,
        fitErr: x => coverage * Math.sqrt(noiseA ** 2 + (k * se * (x - line.xMean)) ** 2) + (1 - k) * o.maxDrift * Math.abs(x - line.xMean),
        xMin: line.xMin, xMax: line.xMax, dminUs, driftU, n: line.n
      },
      residuals: kept.map(p => p.y - a - b * p.x)
    }
  }
  // Slope not measurable yet: weighted mean offset, drift 0 ± maxDrift. Each point may be up to
  // maxDrift × (its distance in time) away from the truth at x, which the error function adds.
  let sw = 0
  let swy = 0
  for (const p of kept) {
    sw += 1 / (p.s * p.s)
    swy += p.y / (p.s * p.s)
  }
  const a = swy / sw
  let ss = 0
  for (const p of kept) ss += ((p.y - a) / p.s) ** 2
  const sigma = kept.length > 1 ? Math.max(1, Math.sqrt(ss / (kept.length - 1))) : 1
  const noise = 3 * sigma * Math.sqrt(1 / sw)
  const xMin = Math.min(...kept.map(p => p.x))
  const xMax = Math.max(...kept.map(p => p.x))
  return {
    model: {
      x0, y0, a, b: 0, constant: true,
      fitErr: x => noise + o.maxDrift * Math.max(x - xMin, xMax - x),
      xMin, xMax, dminUs, driftU: o.maxDrift, n: kept.length
    },
    residuals: kept.map(p => p.y - a)
  }
}

/**
 * Fit the representatives (time order). When the residuals of the line run in long same-sign stretches
 * (runs test), the drift changed within the window: the oldest representatives are dropped, an eighth of
 * the window at a time, until the line fits or 8 remain (as chrony does). Returns the model and how many
 * of the oldest representatives the caller should discard.
 */
export function fitModel (reps: readonly ClockSample[], o: ModelOptions): { model: ClockModel, drop: number } {
  const step = Math.max(1, Math.floor(reps.length / 8))
  let start = 0
  for (;;) {
    const { model, residuals } = fitWindow(reps.slice(start), o)
    if (model.constant || runsTestPasses(residuals) || reps.length - start - step < 8) return { model, drop: start }
    start += step
  }
}
