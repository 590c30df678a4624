import test from 'ava'
import { pacemaker, rateRule, stdpRule, synapse, ModelParamError } from '../../src/models/index.ts'
import type { Model, Synapse, WeightSample } from '../../src/models/index.ts'
import { collect, isSorted } from './helpers.ts'

/**
 * Feed pre spikes from a pacemaker at `preHz` from t = 0 and a post spike every `postEveryUs` from t = 1 s
 * (when the 1 s counting window is full), merged in time order.
 */
function drive (s: Synapse, preHz: number, postEveryUs: number, untilUs: number): void {
  const pre: number[] = []
  const src: Model = pacemaker({ rateHz: preHz, phase: 0.5 })
  src.advanceTo(untilUs, (_c, tUs) => pre.push(tUs))
  let i = 0
  for (let tp = 1_000_000; tp <= untilUs; tp += postEveryUs) {
    while (i < pre.length && pre[i] <= tp) s.pre(0, pre[i++])
    s.post(0, tp)
  }
}

test('rate rule thresholds: > 20 potentiates, < 5 depresses, 5..20 does nothing; counts only the last second', t => {
  const cases: Array<[number, number | undefined]> = [[21, 4], [20, undefined], [5, undefined], [4, -4], [0, -4], [150, 4]]
  for (const [n, v] of cases) {
    const r = rateRule()
    for (let k = 0; k < n; k++) r.onPre(1_000_500 + k * (999_000 / Math.max(n, 1)))
    t.is(r.onPost(2_000_000)?.voltageV, v, `${n} pre spikes`)
  }
  const r = rateRule()
  for (let k = 0; k < 30; k++) r.onPre(k * 10_000) // 0, 10, ..., 290 ms
  t.is(r.count(1_000_000), 29) // (0 s, 1 s] excludes the spike at 0
  t.is(r.count(1_289_999), 1) // only the spike at 290 ms is inside (289.999 ms, 1289.999 ms]
  t.is(r.count(1_290_000), 0)
  const capped = rateRule()
  for (let k = 0; k < 500; k++) capped.onPre(k * 1000)
  t.is(capped.count(500_000), 100) // at most the last 100
  t.deepEqual(capped.onPost(500_000), { voltageV: 4, widthUs: 100 })
})

test('synapse with the rate rule: 30 Hz pre potentiates, 2 Hz pre depresses, 10 Hz leaves the weight alone', t => {
  const fast = synapse({ rule: 'rate' })
  const w0 = fast.weight(0)
  drive(fast, 30, 250_000, 5_000_000)
  t.true(fast.weight(0) > w0 + 50, `weight ${w0} → ${fast.weight(0)}`)
  t.true(fast.trace.every((s, i) => i === 0 || s.weight >= fast.trace[i - 1].weight))

  const slow = synapse({ rule: 'rate' })
  drive(slow, 2, 250_000, 5_000_000)
  t.true(slow.weight(0) < w0 - 50, `weight ${w0} → ${slow.weight(0)}`)

  const mid = synapse({ rule: 'rate' })
  drive(mid, 10, 250_000, 5_000_000)
  t.is(mid.weight(0), w0)
  t.is(mid.stats().pulses, 0)
})

test('STDP sign: pre before post potentiates, post before pre depresses', t => {
  const a = stdpRule()
  t.is(a.onPre(0), undefined)
  const pot = a.onPost(10_000)
  t.true(pot !== undefined && pot.voltageV > 0)
  const b = stdpRule()
  t.is(b.onPost(0), undefined)
  const dep = b.onPre(10_000)
  t.true(dep !== undefined && dep.voltageV < 0)
  const c = stdpRule({ aPlus: 1, aMinus: 0.5 })
  c.onPost(0)
  t.deepEqual(c.onPre(0), { voltageV: -4, widthUs: 50 }) // simultaneous, post first: depression of size A−
  t.true(stdpRule().size(5000) > 0)
  t.true(stdpRule().size(-5000) < 0)
})

test('STDP magnitude decays with |Δt| along exponential windows (τ+ 100 ms, τ− 37.5 ms)', t => {
  const widths = (order: 'pre-post' | 'post-pre', dts: number[]): number[] => dts.map(dt => {
    const r = stdpRule()
    const p = order === 'pre-post' ? (r.onPre(0), r.onPost(dt)) : (r.onPost(0), r.onPre(dt))
    return p?.widthUs ?? 0
  })
  const dts = [1000, 10_000, 30_000, 60_000, 100_000, 200_000]
  const pot = widths('pre-post', dts)
  const dep = widths('post-pre', dts)
  for (let i = 1; i < dts.length; i++) {
    t.true(pot[i] < pot[i - 1])
    t.true(dep[i] < dep[i - 1])
  }
  t.true(Math.abs(pot[4] - 100 * Math.exp(-1)) < 1e-9)
  t.true(Math.abs(dep[1] - 100 * Math.exp(-10 / 37.5)) < 1e-9)
  // Pairs further apart than τ ln(100 µs / 1 µs) send nothing.
  const r = stdpRule()
  r.onPre(0)
  t.is(r.onPost(500_000), undefined)
})

