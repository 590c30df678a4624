import test from 'ava'
import { CultureEmulator, culture, cultureElectrode, evokedProbability, prng, pulseChargeNc } from '../../src/models/index.ts'
import type { SpikeOrigin } from '../../src/models/index.ts'
import { collect, isSorted, mean } from './helpers.ts'

interface Rec { e: number, t: number, origin: SpikeOrigin }
function record (d: CultureEmulator, tUs: number): Rec[] {
  const out: Rec[] = []
  d.advanceTo(tUs, (e, t, origin) => out.push({ e, t, origin }))
  return out
}

test('the evoked-probability formula is a monotonic sigmoid with the documented values', t => {
  t.is(evokedProbability(128), 0.45)
  t.true(evokedProbability(0) < 0.002)
  t.true(Math.abs(evokedProbability(255) - 0.9 / (1 + Math.exp(-127 / 20))) < 1e-15)
  for (let w = 1; w <= 255; w++) t.true(evokedProbability(w) > evokedProbability(w - 1))
})

test('evoked response rates follow P(w) within statistical bounds; latencies lie in [5, 15] ms', t => {
  const d = new CultureEmulator({ electrodes: 1, spontaneousHz: 0, seed: 11 })
  const amplitudes = [0, 64, 96, 112, 128, 144, 160, 192, 255]
  const n = 1500
  const rates: number[] = []
  const latencies: number[] = []
  let tUs = 0
  for (const w of amplitudes) {
    let evoked = 0
    for (let i = 0; i < n; i++) {
      tUs += 50_000 // longer than the largest latency: each response belongs to one stimulus
      t.true(d.stimulate(0, tUs, w).delivered)
      const out = record(d, tUs + 20_000)
      for (const r of out) {
        t.is(r.origin, 'evoked')
        latencies.push(r.t - tUs)
      }
      evoked += out.length
    }
    const p = evokedProbability(w)
    const rate = evoked / n
    rates.push(rate)
    t.true(Math.abs(rate - p) <= 4 * Math.sqrt(p * (1 - p) / n) + 1 / n, `w=${w}: ${rate} vs ${p}`)
  }
  for (let i = 1; i < rates.length; i++) t.true(rates[i] >= rates[i - 1] - 0.03, `rates ${rates.join(' ')}`)
  t.true(latencies.every(l => l >= 5000 && l <= 15_000))
  t.true(Math.abs(mean(latencies) - 10_000) < 300, `mean latency ${mean(latencies)}`)
  t.true(Math.min(...latencies) < 6000 && Math.max(...latencies) > 14_000)
})

test('spontaneous activity: ~1 Hz per electrode; stimulation does not change it', t => {
  const a = new CultureEmulator({ seed: 5 })
  const b = new CultureEmulator({ seed: 5 })
  for (let k = 1; k <= 200; k++) b.stimulate(k % 16, k * 100_000, 200)
  const ra = record(a, 100_000_000)
  const rb = record(b, 100_000_000)
  t.true(isSorted(ra.map(r => ({ channel: r.e, timeUs: r.t }))))
  t.true(isSorted(rb.map(r => ({ channel: r.e, timeUs: r.t }))))
  t.true(ra.every(r => r.origin === 'spontaneous'))
  t.true(Math.abs(ra.length - 1600) < 4 * 40, `${ra.length} spontaneous spikes`)
  t.deepEqual(rb.filter(r => r.origin === 'spontaneous'), ra)
  t.true(rb.some(r => r.origin === 'evoked'))
})

test('deterministic for a seed', t => {
  const run = (seed: number): Rec[] => {
    const d = new CultureEmulator({ electrodes: 4, seed })
    for (let k = 1; k <= 100; k++) d.stimulate(k % 4, k * 30_000, 150)
    return record(d, 5_000_000)
  }
  t.deepEqual(run(3), run(3))
  t.notDeepEqual(run(3), run(4))
})

test('guard: pulses closer than the minimum interval are refused and counted', t => {
  const c = culture({ electrodes: 2, spontaneousHz: 0, limits: { minIntervalUs: 20_000 } })
  t.true(c.input(0, 100_000, 255))
  t.false(c.input(0, 110_000, 255))
  t.is(c.lastOutcome?.reason, 'rate')
  t.true(c.input(1, 110_000, 255)) // other electrode
  t.true(c.input(0, 120_000, 255))
  const k = c.counters()
  t.is(k.delivered, 3)
  t.is(k.refusedRate, 1)
  t.is(c.stats().refusedRate, 1)
})

