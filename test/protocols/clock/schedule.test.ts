import test from 'ava'
import { InvalidClockOptionError } from '../../../src/protocols/clock/errors.ts'
import { PROBE_DEFAULTS, ProbeSchedule, nextPeriodUs } from '../../../src/protocols/clock/schedule.ts'
import { exp, runScenario } from './netsim.ts'

const stable = { converged: true, consistent: true }

test('bursts of 16 probes 5 ms apart by default', t => {
  const s = new ProbeSchedule()
  t.deepEqual(s.burstTimes(1000), Array.from({ length: 16 }, (_, i) => 1000 + i * 5000))
})

test('fast while converging, doubling up to the maximum when stable', t => {
  const s = new ProbeSchedule({ jitter: 0 })
  t.is(s.periodUs, 250_000)
  t.is(s.next({ converged: false, consistent: true }, 0), 250_000)
  const periods: number[] = []
  let at = 0
  for (let i = 0; i < 8; i++) {
    const next = s.next(stable, at)
    periods.push(next - at)
    at = next
  }
  t.deepEqual(periods, [500_000, 1_000_000, 2_000_000, 4_000_000, 8_000_000, 8_000_000, 8_000_000, 8_000_000])
})

test('an inconsistent burst or loss of convergence goes back to the fast period', t => {
  const s = new ProbeSchedule({ jitter: 0 })
  for (let i = 0; i < 6; i++) s.next(stable, 0)
  t.is(s.periodUs, 8_000_000)
  t.is(s.next({ converged: true, consistent: false }, 100), 100 + 250_000)
  for (let i = 0; i < 6; i++) s.next(stable, 0)
  s.next({ converged: false, consistent: true }, 0)
  t.is(s.periodUs, 250_000)
})

test('a burst without answers leaves the period unchanged; reset() returns to fast', t => {
  t.is(nextPeriodUs(2_000_000, { converged: false, consistent: false, answered: 0 }), 2_000_000)
  const s = new ProbeSchedule({ jitter: 0 })
  s.next(stable, 0)
  s.next(stable, 0)
  t.is(s.periodUs, 1_000_000)
  s.reset()
  t.is(s.periodUs, PROBE_DEFAULTS.minPeriodUs)
})

test('jitter stays within ± the configured fraction', t => {
  const lo = new ProbeSchedule({ jitter: 0.1, random: () => 0 })
  const hi = new ProbeSchedule({ jitter: 0.1, random: () => 0.999999 })
  t.is(lo.next({ converged: false, consistent: true }, 0), 225_000)
  t.true(Math.abs(hi.next({ converged: false, consistent: true }, 0) - 275_000) < 1)
})

test('invalid options throw InvalidClockOptionError', t => {
  for (const o of [{ burstSize: 0 }, { minPeriodUs: 10, maxPeriodUs: 5 }, { jitter: 1 }, { backoff: 0.5 }, { probeTimeoutUs: 0 }]) {
    const err = t.throws(() => new ProbeSchedule(o), { instanceOf: InvalidClockOptionError })
    t.is(err?.code, 'invalid-clock-option')
  }
})

test('in a simulated run the schedule backs off to ≈2 probes/s once converged', t => {
  const res = runScenario({
    seed: 7,
    durationUs: 10 * 60_000_000,
    server: { offsetUs: 1_500_000, driftPpm: 100 },
    forwardUs: r => 2000 + exp(r, 300),
    backUs: r => 2000 + exp(r, 300)
  })
  // 16 probes per ≈8 s in steady state, plus the fast start.
  const perSecond = res.probes / 600
  t.true(perSecond > 1.8 && perSecond < 2.8, `probes/s ${perSecond}`)
})
