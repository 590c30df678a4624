/**
 * A simulated network for clock tests: true time is a ManualClock; client and server clocks are
 * SkewedClocks over it; probes fly with delays drawn from given functions. No sockets, no timers.
 */
import { ManualClock, SkewedClock } from '../../../src/base/clock.ts'
import { ClockEstimator } from '../../../src/protocols/clock/estimator.ts'
import { clockSample } from '../../../src/protocols/clock/sample.ts'
import { ProbeSchedule } from '../../../src/protocols/clock/schedule.ts'
import type { ClockEstimatorOptions } from '../../../src/protocols/clock/estimator.ts'
import type { ClockSample } from '../../../src/protocols/clock/sample.ts'
import { prng } from '../../../src/base/prng.ts'

/** Uniform numbers in [0, 1) from the models' seeded generator: the same seed, the same sequence. */
export function rng (seed: number): () => number {
  const p = prng(seed)
  return () => p.next()
}

/** Exponential with the given mean. */
export function exp (random: () => number, meanUs: number): number {
  return -Math.log(1 - random()) * meanUs
}

export interface Scenario {
  seed: number
  durationUs: number
  server: { offsetUs: number, driftPpm: number }
  client?: { offsetUs: number, driftPpm: number }
  /** One-way delays, µs of true time, for a probe sent at true time T. */
  forwardUs: (random: () => number, T: number) => number
  backUs: (random: () => number, T: number) => number
  /** Server processing time, µs. Default 30. */
  processingUs?: number
  /** Slow oscillator wander: A·sin(2π·t/P) µs added to the server clock (drift varies by ±2πA/P). */
  wander?: { amplitudeUs: number, periodUs: number }
  /** Added to the server clock from this true time on (a clock step). */
  step?: { atUs: number, byUs: number }
  /** Evaluate the estimate every this many µs of true time. Default 50 ms. */
  evalEveryUs?: number
  estimator?: ClockEstimatorOptions
}

export interface Evaluation {
  trueUs: number
  errorUs: number
  uncertaintyUs: number
  converged: boolean
  driftErrorPpm: number
  driftUncertaintyPpm: number
}

export interface ScenarioResult {
  evals: Evaluation[]
  convergedAtUs: number | undefined
  estimator: ClockEstimator
  /** True offset (server − client) at client time t. */
  trueOffset: (clientUs: number) => number
  /** True drift of server relative to client, ppm. */
  trueDriftPpm: number
  client: SkewedClock
  serverAt: (T: number) => number
  probes: number
}

export function runScenario (sc: Scenario): ScenarioResult {
  const random = rng(sc.seed)
  const truth = new ManualClock()
  const T0 = truth.nowUs()
  const client = new SkewedClock(truth, sc.client ?? {})
  const server = new SkewedClock(truth, sc.server)
  const wander = (T: number): number => sc.wander === undefined ? 0 : sc.wander.amplitudeUs * Math.sin(2 * Math.PI * (T - T0) / sc.wander.periodUs)
  const serverAt = (T: number): number => server.toSkewed(T) + wander(T) + (sc.step !== undefined && T >= T0 + sc.step.atUs ? sc.step.byUs : 0)
  const clientSlope = 1 + client.driftPpm * 1e-6
  const clientToTrue = (t: number): number => T0 + (t - client.toSkewed(T0)) / clientSlope
  const trueOffset = (t: number): number => serverAt(clientToTrue(t)) - t
  const trueDriftPpm = ((1 + server.driftPpm * 1e-6) / clientSlope - 1) * 1e6
  const estimator = new ClockEstimator(sc.estimator)
  const schedule = new ProbeSchedule({ random })
  const processing = sc.processingUs ?? 30
  const evalEvery = sc.evalEveryUs ?? 50_000

  const evals: Evaluation[] = []
  let convergedAtUs: number | undefined
  let probes = 0
  let burstStart = T0 + 10_000
  let nextEval = T0 + evalEvery
  const end = T0 + sc.durationUs
  const evaluate = (T: number): void => {
    const t = client.toSkewed(T)
    const e = estimator.estimate(t)
    if (e.converged && convergedAtUs === undefined) convergedAtUs = T - T0
    evals.push({
      trueUs: T - T0,
      errorUs: e.offsetUs - trueOffset(t),
      uncertaintyUs: e.uncertaintyUs,
      converged: e.converged,
      driftErrorPpm: e.driftPpm - trueDriftPpm,
      driftUncertaintyPpm: e.driftUncertaintyPpm
    })
  }
  while (burstStart < end) {
    const arrivals: Array<{ at: number, sample: ClockSample }> = []
    for (const T1 of schedule.burstTimes(burstStart)) {
      const T2 = T1 + sc.forwardUs(random, T1)
      const T3 = T2 + processing
      const T4 = T3 + sc.backUs(random, T1)
      const sample = clockSample(Math.round(client.toSkewed(T1)), Math.round(serverAt(T2)),
        Math.round(serverAt(T3)), Math.round(client.toSkewed(T4)))
      arrivals.push({ at: T4, sample })
      probes++
    }
    arrivals.sort((p, q) => p.at - q.at)
    let consistent = false
    for (const { at, sample } of arrivals) {
      while (nextEval < at && nextEval < end) { evaluate(nextEval); nextEval += evalEvery }
      consistent = estimator.addSample(sample).consistent || consistent
    }
    const lastArrival = arrivals[arrivals.length - 1].at
    const converged = estimator.estimate(client.toSkewed(lastArrival)).converged
    burstStart = Math.max(schedule.next({ converged, consistent }, burstStart), lastArrival + 1)
  }
  while (nextEval < end) { evaluate(nextEval); nextEval += evalEvery }
  return { evals, convergedAtUs, estimator, trueOffset, trueDriftPpm, client, serverAt, probes }
}

/** Fraction of evaluations (from `fromUs` on) whose |error| ≤ uncertainty. */
export function coverage (evals: readonly Evaluation[], fromUs: number): { n: number, covered: number, fraction: number } {
  const after = evals.filter(e => e.trueUs >= fromUs)
  const covered = after.filter(e => Math.abs(e.errorUs) <= e.uncertaintyUs).length
  return { n: after.length, covered, fraction: covered / after.length }
}