test('guard: the charge budget per sliding window refuses excess pulses until the window moves on', t => {
  // Defaults: 2 nC per full-scale pulse (10 µA × 200 µs), 20 nC per electrode per 1 s window.
  const c = culture({ electrodes: 1, spontaneousHz: 0, limits: { minIntervalUs: 1000 } })
  t.is(pulseChargeNc(c.guard.pulse, 255), 2)
  const outcomes = Array.from({ length: 12 }, (_, k) => c.stimulate(0, 1_000_000 + k * 50_000, 255))
  t.deepEqual(outcomes.map(o => o.delivered), [true, true, true, true, true, true, true, true, true, true, false, false])
  t.is(outcomes[10].reason, 'charge')
  t.is(c.counters().refusedCharge, 2)
  t.is(c.guard.chargeInWindow(0, 1_550_000), 20)
  // A half-amplitude pulse still does not fit; at t = 2.0 s the first pulse (t = 1.0 s) has left the window.
  t.false(c.input(0, 1_999_999, 127.5))
  t.true(c.input(0, 2_000_000, 255))
  t.is(c.counters().chargeNc, 22)
})

test('guard: invalid requests are refused, never thrown', t => {
  const c = culture({ electrodes: 2, spontaneousHz: 0 })
  const bad: Array<[number, number, number]> = [[2, 0, 10], [-1, 0, 10], [0.5, 0, 10], [0, Number.NaN, 10], [0, 0, 256], [0, 0, -1], [0, 0, Number.NaN], [0, 0, Number.POSITIVE_INFINITY]]
  for (const [e, tUs, w] of bad) t.false(c.input(e, tUs, w))
  t.is(c.counters().refusedInvalid, bad.length)
  t.is(c.counters().delivered, 0)
  t.is(c.guard.device.stats().stimuli, 0)
})

test('guard: whatever the input, delivered pulses respect both limits', t => {
  const r = prng(77)
  const limits = { minIntervalUs: 10_000, chargeWindowUs: 200_000, maxChargeNc: 5 }
  const c = culture({ electrodes: 3, spontaneousHz: 0, seed: 1, limits })
  const delivered: Array<{ e: number, t: number, q: number }> = []
  let tUs = 0
  for (let i = 0; i < 20_000; i++) {
    tUs += r.exponential(1) * 2000 - 200 // sometimes goes back in time
    const e = r.int(4) - (r.bernoulli(0.01) ? 5 : 0)
    const w = r.bernoulli(0.02) ? 1000 : r.uniform(0, 255)
    const o = c.stimulate(e, tUs, w)
    if (o.delivered) delivered.push({ e, t: o.timeUs, q: o.chargeNc })
  }
  const k = c.counters()
  t.is(delivered.length, k.delivered)
  t.true(k.refusedRate > 0 && k.refusedCharge > 0 && k.refusedInvalid > 0)
  for (let e = 0; e < 3; e++) {
    const mine = delivered.filter(d => d.e === e)
    for (let i = 1; i < mine.length; i++) t.true(mine[i].t - mine[i - 1].t >= limits.minIntervalUs)
    for (let i = 0; i < mine.length; i++) {
      let q = 0
      for (let j = i; j >= 0 && mine[j].t > mine[i].t - limits.chargeWindowUs; j--) q += mine[j].q
      if (q > limits.maxChargeNc + 1e-9) t.fail(`electrode ${e} window charge ${q}`)
    }
  }
})

test('model: evoked spikes on channels electrodes + e, spontaneous on e; describe carries the limits', t => {
  const c = culture({ electrodes: 4, spontaneousHz: 2, seed: 8, pMax: 1, w50: 10, slope: 1 })
  t.is(c.output.channels, 8)
  t.deepEqual(c.inputs, [{ name: 'stim', kind: 'weighted', channels: 4 }])
  for (let k = 0; k < 20; k++) t.true(c.input(k % 4, 100_000 + k * 100_000, 255))
  const out = collect(c, 3_000_000)
  t.true(isSorted(out))
  const evoked = out.filter(e => cultureElectrode(e.channel, 4).origin === 'evoked')
  t.is(evoked.length, 20) // P = 1 at w = 255 with these parameters (to 1e-100)
  for (const [k, ev] of evoked.entries()) {
    t.is(ev.channel, 4 + (k % 4))
    const dt = ev.timeUs - (100_000 + k * 100_000)
    t.true(dt >= 5000 && dt <= 15_000)
  }
  t.is(c.stats().outEvoked, 20)
  t.is(c.stats().outSpontaneous, out.length - 20)
  t.true(typeof c.nextEventUs === 'function')
  const p = new Map(c.describe().params.map(([n, v, u]) => [n, [v, u]]))
  t.deepEqual(p.get('stim_min_interval'), [20, 'ms'])
  t.deepEqual(p.get('stim_max_charge'), [20, 'nC'])
  t.deepEqual(p.get('spontaneous_rate'), [2, 'Hz'])
})
