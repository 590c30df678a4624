import test from 'ava'
import { ClockEstimator } from '../../../src/protocols/clock/estimator.ts'
import { InvalidClockOptionError } from '../../../src/protocols/clock/errors.ts'
import { clockSample } from '../../../src/protocols/clock/sample.ts'
import { coverage, exp, runScenario } from './netsim.ts'
import type { ClockEstimate } from '../../../src/protocols/clock/estimator.ts'
import type { Evaluation, Scenario } from './netsim.ts'

/** Fraction of evaluations after `fromUs` whose drift error is within the reported drift uncertainty. */
function driftCoverage (evals: readonly Evaluation[], fromUs: number): number {
  const after = evals.filter(e => e.trueUs >= fromUs)
  return after.filter(e => Math.abs(e.driftErrorPpm) <= e.driftUncertaintyPpm).length / after.length
}

const MIN = 60_000_000
const SEEDS = [1, 2, 3, 4, 5]

/** Symmetric jitter: 5 ms each way plus exponential jitter (mean 1 ms), independent per direction. */
const symmetric = (seed: number, server: Scenario['server'], client?: Scenario['client']): Scenario => ({
  seed,
  durationUs: 5 * MIN,
  server,
  client,
  forwardUs: r => 5000 + exp(r, 1000),
  backUs: r => 5000 + exp(r, 1000)
})

const cases: Array<[string, Scenario['server'], Scenario['client']?]> = [
  ['peer +1.5 s, +100 ppm', { offsetUs: 1_500_000, driftPpm: 100 }],
  ['peer −0.8 s, −50 ppm', { offsetUs: -800_000, driftPpm: -50 }],
  ['both clocks skewed: peer +1.5 s −50 ppm, local −0.8 s +100 ppm', { offsetUs: 1_500_000, driftPpm: -50 }, { offsetUs: -800_000, driftPpm: 100 }]
]

for (const [name, server, client] of cases) {
  test(`symmetric jitter, ${name}: converges, error within uncertainty, drift within a few ppm`, t => {
    for (const seed of SEEDS) {
      const res = runScenario(symmetric(seed, server, client))
      t.not(res.convergedAtUs, undefined, `seed ${seed} converged`)
      t.true((res.convergedAtUs as number) < 15_000_000, `seed ${seed} converged within 15 s (${res.convergedAtUs})`)
      const cov = coverage(res.evals, res.convergedAtUs as number)
      t.true(cov.n > 1000)
      t.true(cov.fraction >= 0.99, `seed ${seed} coverage ${cov.fraction}`)
      t.true(driftCoverage(res.evals, res.convergedAtUs as number) >= 0.99, `seed ${seed} drift coverage`)
      const last = res.evals[res.evals.length - 1]
      t.true(Math.abs(last.errorUs) < 1000, `seed ${seed} final offset error ${last.errorUs} µs`)
      t.true(Math.abs(last.driftErrorPpm) < 3, `seed ${seed} final drift error ${last.driftErrorPpm} ppm`)
      t.true(Math.abs(last.driftErrorPpm) <= last.driftUncertaintyPpm, `seed ${seed} drift error within its bound`)
    }
  })
}