test('STDP fixed mapping: full pulses inside the 2020 windows only', t => {
  const pulse = (pre: number, post: number) => {
    const r = stdpRule({ mapping: 'fixed' })
    return pre < post ? (r.onPre(pre), r.onPost(post)) : (r.onPost(post), r.onPre(pre))
  }
  t.deepEqual(pulse(0, 100_000), { voltageV: 4, widthUs: 100 })
  t.is(pulse(0, 100_001), undefined)
  t.deepEqual(pulse(37_500, 0), { voltageV: -4, widthUs: 100 })
  t.is(pulse(37_501, 0), undefined)
})

test('synapse with STDP: causal pairing raises the weight, anti-causal lowers it', t => {
  const up = synapse({ rule: 'stdp', delayUs: 0 })
  const down = synapse({ rule: 'stdp', delayUs: 0 })
  const w0 = up.weight(0)
  for (let k = 0; k < 40; k++) {
    const base = k * 500_000
    up.pre(0, base)
    up.post(0, base + 5000)
    down.post(0, base)
    down.pre(0, base + 5000)
  }
  t.true(up.weight(0) > w0)
  t.true(down.weight(0) < w0)
})

test('synapse output: pre × current weight at pre time + delay, in order; weight trace and callback', t => {
  const samples: WeightSample[] = []
  const s = synapse({ synapses: 2, delayUs: 5000, rule: 'rate', onWeight: x => samples.push(x) })
  t.deepEqual(s.inputs.map(p => p.name), ['pre', 'post'])
  t.deepEqual(s.output, { name: 'out', kind: 'weighted', channels: 2 })
  const w0 = s.weight(1)
  t.true(s.pre(1, 1000))
  t.true(s.post(1, 2000)) // 1 pre spike in the last second: depress
  const w1 = s.weight(1)
  t.true(w1 < w0)
  t.true(s.pre(1, 3000, 2))
  t.is(s.nextEventUs(), 6000)
  const out = collect(s, 10_000)
  t.deepEqual(out, [{ channel: 1, timeUs: 6000, value: w0 }, { channel: 1, timeUs: 8000, value: 2 * w1 }])
  t.deepEqual(samples.map(x => [x.synapse, x.timeUs]), [[0, 0], [1, 0], [1, 2000]])
  t.deepEqual(s.trace, samples)
  t.is(samples[2].weight, w1)
})

test('synapse: late and invalid inputs are counted; late outputs go out at the current time', t => {
  const s = synapse({ delayUs: 1000, rule: 'none' })
  s.pre(0, 10_000)
  t.true(s.pre(0, 9000)) // earlier than the previous input: processed at 10 000
  t.false(s.pre(3, 11_000))
  t.false(s.post(0, Number.NaN))
  collect(s, 50_000)
  t.true(s.pre(0, 40_000)) // output due at 41 000 but time is already 50 000
  const out = collect(s, 60_000)
  t.deepEqual(out.map(e => e.timeUs), [50_000])
  const st = s.stats()
  t.is(st.late, 1)
  t.is(st.invalid, 2)
  t.is(st.lateOutputs, 1)
})

test('synapse state is non-volatile: save and restore the resistances', t => {
  const a = synapse({ synapses: 3, rule: 'rate', device: { noise: 0.1 }, seed: 4 })
  drive(a, 30, 200_000, 3_000_000)
  const saved = JSON.parse(JSON.stringify(a.save()))
  const b = synapse({ synapses: 3, rule: 'rate', device: { noise: 0.1 }, seed: 4, state: saved })
  for (let i = 0; i < 3; i++) t.is(b.resistanceKOhm(i), a.resistanceKOhm(i))
  t.throws(() => synapse({ synapses: 2, state: saved }), { instanceOf: ModelParamError })
})

test('synapse determinism: same seed and inputs, same outputs and trace', t => {
  const run = (seed: number) => {
    const s = synapse({ synapses: 1, rule: 'rate', device: { noise: 0.3 }, seed })
    drive(s, 30, 100_000, 3_000_000)
    const out = collect(s, 4_000_000)
    t.true(isSorted(out))
    return { out, trace: s.trace }
  }
  t.deepEqual(run(1), run(1))
  t.notDeepEqual(run(1).trace, run(2).trace)
})

test('describe() names the rule and lists device and rule parameters', t => {
  const d = synapse({ rule: 'stdp' }).describe()
  t.is(d.name, 'memristive-synapse/stdp')
  const p = new Map(d.params.map(([n, v, u]) => [n, [v, u]]))
  t.deepEqual(p.get('tau_plus'), [100, 'ms'])
  t.deepEqual(p.get('tau_minus'), [37.5, 'ms'])
  t.deepEqual(p.get('R_max'), [9, 'kOhm'])
  t.deepEqual(p.get('delay'), [10, 'ms'])
  t.deepEqual(synapse().describe().params.find(x => x[0] === 'rate_window'), ['rate_window', 1000, 'ms'])
})
