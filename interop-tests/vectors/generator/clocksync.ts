/**
 * The clocksync vectors (spec §9.3.3): sequences of clock samples with the values every implementation
 * MUST compute from them (θ and δ per sample, rejections, the clock filter's pick per burst, a lower bound
 * on the reported uncertainty) and the estimate the SHOULD-level fit gives, with a tolerance.
 *
 * Written from the spec, independently of src/clock: the estimate here is a Theil–Sen line (median of
 * pairwise slopes), a different robust method from the reference's weighted least squares, so that a
 * vector's tolerance is seen to hold between two honest fits rather than copied from one.
 */
import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict'
import type { Json, JsonObject, Message } from './mapping.ts'
import { CLOCK_SAMPLE_FAULTS, ERROR_CODES } from './registry.ts'
import type { Sample, Truth } from './clocksim.ts'
import { trueOffset } from './clocksim.ts'

/** ε of §9.3.3 used when a definition does not give one, µs (the RECOMMENDED value). */
export const DEFAULT_NEGATIVE_DELAY_TOLERANCE_US = 20

export interface ClockSyncDef {
  id: string
  title: string
  why: string
  /** ε, µs. */
  toleranceUs?: number
  /** The samples in the order the requests were sent. */
  samples?: Sample[]
  /** Burst id of each sample; absent: every sample is a burst of its own. */
  bursts?: number[]
  /** Failures in the message exchange: the requests outstanding (oldest first) and the response received. */
  exchange?: { requests: Message[], response: Message }
  /** Failures: the fault's name (§9.3.3), and the error code that ends the stream if the fault does. */
  code?: string
  closeCode?: string
  /** What the definition means to show; the generator checks it against its own computation. */
  expectRejected?: Array<[number, string]>
  expectFiltered?: number[]
  /** Valid vectors: the estimate to state and its tolerances. */
  estimate?: {
    atUs: number
    /** What the samples were made from, when they were (informative in the file). */
    truth?: Truth
    offsetToleranceUs: number
    /** Omitted when the samples cannot measure a drift (fewer than 3 bursts or less than 1 s apart). */
    driftTolerancePpm?: number
    /** A shortcut the vector must catch: the estimate it would give lies outside the tolerance. */
    catches?: 'drift' | 'outlier'
  }
}

interface Rep { x: number, y: number, d: number }

/** θ and δ exactly as §9.3.2 defines them, from differences. */
export function offsetDelay ([t1, t2, t3, t4]: Sample): { offset: number, delay: number } {
  return { offset: ((t2 - t1) + (t3 - t4)) / 2, delay: (t4 - t1) - (t3 - t2) }
}

/** The fault of a sample that the client discards or rejects (§9.3.3), or undefined. */
export function sampleFault (s: Sample, toleranceUs: number): string | undefined {
  const [t1, t2, t3, t4] = s
  const faults: string[] = []
  if (t3 < t2) faults.push('t3-before-t2')
  if (t4 < t1) faults.push('t4-before-t1')
  if (faults.length === 0 && offsetDelay(s).delay < -toleranceUs) faults.push('negative-delay')
  ok(faults.length <= 1, `sample ${s.join(',')} has several faults`)
  return faults[0]
}

