import test from 'ava'
import { ClosedError, InvalidTimingOptionError } from '../../src/timing/errors.ts'
import { PlayoutBuffer } from '../../src/timing/playout.ts'
import { SimulatedScheduler } from '../../src/timing/sim-scheduler.ts'
import { ClockEstimator } from '../../src/protocols/clock/estimator.ts'
import { clockSample } from '../../src/protocols/clock/sample.ts'
import { rng, scheduleArrivals, streamSim } from './sim.ts'
import type { PlayoutDelay, PlayoutDelivery, LatePolicy } from '../../src/timing/playout.ts'
import type { SimEvent, StreamSim } from './sim.ts'

/** 20 ± 5 ms (uniform). */
const jitter20 = (r: () => number): number => 15_000 + 10_000 * r()

function run (sim: StreamSim, delay: PlayoutDelay, late: LatePolicy = 'deliver', maxQueue?: number): { out: Array<PlayoutDelivery<SimEvent>>, p: PlayoutBuffer<SimEvent> } {
  const out: Array<PlayoutDelivery<SimEvent>> = []
  const p = new PlayoutBuffer<SimEvent>({ scheduler: sim.scheduler, delay, late, maxQueue, toLocal: sim.toLocal, onDeliver: d => out.push(d) })
  scheduleArrivals(sim, e => { p.push(e.timeUs, e) })
  sim.scheduler.runUntilIdle()
  return { out, p }
}

function maxIsiError (out: ReadonlyArray<PlayoutDelivery<SimEvent>>): number {
  let worst = 0
  for (let i = 1; i < out.length; i++) {
    const isiIn = out[i].item.localUs - out[i - 1].item.localUs
    const isiOut = out[i].atUs - out[i - 1].atUs
    worst = Math.max(worst, Math.abs(isiOut - isiIn))
  }
  return worst
}

test('fixed D above the worst latency: every event at mapped time + D, intervals preserved', t => {
  const sim = streamSim({ seed: 1, rateHz: 500, durationUs: 5_000_000, latencyUs: jitter20, offsetUs: 1_500_000, driftPpm: 100 })
  const { out, p } = run(sim, { mode: 'fixed', us: 30_000 })
  t.is(out.length, sim.events.length)
  t.true(out.every((d, i) => d.item.i === i && !d.late))
  t.true(out.every(d => Math.abs(d.atUs - (d.item.localUs + 30_000)) < 1e-3))
  t.true(maxIsiError(out) < 1e-3, `ISI error ${maxIsiError(out)} µs`)
  const s = p.stats()
  t.is(s.late, 0)
  // In-order delivery: an event waits behind slower earlier ones, so the median is above 20 ms.
  t.true(s.latency.p50Us > 20_000 && s.latency.p50Us < 25_000, `p50 ${s.latency.p50Us}`)
  t.true(s.latency.maxUs <= 25_000 + 1)
})

test('adaptive D under 20 ± 5 ms jitter: late ≤ 0.1 % once settled, no reordering, intervals kept within the slew', t => {
  for (const seed of [2, 3, 4]) {
    const sim = streamSim({ seed, rateHz: 500, durationUs: 20_000_000, latencyUs: jitter20, offsetUs: -800_000, driftPpm: -50 })
    const { out, p } = run(sim, { mode: 'adaptive' })
    t.is(out.length, sim.events.length)
    for (let i = 1; i < out.length; i++) {
      if (out[i].item.i < out[i - 1].item.i || out[i].atUs < out[i - 1].atUs) t.fail('reordered')
    }
    const settled = out.filter(d => d.item.localUs > sim.events[0].localUs + 2_000_000)
    const lateFraction = settled.filter(d => d.late).length / settled.length
    t.true(lateFraction <= 0.001, `seed ${seed} late fraction after 2 s ${lateFraction}`)
    const s = p.stats()
    t.true(s.delayUs > 24_000 && s.delayUs < 28_000, `D ${s.delayUs}`)
    // Between two on-time deliveries, D moved by at most slewUp × interval.
    let worst = 0
    for (let i = 1; i < settled.length; i++) {
      const a = settled[i - 1]
      const b = settled[i]
      if (a.late || b.late) continue
      const isiIn = b.item.localUs - a.item.localUs
      // 0.5 µs: the resolution of a double at 1.7e15 µs is 0.25 µs.
      worst = Math.max(worst, (Math.abs((b.atUs - a.atUs) - isiIn) - 0.5) / Math.max(isiIn, 1))
    }
    t.true(worst <= 0.1, `relative ISI distortion ${worst}`)
    t.log(`seed ${seed}: D ${(s.delayUs / 1000).toFixed(2)} ms, late after 2 s ${(lateFraction * 100).toFixed(3)} %, total late ${s.late}/${s.received}`)
  }
})

