import test from 'ava'
import { lif, ModelParamError, ModelUsageError } from '../../src/models/index.ts'
import { collect, intervals, isSorted, mean } from './helpers.ts'

// Defaults: C 250 pF, τ 10 ms (R = 40 MΩ), E_L = V_reset = −70 mV, θ = −50 mV, t_ref = 2 ms.
const R_MOHM = 40
const TAU_MS = 10
const T_REF_MS = 2
const GAP_MV = 20

function analyticRateHz (iNa: number): number {
  const ri = R_MOHM * iNa // mV
  return 1000 / (T_REF_MS + TAU_MS * Math.log(ri / (ri - GAP_MV)))
}

test('firing rate under constant suprathreshold input matches 1/(t_ref + τ ln(RI/(RI − (θ − V_reset)))) within 1%', t => {
  for (const iNa of [0.55, 0.7, 1, 2, 5]) {
    const n = lif({ biasNa: iNa })
    const spikes = collect(n, 5_000_000).map(e => e.timeUs)
    t.true(spikes.length > 10, `${iNa} nA fired`)
    const measured = 1e6 / mean(intervals(spikes))
    const expected = analyticRateHz(iNa)
    t.true(Math.abs(measured / expected - 1) < 0.01, `${iNa} nA: ${measured} Hz vs ${expected} Hz`)
    // The first spike is at the analytic crossing time from rest.
    const first = TAU_MS * 1000 * Math.log((R_MOHM * iNa) / (R_MOHM * iNa - GAP_MV))
    t.true(Math.abs(spikes[0] - first) < 1e-6)
  }
})

test('no spikes at or below rheobase (0.5 nA with the defaults)', t => {
  for (const iNa of [0, 0.3, 0.49, 0.5]) {
    const n = lif({ biasNa: iNa })
    t.is(collect(n, 20_000_000).length, 0, `${iNa} nA`)
    t.is(n.nextEventUs(), Infinity)
  }
  const n = lif({ biasNa: 0.49 })
  n.advanceTo(1_000_000, () => {})
  t.true(Math.abs(n.potential(0) - (-70 + 40 * 0.49)) < 1e-6)
})

test('a suprathreshold input jump fires at the input time; subthreshold inputs decay', t => {
  const n = lif({ wUnitMv: 1 })
  t.true(n.input(0, 1000, 25))
  const out = collect(n, 2000)
  t.deepEqual(out, [{ channel: 0, timeUs: 1000 }])
  t.is(n.potential(0), -70)
  const m = lif({ wUnitMv: 1 })
  m.input(0, 1000, 10)
  m.advanceTo(1000, () => {})
  t.true(Math.abs(m.potential(0) - -60) < 1e-9)
  m.advanceTo(1000 + TAU_MS * 1000, () => {})
  t.true(Math.abs(m.potential(0) - (-70 + 10 / Math.E)) < 1e-9)
  t.is(m.stats().spikes, 0)
})

test('inputs during the refractory period are ignored and counted', t => {
  const n = lif({ wUnitMv: 1 })
  n.input(0, 1000, 30)
  n.input(0, 2000, 30) // 1 ms after the spike: refractory (2 ms)
  n.input(0, 3500, 30)
  const out = collect(n, 10_000)
  t.deepEqual(out.map(e => e.timeUs), [1000, 3500])
  t.is(n.stats().refractoryIgnored, 1)
})

test('channels are independent and outputs come in time order; nextEventUs is the next spike', t => {
  const n = lif({ channels: 3, biasNa: [0.6, 1, 3] })
  const next = n.nextEventUs()
  const out = collect(n, 1_000_000)
  t.is(out[0].timeUs, next)
  t.true(isSorted(out))
  const counts = [0, 1, 2].map(c => out.filter(e => e.channel === c).length)
  t.true(counts[0] < counts[1] && counts[1] < counts[2])
  for (const c of [0, 1, 2]) {
    const ts = out.filter(e => e.channel === c).map(e => e.timeUs)
    const expected = analyticRateHz([0.6, 1, 3][c])
    t.true(Math.abs(1e6 / mean(intervals(ts)) / expected - 1) < 0.01)
  }
})

test('results do not depend on how advanceTo is sliced', t => {
  const make = () => {
    const n = lif({ channels: 2, biasNa: [0.8, 0.4], wUnitMv: 2 })
    for (let k = 0; k < 200; k++) n.input(k % 2, 1000 + k * 2500, 3)
    return n
  }
  const a = collect(make(), 600_000)
  const b = make()
  const outB: ReturnType<typeof collect> = []
  for (let tUs = 0; tUs <= 600_000; tUs += 777) collect(b, tUs, outB)
  collect(b, 600_000, outB)
  t.deepEqual(outB, a)
  t.true(a.length > 0)
})

test('setBias takes effect from the current time', t => {
  const n = lif()
  t.is(collect(n, 100_000).length, 0)
  n.setBias(1)
  const out = collect(n, 200_000)
  const first = 100_000 + TAU_MS * 1000 * Math.log(40 / 20)
  t.true(Math.abs(out[0].timeUs - first) < 1e-6)
})

test('late, invalid and overflowing inputs are counted, never thrown', t => {
  const n = lif({ maxPendingInputs: 2, wUnitMv: 1 })
  n.advanceTo(10_000, () => {})
  t.true(n.input(0, 5000, 1)) // late: applied at 10 000
  t.false(n.input(1, 20_000, 1)) // no channel 1
  t.false(n.input(0, Number.NaN, 1))
  t.false(n.input(0, 20_000, Number.POSITIVE_INFINITY))
  t.true(n.input(0, 20_000, 1))
  t.false(n.input(0, 30_000, 1)) // queue full
  const s = n.stats()
  t.is(s.late, 1)
  t.is(s.invalid, 3)
  t.is(s.overflow, 1)
  t.is(s.accepted, 2)
  t.throws(() => { n.advanceTo(Number.POSITIVE_INFINITY, () => {}) }, { instanceOf: ModelUsageError })
})

test('describe() lists parameters with units; bad parameters throw ModelParamError', t => {
  const d = lif({ channels: 4, biasNa: 0.2 }).describe()
  t.is(d.name, 'lif')
  const p = new Map(d.params.map(([name, value, unit]) => [name, { value, unit }]))
  t.deepEqual(p.get('tau_m'), { value: 10, unit: 'ms' })
  t.deepEqual(p.get('C'), { value: 250, unit: 'pF' })
  t.deepEqual(p.get('I_bias'), { value: 0.2, unit: 'nA' })
  t.deepEqual(p.get('channels'), { value: 4, unit: '' })
  t.throws(() => lif({ tauMs: 0 }), { instanceOf: ModelParamError })
  t.throws(() => lif({ vResetMv: -40 }), { instanceOf: ModelParamError })
  t.throws(() => lif({ channels: 2, biasNa: [1] }), { instanceOf: ModelParamError })
})