/** The fault of a response given the requests outstanding (oldest first), §9.3.1. */
function exchangeFault (requests: Message[], response: Message): string | undefined {
  const oldest = requests[0]
  if (response.id !== oldest.id || response.t1 !== oldest.t1) return 'echo-mismatch'
  if ((response.t3 as number) < (response.t2 as number)) return 't3-before-t2'
  return undefined
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Theil–Sen line through the representatives, x relative to the newest: θ̂(x) = a + b·x. */
function theilSen (reps: Rep[], x0: number, drift: boolean): { a: number, b: number } {
  const slopes: number[] = []
  for (let i = 0; i < reps.length; i++) {
    for (let j = i + 1; j < reps.length; j++) {
      if (reps[j].x !== reps[i].x) slopes.push((reps[j].y - reps[i].y) / (reps[j].x - reps[i].x))
    }
  }
  const b = drift && slopes.length > 0 ? median(slopes) : 0
  return { a: median(reps.map((r) => r.y - b * (r.x - x0))), b }
}

/** Error floor of one representative in the weights, µs. */
const FLOOR_US = 10

/**
 * The SHOULD-level estimate: a Theil–Sen line finds the outliers (a residual beyond the representative's
 * own excess delay plus 4 robust scales), then a weighted least-squares line (or a weighted mean, without
 * drift) through the others, weight 1/s² with s = (δ − δmin)/2 + 10 µs.
 */
function fit (reps: Rep[], drift: boolean): { a: number, b: number, x0: number, outliers: number } {
  const x0 = reps[reps.length - 1].x
  const dmin = Math.min(...reps.map((r) => r.d))
  const start = theilSen(reps, x0, drift)
  const res = reps.map((r) => r.y - start.a - start.b * (r.x - x0))
  const scale = Math.max(FLOOR_US, 1.4826 * median(res.map(Math.abs)))
  const kept = reps.filter((r, i) => Math.abs(res[i]) <= (r.d - dmin) / 2 + 4 * scale)
  const w = kept.map((r) => 1 / ((r.d - dmin) / 2 + FLOOR_US) ** 2)
  const sw = w.reduce((p, q) => p + q, 0)
  const mx = kept.reduce((p, r, i) => p + w[i] * (r.x - x0), 0) / sw
  const my = kept.reduce((p, r, i) => p + w[i] * r.y, 0) / sw
  const sxx = kept.reduce((p, r, i) => p + w[i] * (r.x - x0 - mx) ** 2, 0)
  const sxy = kept.reduce((p, r, i) => p + w[i] * (r.x - x0 - mx) * (r.y - my), 0)
  const b = drift ? sxy / sxx : 0
  return { a: my - b * mx, b, x0, outliers: reps.length - kept.length }
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000 + 0

export function buildClockSync (def: ClockSyncDef): JsonObject {
  const fail = def.id.includes('-fail-')
  const tolerance = def.toleranceUs ?? DEFAULT_NEGATIVE_DELAY_TOLERANCE_US
  ok(fail === (def.code !== undefined), `${def.id}: fail ⇔ code`)
  if (def.code !== undefined) {
    ok(def.code in CLOCK_SAMPLE_FAULTS, `${def.id}: unknown fault ${def.code}`)
    strictEqual(def.closeCode, CLOCK_SAMPLE_FAULTS[def.code], `${def.id}: close code of ${def.code}`)
    if (def.closeCode !== undefined) ok(ERROR_CODES[def.closeCode] !== undefined, `${def.id}: close code`)
  }
  const out: JsonObject = {
    id: def.id,
    title: def.title,
    why: def.why,
    fail,
    ...(def.code === undefined ? {} : { code: def.code }),
    ...(def.closeCode === undefined ? {} : { close_code: def.closeCode }),
    context: { negative_delay_tolerance_us: tolerance }
  }
  if (def.exchange !== undefined) {
    ok(fail && def.samples === undefined, `${def.id}: an exchange is a failure without samples`)
    strictEqual(exchangeFault(def.exchange.requests, def.exchange.response), def.code, `${def.id}: exchange fault`)
    out.exchange = { requests: def.exchange.requests, response: def.exchange.response }
    return out
  }
  const samples = def.samples ?? []
  ok(samples.length > 0 && samples.every((s) => s.length === 4 && s.every(Number.isSafeInteger)), `${def.id}: samples`)
  const bursts = def.bursts ?? samples.map((_, i) => i)
  strictEqual(bursts.length, samples.length, `${def.id}: one burst id per sample`)
  ok(bursts.every((b, i) => i === 0 || b === bursts[i - 1] || !bursts.slice(0, i).includes(b)),
    `${def.id}: the samples of a burst are adjacent`)
  const values = samples.map(offsetDelay)
  const faults = samples.map((s) => sampleFault(s, tolerance))
  out.samples = samples
  if (def.bursts !== undefined) out.bursts = def.bursts
  out.offset = values.map((v) => v.offset)
  out.delay = values.map((v) => v.delay)
  if (fail) {
    ok(samples.length === 1 && def.estimate === undefined, `${def.id}: a sample failure holds one sample`)
    strictEqual(faults[0], def.code, `${def.id}: sample fault`)
    return out
  }
  const rejected = faults.flatMap((f, i): Array<[number, string]> => f === undefined ? [] : [[i, f]])
  ok(rejected.every(([, f]) => CLOCK_SAMPLE_FAULTS[f] === undefined), `${def.id}: a valid vector only holds discards`)
  deepStrictEqual(rejected, def.expectRejected ?? [], `${def.id}: rejected samples`)
  // Clock filter: per burst, the accepted sample with the smallest max(δ, 0); ties go to the earlier one.
  const filtered: number[] = []
  for (const b of [...new Set(bursts)]) {
    let best: number | undefined
    for (let i = 0; i < samples.length; i++) {
      if (bursts[i] !== b || faults[i] !== undefined) continue
      if (best === undefined || Math.max(values[i].delay, 0) < Math.max(values[best].delay, 0)) best = i
    }
    if (best !== undefined) filtered.push(best)
  }
  if (def.expectFiltered !== undefined) deepStrictEqual(filtered, def.expectFiltered, `${def.id}: filter`)
  if (rejected.length > 0) out.rejected = rejected
  out.filtered = filtered
  ok(def.estimate !== undefined, `${def.id}: a valid vector states its estimate`)
  out.estimate = estimateOf(def, samples, values, filtered)
  return out
}

function estimateOf (def: ClockSyncDef, samples: Sample[], values: Array<{ offset: number, delay: number }>,
  filtered: number[]): JsonObject {
  const e = def.estimate!
  const reps: Rep[] = filtered.map((i) => ({
    x: (samples[i][0] + samples[i][3]) / 2, y: values[i].offset, d: Math.max(values[i].delay, 0)
  }))
  const x0 = reps[reps.length - 1].x
  const drift = e.driftTolerancePpm !== undefined
  ok(!drift || (reps.length >= 3 && x0 - reps[0].x >= 1_000_000), `${def.id}: drift stated without the data for it`)
  ok(e.atUs >= x0, `${def.id}: the estimate is for a time after the samples`)
  const line = fit(reps, drift)
  const offset = line.a + line.b * (e.atUs - x0)
  strictEqual(line.outliers, e.catches === 'outlier' ? 1 : 0, `${def.id}: outliers found`)
  if (e.catches === 'drift') {
    const flat = fit(reps, false)
    ok(Math.abs(flat.a - offset) > e.offsetToleranceUs, `${def.id}: a fit without drift would pass`)
  }
  if (e.catches === 'outlier') {
    // Ordinary least squares over every representative, outlier included.
    const mx = reps.reduce((s, r) => s + r.x, 0) / reps.length
    const my = reps.reduce((s, r) => s + r.y, 0) / reps.length
    const b = reps.reduce((s, r) => s + (r.x - mx) * (r.y - my), 0) / reps.reduce((s, r) => s + (r.x - mx) ** 2, 0)
    ok(Math.abs(my + b * (e.atUs - mx) - offset) > e.offsetToleranceUs, `${def.id}: a non-robust fit would pass`)
  }
  const out: { [key: string]: Json } = {
    at_local_us: e.atUs,
    offset_us: round3(offset),
    offset_tolerance_us: e.offsetToleranceUs
  }
  if (drift) {
    out.drift_ppm = round3(line.b * 1e6)
    out.drift_tolerance_ppm = e.driftTolerancePpm!
  }
  out.uncertainty_min_us = Math.min(...reps.map((r) => r.d)) / 2
  if (e.truth !== undefined) out.true_offset_us = round3(trueOffset(e.truth, e.atUs))
  return out
}