test('asymmetric delay (10 ms out, 30 ms back): error ≈ half the asymmetry, covered by the uncertainty', t => {
  for (const seed of SEEDS) {
    const res = runScenario({
      seed,
      durationUs: 5 * MIN,
      server: { offsetUs: -800_000, driftPpm: -50 },
      forwardUs: r => 10_000 + exp(r, 200),
      backUs: r => 30_000 + exp(r, 200)
    })
    t.not(res.convergedAtUs, undefined)
    const after = res.evals.filter(e => e.trueUs >= (res.convergedAtUs as number))
    t.true(coverage(res.evals, res.convergedAtUs as number).fraction >= 0.99)
    // θ = ((T2 − T1) + (T3 − T4)) / 2 = true + (forward − back) / 2 = true − 10 ms.
    const errs = after.map(e => e.errorUs)
    const mean = errs.reduce((a, b) => a + b, 0) / errs.length
    t.true(Math.abs(mean + 10_000) < 300, `seed ${seed} mean error ${mean} µs`)
    t.true(errs.every(e => Math.abs(e + 10_000) < 1000), `seed ${seed} every error within 10 ms ± 1 ms`)
    t.true(after.every(e => e.uncertaintyUs >= 10_000 && e.uncertaintyUs < 25_000))
    const last = res.evals[res.evals.length - 1]
    t.true(Math.abs(last.driftErrorPpm) < 3, `seed ${seed} drift error ${last.driftErrorPpm}`)
  }
})

test('LAN-like path (tens of µs): tight uncertainty still covers the error', t => {
  for (const seed of SEEDS) {
    const res = runScenario({
      seed,
      durationUs: 5 * MIN,
      server: { offsetUs: 1_500_000, driftPpm: 100 },
      client: { offsetUs: 0, driftPpm: -50 },
      forwardUs: r => 40 + exp(r, 20),
      backUs: r => 40 + exp(r, 20),
      processingUs: 15
    })
    // From the first sample on, not only after convergence: the early, drift-limited bounds must hold too.
    const cov = coverage(res.evals, 0)
    t.true((res.convergedAtUs as number) < 10_000_000)
    t.true(cov.fraction >= 0.99, `seed ${seed} coverage ${cov.fraction}`)
    t.true(driftCoverage(res.evals, res.convergedAtUs as number) >= 0.99, `seed ${seed} drift coverage`)
    // An hour without samples: the drift term dominates the bound.
    const end = res.client.nowUs() + 3600e6
    const far = res.estimator.estimate(end)
    t.true(Math.abs(far.offsetUs - res.trueOffset(end)) <= far.uncertaintyUs, `seed ${seed} one hour ahead`)
    const after = res.evals.filter(e => e.trueUs >= 30_000_000)
    t.true(after.every(e => e.uncertaintyUs < 300), `seed ${seed} uncertainty stays below 300 µs`)
    t.true(Math.abs(res.evals[res.evals.length - 1].driftErrorPpm) < 0.5)
  }
})

test('heavy-tailed delays (10 % spikes up to 20 ms one way): robust', t => {
  for (const seed of SEEDS) {
    const res = runScenario({
      seed,
      durationUs: 3 * MIN,
      server: { offsetUs: 1_500_000, driftPpm: -50 },
      forwardUs: r => 200 + (r() < 0.1 ? 20_000 * r() : exp(r, 50)),
      backUs: r => 200 + exp(r, 300)
    })
    t.true(coverage(res.evals, res.convergedAtUs as number).fraction >= 0.99)
    t.true(Math.abs(res.evals[res.evals.length - 1].errorUs) < 300)
  }
})

test('rare fast round trips: δmin/2 is small but the other samples scatter by ~1 ms; the fit term covers it', t => {
  // Each direction: 5 % of the time ≈ 50 µs, otherwise 550 µs + exponential jitter (mean 1 ms).
  const d = (r: () => number): number => 50 + (r() < 0.05 ? exp(r, 20) : 500 + exp(r, 1000))
  // Seed 3 happens to draw no fast round trip at all (δmin/2 = 340 µs): the case this test is about does
  // not arise there, and the check below says so. The other seeds all have one.
  for (const seed of [1, 2, 4, 5, 6]) {
    const res = runScenario({ seed, durationUs: 5 * MIN, server: { offsetUs: 1_500_000, driftPpm: -50 }, forwardUs: d, backUs: d })
    t.true((res.convergedAtUs as number) < 15_000_000, `seed ${seed} converged at ${res.convergedAtUs}`)
    const cov = coverage(res.evals, res.convergedAtUs as number)
    t.true(cov.fraction >= 0.99, `seed ${seed} coverage ${cov.fraction}`)
    const after = res.evals.filter(e => e.trueUs >= (res.convergedAtUs as number))
    // The errors here are well beyond δmin/2, so the bound rests on the fit term.
    t.true(after.some(e => Math.abs(e.errorUs) > res.estimator.estimate(0).rttUs / 2))
    t.log(`seed ${seed}: worst |error|/uncertainty ${Math.max(...after.map(e => Math.abs(e.errorUs) / e.uncertaintyUs)).toFixed(2)}`)
  }
})

