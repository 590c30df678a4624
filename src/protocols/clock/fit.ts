/**
 * Weighted least-squares line fit with outlier rejection, used by the clock estimator to fit
 * offset(t) = a + b·t over the lowest-delay samples.
 *
 * Each point carries its own error scale s (µs); its weight is 1/s². Residuals are judged in units of s
 * ("normalised residuals"), so a point that is far from the line but came over a slow round trip (large s)
 * is not an outlier, while a fast one (small s) that is far off is.
 */

export interface FitPoint {
  /** Abscissa, µs (relative to some reference, to keep the numbers small). */
  x: number
  /** Ordinate, µs. */
  y: number
  /** Error scale, µs, > 0. */
  s: number
}

export interface LineFit {
  /** Ordinate at x = 0. */
  a: number
  /** Slope (µs per µs). */
  b: number
  /** Number of points kept. */
  n: number
  /** Indexes (into the input array) of the points kept. */
  kept: number[]
  /** Weighted mean abscissa of the kept points. */
  xMean: number
  /** Σw·(x − xMean)² of the kept points (0 when all x are equal). */
  sxx: number
  /** Σw of the kept points. */
  sw: number
  /** Normalised residual scale (≥ 1: never below the points' own error scale). */
  sigma: number
  /** Smallest and largest abscissa of the kept points. */
  xMin: number
  xMax: number
}

/** Two-sided 99 % Student-t quantiles by degrees of freedom (index = dof; beyond the table, 2.58). */
const T99 = [Infinity, 63.66, 9.92, 5.84, 4.60, 4.03, 3.71, 3.50, 3.36, 3.25, 3.17, 3.11, 3.05, 3.01, 2.98, 2.95,
  2.92, 2.90, 2.88, 2.86, 2.85, 2.83, 2.82, 2.81, 2.80, 2.79, 2.78, 2.77, 2.76, 2.76, 2.75]

/** Coverage factor for a 99 % interval from a fit with `dof` degrees of freedom. */
export function t99 (dof: number): number {
  if (dof < 1) return Infinity
  return dof < T99.length ? T99[dof] : 2.58
}

function fitOnce (points: readonly FitPoint[], idx: readonly number[]): LineFit {
  let sw = 0
  let swx = 0
  let swy = 0
  let xMin = Infinity
  let xMax = -Infinity
  for (const i of idx) {
    const p = points[i]
    const w = 1 / (p.s * p.s)
    sw += w
    swx += w * p.x
    swy += w * p.y
    if (p.x < xMin) xMin = p.x
    if (p.x > xMax) xMax = p.x
  }
  const xMean = swx / sw
  const yMean = swy / sw
  let sxx = 0
  let sxy = 0
  for (const i of idx) {
    const p = points[i]
    const w = 1 / (p.s * p.s)
    sxx += w * (p.x - xMean) ** 2
    sxy += w * (p.x - xMean) * (p.y - yMean)
  }
  // Relative threshold: x spans below a microsecond carry no slope information.
  const b = idx.length >= 2 && sxx > 0 && xMax - xMin >= 1 ? sxy / sxx : 0
  const a = yMean - b * xMean
  const n = idx.length
  let ss = 0
  for (const i of idx) {
    const p = points[i]
    ss += ((p.y - a - b * p.x) / p.s) ** 2
  }
  const sigma = n > 2 ? Math.max(1, Math.sqrt(ss / (n - 2))) : 1
  return { a, b, n, kept: [...idx], xMean, sxx, sw, sigma, xMin, xMax }
}

function median (values: number[]): number {
  const v = [...values].sort((p, q) => p - q)
  const m = v.length >> 1
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2
}

export interface FitOptions {
  /** Points whose normalised residual exceeds k × the robust residual scale are dropped. Default 4. */
  outlierK?: number
  /** Rejection rounds. Default 2. */
  rounds?: number
}

/**
 * Fit y = a + b·x by weighted least squares, then drop outliers (normalised residual beyond
 * k × max(1, 1.4826 × median |normalised residual|)) and refit, at most `rounds` times. Never drops below
 * three points or below half of the input. `points` must not be empty.
 */
export function robustLineFit (points: readonly FitPoint[], options: FitOptions = {}): LineFit {
  const k = options.outlierK ?? 4
  const rounds = options.rounds ?? 2
  let idx = points.map((_, i) => i)
  let fit = fitOnce(points, idx)
  for (let r = 0; r < rounds && idx.length >= 4; r++) {
    const z = idx.map(i => Math.abs(points[i].y - fit.a - fit.b * points[i].x) / points[i].s)
    const scale = Math.max(1, 1.4826 * median(z))
    const keep = idx.filter((_, j) => z[j] <= k * scale)
    if (keep.length === idx.length || keep.length < 3 || keep.length * 2 < points.length) break
    idx = keep
    fit = fitOnce(points, idx)
  }
  return fit
}

/** Standard error of the fitted line's ordinate at `x` (µs). */
export function predictionError (fit: LineFit, x: number): number {
  const slopeTerm = fit.sxx > 0 ? (x - fit.xMean) ** 2 / fit.sxx : 0
  return fit.sigma * Math.sqrt(1 / fit.sw + slopeTerm)
}

/** Standard error of the fitted slope (µs per µs); Infinity when the points carry no slope information. */
export function slopeError (fit: LineFit): number {
  return fit.n >= 2 && fit.sxx > 0 && fit.xMax - fit.xMin >= 1 ? fit.sigma / Math.sqrt(fit.sxx) : Infinity
}

/**
 * Wald–Wolfowitz runs test on the signs of residuals in time order: too few runs (long stretches on one
 * side of the line) mean the line does not fit — on a clock, the drift changed within the window.
 * Returns true when the number of runs is plausible for random signs (one-sided test, normal
 * approximation, threshold `z`), and also for fewer than 8 non-zero residuals, where the test has no power.
 */
export function runsTestPasses (residuals: readonly number[], z = 1.645): boolean {
  const signs = residuals.filter(r => r !== 0).map(r => r > 0)
  const n = signs.length
  if (n < 8) return true
  const pos = signs.filter(Boolean).length
  const neg = n - pos
  if (pos === 0 || neg === 0) return true
  let runs = 1
  for (let i = 1; i < n; i++) if (signs[i] !== signs[i - 1]) runs++
  const mean = 2 * pos * neg / n + 1
  const variance = (mean - 1) * (mean - 2) / (n - 1)
  return runs >= mean - z * Math.sqrt(variance)
}
