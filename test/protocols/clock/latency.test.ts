import test from 'ava'
import { InvalidClockOptionError } from '../../../src/protocols/clock/errors.ts'
import { LatencyTracker } from '../../../src/protocols/clock/latency.ts'

test('percentiles, extremes and counts over the window', t => {
  const l = new LatencyTracker({ window: 100 })
  const values = Array.from({ length: 100 }, (_, i) => i + 1)
  for (const v of values.reverse()) l.record(v)
  const s = l.snapshot()
  t.is(s.count, 100)
  t.is(s.window, 100)
  t.is(s.p50Us, 50)
  t.is(s.p90Us, 90)
  t.is(s.p99Us, 99)
  t.is(s.maxUs, 100)
  t.is(s.minUs, 1)
  t.is(s.meanUs, 50.5)
  t.is(s.lastUs, 1)
  t.is(l.percentile(1), 100)
  t.is(l.percentile(0), 1)
})

test('the window is bounded: old observations fall out, counts and all-time max stay', t => {
  const l = new LatencyTracker({ window: 10 })
  l.record(1_000_000)
  for (let i = 0; i < 25; i++) l.record(i)
  const s = l.snapshot()
  t.is(s.count, 26)
  t.is(s.window, 10)
  t.is(s.minUs, 15)
  t.is(s.maxUs, 24)
  t.is(s.maxEverUs, 1_000_000)
})

test('empty: NaN; non-finite values ignored; negative latencies kept', t => {
  const l = new LatencyTracker()
  t.true(Number.isNaN(l.snapshot().p50Us))
  l.record(NaN)
  l.record(Infinity)
  t.is(l.count, 0)
  l.record(-50)
  t.is(l.snapshot().p99Us, -50)
  l.clearWindow()
  t.is(l.snapshot().window, 0)
  t.is(l.count, 1)
})

test('invalid window throws InvalidClockOptionError', t => {
  const err = t.throws(() => new LatencyTracker({ window: 0 }), { instanceOf: InvalidClockOptionError })
  t.is(err?.code, 'invalid-clock-option')
})