test('late policy: too small a fixed D makes late events, delivered flagged or dropped, counted either way', t => {
  const mk = (): StreamSim => streamSim({ seed: 5, rateHz: 300, durationUs: 3_000_000, latencyUs: jitter20 })
  const expectedLate = (sim: StreamSim): number => {
    // An event is late when its arrival exceeds its slot; slots never precede the previous slot.
    let lastSlot = -Infinity
    let n = 0
    for (const e of sim.events) {
      const due = e.localUs + 20_000
      if (due < e.arrivalUs) { n++; continue }
      lastSlot = Math.max(due, lastSlot)
    }
    return n
  }
  const simD = mk()
  const want = expectedLate(simD)
  t.true(want > 100)
  const d = run(simD, { mode: 'fixed', us: 20_000 }, 'deliver')
  t.is(d.p.stats().late, want)
  t.is(d.p.stats().lateDropped, 0)
  t.is(d.out.length, simD.events.length)
  t.is(d.out.filter(x => x.late).length, want)
  // A late event goes out the moment it arrives.
  t.true(d.out.filter(x => x.late).every(x => x.atUs === x.item.arrivalUs))
  const simX = mk()
  const x = run(simX, { mode: 'fixed', us: 20_000 }, 'drop')
  t.is(x.p.stats().late, want)
  t.is(x.p.stats().lateDropped, want)
  t.is(x.out.length, simX.events.length - want)
  t.true(x.out.every(o => !o.late && Math.abs(o.atUs - o.item.localUs - 20_000) < 1e-3))
})

test('synaptic delay ≥ latency: exact delivery at time + d, no violations', t => {
  const sim = streamSim({ seed: 6, rateHz: 400, durationUs: 3_000_000, latencyUs: jitter20, offsetUs: 250_000, driftPpm: 80 })
  const { out, p } = run(sim, { mode: 'synaptic', us: 25_000 })
  t.is(p.stats().violations, 0)
  t.is(out.length, sim.events.length)
  t.true(out.every(d => !d.violation && Math.abs(d.atUs - (d.item.localUs + 25_000)) < 1e-3))
})

test('synaptic delay < latency: delivered as early as possible, each violation counted', t => {
  const sim = streamSim({ seed: 7, rateHz: 400, durationUs: 3_000_000, latencyUs: jitter20 })
  const d = 21_000
  const { out, p } = run(sim, { mode: 'synaptic', us: d })
  const violating = sim.events.filter(e => e.localUs + d < e.arrivalUs)
  t.true(violating.length > 100 && violating.length < sim.events.length)
  t.is(p.stats().violations, violating.length)
  t.is(p.stats().late, 0)
  t.is(out.length, sim.events.length)
  for (const o of out) {
    if (o.violation) t.true(o.atUs === o.item.arrivalUs, 'a violating event goes out on arrival')
    else t.true(Math.abs(o.atUs - (o.item.localUs + d)) < 1e-3, 'the others exactly at time + d')
  }
  // d far below the latency: all violate.
  const all = run(streamSim({ seed: 8, rateHz: 100, durationUs: 1_000_000, latencyUs: jitter20 }), { mode: 'synaptic', us: 1000 })
  t.is(all.p.stats().violations, all.out.length)
})

