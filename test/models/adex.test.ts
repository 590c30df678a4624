import test from 'ava'
import { adex, ModelParamError } from '../../src/models/index.ts'
import { collect, intervals, isSorted } from './helpers.ts'

test('describe() carries the Brette & Gerstner 2005 defaults', t => {
  const p = new Map(adex().describe().params.map(([n, v, u]) => [n, [v, u]]))
  t.deepEqual(p.get('C'), [281, 'pF'])
  t.deepEqual(p.get('g_L'), [30, 'nS'])
  t.deepEqual(p.get('E_L'), [-70.6, 'mV'])
  t.deepEqual(p.get('V_T'), [-50.4, 'mV'])
  t.deepEqual(p.get('Delta_T'), [2, 'mV'])
  t.deepEqual(p.get('tau_w'), [144, 'ms'])
  t.deepEqual(p.get('a'), [4, 'nS'])
  t.deepEqual(p.get('b'), [0.0805, 'nA'])
  t.deepEqual(p.get('dt'), [10, 'us'])
})

test('adaptation: inter-spike intervals grow under a step current', t => {
  const n = adex()
  t.is(collect(n, 200_000).length, 0) // at rest without input
  n.setBias(1)
  const ts = collect(n, 1_200_000).map(e => e.timeUs)
  const isi = intervals(ts)
  t.true(isi.length > 10)
  for (let i = 1; i < isi.length; i++) t.true(isi[i] >= isi[i - 1] - 20, `ISI ${i} ${isi[i]} after ${isi[i - 1]}`)
  t.true(isi[isi.length - 1] > 2 * isi[0], `first ${isi[0]} µs, last ${isi[isi.length - 1]} µs`)
  t.true(n.adaptation(0) > 0)
})

test('no spikes below rheobase', t => {
  const n = adex({ biasNa: 0.5 })
  t.is(collect(n, 2_000_000).length, 0)
  t.true(n.potential(0) < -50)
})

test('the fixed step converges: 10 µs and 1 µs steps agree on spike times (within 20 µs + 0.1% of the time)', t => {
  const a = collect(adex({ biasNa: 2 }), 300_000).map(e => e.timeUs)
  const b = collect(adex({ biasNa: 2, stepUs: 1 }), 300_000).map(e => e.timeUs)
  t.is(a.length, b.length)
  t.true(Math.abs(a[0] - b[0]) < 20, `first spike ${a[0]} vs ${b[0]}`)
  for (let i = 0; i < a.length; i++) t.true(Math.abs(a[i] - b[i]) < 20 + 0.001 * b[i], `spike ${i}: ${a[i]} vs ${b[i]}`)
})

test('synaptic input: a strong event makes the neuron fire a few ms later, a weak one does not', t => {
  const strong = adex({ channels: 2 })
  strong.input(0, 10_000, 255) // 2.55 nA decaying with τ_syn = 5 ms
  strong.input(1, 10_000, 20)
  const out = collect(strong, 100_000)
  t.is(out.length, 1)
  t.is(out[0].channel, 0)
  t.true(out[0].timeUs > 10_000 && out[0].timeUs < 25_000, `spike at ${out[0].timeUs}`)
})

test('deterministic, and identical when advanced in multiples of the step', t => {
  const run = (slices: number): number[] => {
    const n = adex({ channels: 3, biasNa: [0.8, 1.2, 2] })
    const out: ReturnType<typeof collect> = []
    for (let k = 1; k <= slices; k++) collect(n, (500_000 / slices) * k, out)
    t.true(isSorted(out))
    return out.map(e => e.channel * 1e9 + e.timeUs)
  }
  const one = run(1)
  t.deepEqual(run(1), one)
  t.deepEqual(run(50), one) // 10 ms slices are whole steps
  t.true(one.length > 50)
})

test('bad parameters throw ModelParamError', t => {
  t.throws(() => adex({ stepUs: 0 }), { instanceOf: ModelParamError })
  t.throws(() => adex({ vPeakMv: -60 }), { instanceOf: ModelParamError })
})
