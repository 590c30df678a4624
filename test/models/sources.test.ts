import test from 'ava'
import { pacemaker, poisson, ModelParamError } from '../../src/models/index.ts'
import { collect, intervals, isSorted, mean, sd } from './helpers.ts'

test('Poisson: rate and CV of one channel within statistical bounds (seed 1)', t => {
  const p = poisson({ rateHz: 20, seed: 1 })
  const ts = collect(p, 500_000_000).map(e => e.timeUs)
  const expected = 20 * 500
  // Count ~ Poisson(10 000): sd 100; allow 4 sd.
  t.true(Math.abs(ts.length - expected) < 4 * Math.sqrt(expected), `${ts.length} spikes`)
  const isi = intervals(ts)
  const cv = sd(isi) / mean(isi)
  // The CV estimate of n exponential intervals has sd ≈ 1/√n ≈ 0.01; allow 0.04.
  t.true(Math.abs(cv - 1) < 0.04, `CV ${cv}`)
  t.true(Math.abs(mean(isi) - 50_000) < 4 * 50_000 / Math.sqrt(isi.length))
})

test('Poisson: many channels, per-channel rates, merged in time order', t => {
  const rates = Array.from({ length: 32 }, (_, i) => 2 + i)
  const p = poisson({ channels: 32, rateHz: rates, seed: 2 })
  const out = collect(p, 100_000_000)
  t.true(isSorted(out))
  for (let c = 0; c < 32; c++) {
    const n = out.filter(e => e.channel === c).length
    const expected = rates[c] * 100
    t.true(Math.abs(n - expected) < 4.5 * Math.sqrt(expected), `channel ${c}: ${n} vs ${expected}`)
  }
})

test('Poisson: same seed same train, other seed other train, slicing does not matter', t => {
  const a = collect(poisson({ channels: 4, rateHz: 50, seed: 9 }), 10_000_000)
  const b = poisson({ channels: 4, rateHz: 50, seed: 9 })
  const sliced: ReturnType<typeof collect> = []
  for (let k = 1; k <= 100; k++) collect(b, k * 100_000, sliced)
  t.deepEqual(sliced, a)
  t.notDeepEqual(collect(poisson({ channels: 4, rateHz: 50, seed: 10 }), 10_000_000), a)
})

test('Poisson: setRate applies from the current time; rate 0 is silent; nextEventUs is the next spike', t => {
  const p = poisson({ rateHz: 100, seed: 3, startUs: 1_000_000 })
  const next = p.nextEventUs()
  const first = collect(p, 2_000_000)
  t.is(first[0].timeUs, next)
  t.true(first.every(e => e.timeUs >= 1_000_000 && e.timeUs <= 2_000_000))
  p.setRate(0)
  t.is(p.nextEventUs(), Infinity)
  t.is(collect(p, 10_000_000).length, 0)
  p.setRate(10, 0)
  const later = collect(p, 110_000_000)
  t.true(later.every(e => e.timeUs > 10_000_000))
  t.true(Math.abs(later.length - 1000) < 4 * Math.sqrt(1000))
  t.throws(() => poisson({ rateHz: -1 }), { instanceOf: ModelParamError })
})

test('pacemaker: exact times at 10 Hz from the start time', t => {
  const p = pacemaker({ rateHz: 10, startUs: 1_700_000_000_000_000 })
  const out = collect(p, 1_700_000_000_000_000 + 1_000_000)
  t.deepEqual(out.map(e => e.timeUs - 1_700_000_000_000_000), [0, 100_000, 200_000, 300_000, 400_000, 500_000, 600_000, 700_000, 800_000, 900_000, 1_000_000])
})

test('pacemaker: phases per channel, merged in order, no drift over many periods', t => {
  const p = pacemaker({ channels: 3, rateHz: [10, 10, 3], phase: [0, 0.25, 0.5] })
  const out = collect(p, 1000 * 1_000_000)
  t.true(isSorted(out))
  const ch = (c: number) => out.filter(e => e.channel === c).map(e => e.timeUs)
  t.deepEqual(ch(1).slice(0, 3), [25_000, 125_000, 225_000])
  t.is(ch(0).length, 10_001)
  t.is(ch(0)[10_000], 1_000_000_000)
  const third = ch(2)
  t.is(third[0], 1e6 / 3 / 2)
  // The k-th spike is computed, not accumulated: exactly (0.5 + k) · 10^6/3.
  for (const k of [1, 100, 2999]) t.is(third[k], (0.5 + k) * (1e6 / 3))
})

test('pacemaker: setRate continues one new period after the last spike', t => {
  const p = pacemaker({ rateHz: 10 })
  collect(p, 250_000) // spikes at 0, 100 000, 200 000
  p.setRate(20)
  const out = collect(p, 400_000).map(e => e.timeUs)
  t.deepEqual(out, [250_000, 300_000, 350_000, 400_000])
  t.throws(() => pacemaker({ phase: 1 }), { instanceOf: ModelParamError })
})