test('bounded queue: arrivals beyond maxQueue are dropped and counted', t => {
  const scheduler = new SimulatedScheduler()
  const now = scheduler.nowUs()
  const out: number[] = []
  const p = new PlayoutBuffer<number>({ scheduler, delay: { mode: 'fixed', us: 1_000_000 }, maxQueue: 10, onDeliver: d => out.push(d.item) })
  for (let i = 0; i < 25; i++) p.push(now + i, i)
  t.is(p.stats().overflow, 15)
  t.is(p.stats().queued, 10)
  scheduler.runUntilIdle()
  t.deepEqual(out, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
})

test('events overtaken in the network are put back in order; one older than a delivered event is late', t => {
  const scheduler = new SimulatedScheduler()
  const now = scheduler.nowUs()
  const out: Array<[number, boolean]> = []
  const p = new PlayoutBuffer<number>({ scheduler, delay: { mode: 'fixed', us: 10_000 }, onDeliver: d => out.push([d.item, d.late]) })
  p.push(now + 100, 1)
  p.push(now + 50, 2) // overtaken, still in time
  p.push(now + 200, 3)
  scheduler.advanceTo(now + 10_150) // delivers 2 and 1
  p.push(now + 80, 4) // older than the delivered event 1 → out of order, late
  scheduler.runUntilIdle()
  t.is(p.stats().outOfOrder, 1)
  t.is(p.stats().late, 1)
  t.deepEqual(out, [[2, false], [1, false], [4, true], [3, false]])
})

test('a reordering network (exponential jitter, no head-of-line blocking): adaptive D keeps late ≤ 0.1 %', t => {
  for (const seed of [1, 2, 3]) {
    const sim = streamSim({ seed, rateHz: 500, durationUs: 20_000_000, inOrder: false, latencyUs: r => 15_000 - Math.log(1 - r()) * 2000 })
    const { out, p } = run(sim, { mode: 'adaptive' })
    const settled = out.filter(d => d.item.localUs > sim.events[0].localUs + 2_000_000)
    const lateFraction = settled.filter(d => d.late).length / settled.length
    t.true(lateFraction <= 0.001, `seed ${seed} late ${lateFraction}`)
    t.true(out.filter(d => !d.late).every((d, i, a) => i === 0 || d.item.timeUs >= a[i - 1].item.timeUs), 'on-time events in time order')
    t.log(`seed ${seed}: D ${(p.stats().delayUs / 1000).toFixed(2)} ms, late after 2 s ${(lateFraction * 100).toFixed(3)} %`)
  }
})

test('stats events, idle() and close()', async t => {
  const scheduler = new SimulatedScheduler()
  const now = scheduler.nowUs()
  const seen: number[] = []
  const p = new PlayoutBuffer<number>({ scheduler, delay: { mode: 'fixed', us: 5000 }, statsEveryUs: 100_000, onDeliver: () => {} })
  const off = p.onStats(s => seen.push(s.delivered))
  const idle = p.idle()
  for (let i = 0; i < 50; i++) {
    scheduler.advanceTo(now + i * 10_000)
    p.push(now + i * 10_000, i)
  }
  scheduler.runUntilIdle()
  await idle
  t.true(seen.length >= 4)
  off()
  p.push(scheduler.nowUs(), 99)
  p.push(scheduler.nowUs() + 1, 100)
  p.close()
  t.is(p.stats().discarded, 2)
  const err = t.throws(() => { p.push(0, 1) }, { instanceOf: ClosedError })
  t.is(err?.code, 'closed')
  t.is(scheduler.pending, 0)
})

test('idle() rejects when its signal aborts', async t => {
  const scheduler = new SimulatedScheduler()
  const p = new PlayoutBuffer<number>({ scheduler, delay: { mode: 'fixed', us: 5000 }, onDeliver: () => {} })
  p.push(scheduler.nowUs(), 1)
  const ac = new AbortController()
  const wait = p.idle({ signal: ac.signal })
  ac.abort(new Error('stop'))
  await t.throwsAsync(wait, { message: 'stop' })
})

test('a throwing onDeliver is counted and playout goes on', t => {
  const scheduler = new SimulatedScheduler()
  const now = scheduler.nowUs()
  let n = 0
  const p = new PlayoutBuffer<number>({ scheduler, delay: { mode: 'fixed', us: 10 }, onDeliver: () => { n++; throw new Error('boom') } })
  p.push(now, 1)
  p.push(now + 1, 2)
  scheduler.runUntilIdle()
  t.is(n, 2)
  t.is(p.stats().callbackErrors, 2)
})

test('invalid options throw InvalidTimingOptionError', t => {
  const scheduler = new SimulatedScheduler()
  const bad: Array<Record<string, unknown>> = [
    { delay: { mode: 'fixed', us: -1 } },
    { delay: { mode: 'adaptive', percentile: 0 } },
    { delay: { mode: 'fixed', us: 1 }, late: 'ignore' },
    { delay: { mode: 'fixed', us: 1 }, maxQueue: 0 },
    { delay: { mode: 'fixed', us: 1 }, latencyWindow: 0 }
  ]
  for (const o of bad) {
    const err = t.throws(() => new PlayoutBuffer({ scheduler, onDeliver: () => {}, ...o } as never), { instanceOf: InvalidTimingOptionError })
    t.is(err?.code, 'invalid-timing-option')
  }
})

test('with the clock estimator as the mapping: delivery error stays within the estimate\'s uncertainty', t => {
  // Sender 1.5 s ahead, +100 ppm; the receiver learns the mapping from probes over the same 20 ± 5 ms path.
  const sim = streamSim({ seed: 9, rateHz: 200, durationUs: 10_000_000, latencyUs: jitter20, offsetUs: 1_500_000, driftPpm: 100 })
  const est = new ClockEstimator()
  const r = rng(99)
  const s = sim.scheduler
  const start = s.nowUs()
  // 40 bursts of probes over the first 10 s, fed in before the stream is replayed (the estimator only
  // needs the samples, not the real-time order).
  for (let burst = 0; burst < 40; burst++) {
    for (let k = 0; k < 8; k++) {
      const T1 = start + burst * 250_000 + k * 5000
      const T2 = T1 + jitter20(r)
      const T4 = T2 + 20 + jitter20(r)
      est.addSample(clockSample(T1, Math.round(sim.sender.toSkewed(T2)), Math.round(sim.sender.toSkewed(T2 + 20)), T4))
    }
  }
  t.true(est.estimate(start + 10_000_000).converged)
  const out: Array<PlayoutDelivery<SimEvent>> = []
  const p = new PlayoutBuffer<SimEvent>({
    scheduler: s, delay: { mode: 'fixed', us: 60_000 }, toLocal: tt => est.toLocal(tt).localUs, onDeliver: d => out.push(d)
  })
  scheduleArrivals(sim, e => { p.push(e.timeUs, e) })
  s.runUntilIdle()
  t.is(out.length, sim.events.length)
  t.is(p.stats().late, 0)
  for (const d of out) {
    const { uncertaintyUs } = est.toLocal(d.timeUs)
    if (Math.abs(d.atUs - (d.item.localUs + 60_000)) > uncertaintyUs) t.fail(`error beyond ${uncertaintyUs} µs`)
  }
  t.log(`mapping uncertainty ${(est.toLocal(sim.events[0].timeUs).uncertaintyUs / 1000).toFixed(2)} ms`)
})