test('oscillator wander (drift varying by ±3 ppm over 10 min): the window shrinks and the bound still holds', t => {
  for (const seed of SEEDS) {
    const res = runScenario({
      seed,
      durationUs: 20 * MIN,
      server: { offsetUs: 1_500_000, driftPpm: 30 },
      wander: { amplitudeUs: 300, periodUs: 10 * MIN },
      forwardUs: r => 40 + exp(r, 20),
      backUs: r => 40 + exp(r, 20),
      evalEveryUs: 200_000
    })
    const cov = coverage(res.evals, res.convergedAtUs as number)
    t.true(cov.fraction >= 0.99, `seed ${seed} coverage ${cov.fraction}`)
  }
})

test('extrapolation far beyond the last sample stays covered', t => {
  const res = runScenario({
    seed: 9,
    durationUs: 3 * MIN,
    server: { offsetUs: 1_500_000, driftPpm: 100 },
    forwardUs: r => 300 + exp(r, 100),
    backUs: r => 300 + exp(r, 100)
  })
  const tLocal = res.client.nowUs() // the client's clock at the end of the run
  for (const aheadUs of [1e6, 10e6, 60e6, 600e6]) {
    const at = tLocal + aheadUs
    const e = res.estimator.estimate(at)
    t.true(Math.abs(e.offsetUs - res.trueOffset(at)) <= e.uncertaintyUs, `${aheadUs / 1e6} s ahead`)
  }
  t.true(res.estimator.estimate(tLocal + 600e6).uncertaintyUs > res.estimator.estimate(tLocal + 1e6).uncertaintyUs)
})

test('a clock step is detected and the estimate re-converges to the new offset', t => {
  const res = runScenario({
    seed: 4,
    durationUs: 4 * MIN,
    server: { offsetUs: 1_500_000, driftPpm: 20 },
    step: { atUs: 2 * MIN, byUs: 250_000 },
    forwardUs: r => 1000 + exp(r, 100),
    backUs: r => 1000 + exp(r, 100)
  })
  t.is(res.estimator.counters.steps, 1)
  const late = res.evals.filter(e => e.trueUs > 2 * MIN + 10_000_000)
  t.true(late.every(e => Math.abs(e.errorUs) <= e.uncertaintyUs), 'covered 10 s after the step')
  t.true(Math.abs(res.evals[res.evals.length - 1].errorUs) < 500)
})

test('burst filter: only the lowest-delay sample of a burst counts', t => {
  const est = new ClockEstimator()
  // True offset 1000 µs; samples of one burst with growing asymmetric extra delay.
  const base = 1_000_000_000
  est.addSample(clockSample(base, base + 1000 + 500, base + 1000 + 510, base + 2010)) // δ 2000, θ −500+1000... asymmetric
  est.addSample(clockSample(base + 5000, base + 5000 + 1000 + 50, base + 5000 + 1000 + 60, base + 5000 + 110)) // δ 100, exact
  est.addSample(clockSample(base + 10_000, base + 10_000 + 1000 + 3000, base + 10_000 + 1000 + 3010, base + 10_000 + 3060)) // δ 3050
  const e = est.estimate(base + 10_000)
  t.is(e.samples, 1)
  t.is(e.rttUs, 100)
  t.true(Math.abs(e.offsetUs - 1000) < 1e-6)
  // Uncertainty: δ/2 + noise floor term + maximum drift over the ≈ 5 ms since the sample.
  t.true(e.uncertaintyUs >= 50 && e.uncertaintyUs < 100)
  t.false(e.converged)
})

test('explicit burst ids group samples regardless of spacing', t => {
  const est = new ClockEstimator()
  const base = 2_000_000_000
  est.addSample(clockSample(base, base + 100, base + 110, base + 210), { burst: 1 })
  est.addSample(clockSample(base + 200_000, base + 200_100, base + 200_110, base + 200_210), { burst: 1 })
  t.is(est.estimate(base).samples, 1)
  est.addSample(clockSample(base + 200_300, base + 200_400, base + 200_410, base + 200_510), { burst: 2 })
  t.is(est.estimate(base).samples, 2)
})

test('before any sample: offset 0 with infinite uncertainty; mapping is the identity', t => {
  const est = new ClockEstimator()
  const e = est.estimate(123)
  t.is(e.offsetUs, 0)
  t.is(e.uncertaintyUs, Infinity)
  t.false(e.converged)
  t.deepEqual(est.toLocal(5), { localUs: 5, uncertaintyUs: Infinity })
})

test('toLocal and toRemote invert each other and map peer timestamps to the truth', t => {
  const res = runScenario({
    seed: 11,
    durationUs: 2 * MIN,
    server: { offsetUs: -800_000, driftPpm: 100 },
    client: { offsetUs: 0, driftPpm: -50 },
    forwardUs: r => 2000 + exp(r, 200),
    backUs: r => 2000 + exp(r, 200)
  })
  const est = res.estimator
  const local = res.client.nowUs()
  const { remoteUs, uncertaintyUs } = est.toRemote(local)
  const back = est.toLocal(remoteUs)
  t.true(Math.abs(back.localUs - local) < 0.01)
  t.is(back.uncertaintyUs, uncertaintyUs)
  // A peer timestamp P maps to the local time at which the peer clock read P.
  const peerTime = local + res.trueOffset(local)
  const mapped = est.toLocal(peerTime)
  t.true(Math.abs(mapped.localUs - local) <= mapped.uncertaintyUs)
})

test('the estimate event fires on every sample and can be unsubscribed', t => {
  const est = new ClockEstimator()
  const seen: ClockEstimate[] = []
  const off = est.onEstimate(e => seen.push(e))
  est.addSample(clockSample(1000, 2100, 2110, 1210))
  est.addSample(clockSample(1010, 2110, 2120, 1220))
  off()
  est.addSample(clockSample(1020, 2120, 2130, 1230))
  t.is(seen.length, 2)
  t.is(seen[0].offsetUs, 1000)
  t.is(seen[0].atLocalUs, 1210)
})

test('an impossible burst (far off with a small round trip) is rejected as an outlier', t => {
  const est = new ClockEstimator()
  const base = 3_000_000_000
  const probe = (at: number, offset: number): void => {
    est.addSample(clockSample(at, at + 100 + offset, at + 110 + offset, at + 210))
  }
  for (let i = 0; i < 10; i++) probe(base + i * 250_000, 5000)
  probe(base + 10 * 250_000, 50_000) // one bogus burst
  for (let i = 11; i < 14; i++) probe(base + i * 250_000, 5000)
  t.is(est.counters.rejectedBursts, 1)
  t.is(est.counters.steps, 0)
  t.true(Math.abs(est.estimate(base + 14 * 250_000).offsetUs - 5000) < 1)
})

test('invalid options throw InvalidClockOptionError', t => {
  const err = t.throws(() => new ClockEstimator({ windowBursts: 0 }), { instanceOf: InvalidClockOptionError })
  t.is(err?.code, 'invalid-clock-option')
  t.throws(() => new ClockEstimator({ maxDriftPpm: -1 }), { instanceOf: InvalidClockOptionError })
})
