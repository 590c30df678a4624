import test from 'ava'
import { ClosedError, InvalidTimingOptionError, UnknownInputError } from '../../src/timing/errors.ts'
import { TimeMerge } from '../../src/timing/merge.ts'
import { SimulatedScheduler } from '../../src/timing/sim-scheduler.ts'
import { rng } from './sim.ts'
import type { MergeDelivery, MergeOptions, StallInfo } from '../../src/timing/merge.ts'

function setup (o: Partial<MergeOptions<string>> = {}): { s: SimulatedScheduler, m: TimeMerge<string>, out: Array<MergeDelivery<string>>, t0: number } {
  const s = new SimulatedScheduler()
  const out: Array<MergeDelivery<string>> = []
  const m = new TimeMerge<string>({ scheduler: s, onDeliver: d => out.push(d), ...o })
  return { s, m, out, t0: s.nowUs() }
}

test('three sources with different latencies arriving out of order: output in timestamp order', t => {
  const { s, m, out, t0 } = setup()
  const r = rng(42)
  const latency = [5_000, 20_000, 50_000] // base latency per source, plus 0–10 ms jitter
  const ids = ['a', 'b', 'c'].map(n => m.addInput(n))
  let sent = 0
  for (const src of ids) {
    let last = -Infinity
    let T = t0
    while (T < t0 + 2_000_000) {
      T += -Math.log(1 - r()) * 5000 // 200 Hz
      const arrival = Math.max(T + latency[src] + 10_000 * r(), last) // in order per source
      last = arrival
      const time = Math.round(T)
      s.setTimer(arrival, () => { m.push(src, time, `${src}:${time}`) })
      sent++
    }
    // Watermarks every 10 ms as heartbeats: "nothing before (send time) will follow", arriving in order.
    for (let w = t0; w < t0 + 2_100_000; w += 10_000) {
      s.setTimer(Math.max(w + latency[src] + 10_000, last), () => { m.watermark(src, w) })
    }
    s.setTimer(t0 + 2_200_000, () => { m.closeInput(src) })
  }
  s.runUntilIdle()
  t.is(out.length, sent)
  for (let i = 1; i < out.length; i++) {
    const a = out[i - 1]
    const b = out[i]
    if (b.timeUs < a.timeUs || (b.timeUs === a.timeUs && b.input < a.input)) t.fail(`out of order at ${i}`)
  }
  t.true(out.every(d => !d.late))
  const st = m.stats()
  t.is(st.delivered, sent)
  t.is(st.stalls, 0)
  t.is(st.late, 0)
})

test('ties: same time from several inputs goes out by input order, then arrival', t => {
  const { m, out } = setup()
  const a = m.addInput('a')
  const b = m.addInput('b')
  const c = m.addInput('c')
  m.push(c, 100, 'c1')
  m.push(b, 100, 'b1')
  m.push(c, 100, 'c2')
  m.push(a, 100, 'a1')
  t.deepEqual(out.map(d => d.item), ['a1'])
  m.watermark(b, 101)
  t.deepEqual(out.map(d => d.item), ['a1'])
  m.watermark(a, 101)
  t.deepEqual(out.map(d => d.item), ['a1', 'b1', 'c1', 'c2'])
})

test('a silent input holds the others back until the stall bound, then is reported and skipped', t => {
  const { s, m, out, t0 } = setup({ stallAfterUs: 500_000 })
  const stalls: StallInfo[] = []
  const resumes: StallInfo[] = []
  m.onStall(i => stalls.push(i))
  m.onResume(i => resumes.push(i))
  const a = m.addInput('a')
  const b = m.addInput('b')
  const quiet = m.addInput('quiet')
  m.push(quiet, t0 + 10, 'q-early')
  s.advanceTo(t0 + 100_000)
  for (let i = 0; i < 10; i++) {
    m.push(a, t0 + 100_000 + i * 1000, `a${i}`)
    m.push(b, t0 + 100_000 + i * 1000 + 500, `b${i}`)
  }
  m.watermark(a, t0 + 200_000)
  m.watermark(b, t0 + 200_000)
  s.advanceTo(t0 + 499_999)
  t.deepEqual(out.map(d => d.item), ['q-early'])
  // Keep a and b alive with heartbeats; only 'quiet' is silent.
  m.watermark(a, t0 + 200_000)
  m.watermark(b, t0 + 200_000)
  s.advanceTo(t0 + 510_000)
  t.is(stalls.length, 1)
  t.like(stalls[0], { input: quiet, name: 'quiet', silentUs: 500_000 })
  t.is(out.length, 21)
  t.true(m.stats().inputs[quiet].stalled)
  // It speaks again: an event older than what was delivered is late (flagged), a new one waits its turn.
  m.push(quiet, t0 + 50_000, 'q-old')
  m.push(quiet, t0 + 300_000, 'q-new')
  t.is(resumes.length, 1)
  t.is(out[21].item, 'q-old')
  t.true(out[21].late)
  m.watermark(a, t0 + 400_000)
  m.watermark(b, t0 + 400_000)
  t.is(out[22].item, 'q-new')
  t.false(out[22].late)
  const st = m.stats()
  t.is(st.stalls, 1)
  t.is(st.late, 1)
  t.is(st.inputs[quiet].late, 1)
})

test("late policy 'drop': a rejoining input's old events are dropped and counted", t => {
  const { s, m, out, t0 } = setup({ stallAfterUs: 100_000, late: 'drop' })
  const a = m.addInput()
  const b = m.addInput()
  m.push(a, t0 + 1000, 'a1')
  s.advanceTo(t0 + 50_000)
  m.watermark(a, t0 + 60_000)
  s.advanceTo(t0 + 120_000)
  t.deepEqual(out.map(d => d.item), ['a1'])
  m.push(b, t0 + 500, 'b-old')
  t.deepEqual(out.map(d => d.item), ['a1'])
  t.is(m.stats().lateDropped, 1)
  t.is(m.stats().inputs[b].lateDropped, 1)
})

test('per-input queues are bounded; overflow is counted', t => {
  const { m, out, t0 } = setup({ maxQueue: 5 })
  const a = m.addInput()
  const b = m.addInput()
  for (let i = 0; i < 12; i++) m.push(a, t0 + i, `a${i}`)
  const st = m.stats()
  t.is(st.overflow, 7)
  t.is(st.inputs[a].queued, 5)
  m.closeInput(b)
  t.deepEqual(out.map(d => d.item), ['a0', 'a1', 'a2', 'a3', 'a4'])
})

test('a closed input no longer holds back; its queued events still go out in order', t => {
  const { m, out } = setup()
  const a = m.addInput()
  const b = m.addInput()
  m.push(a, 10, 'a10')
  m.push(b, 50, 'b50')
  t.deepEqual(out.map(d => d.item), ['a10'])
  m.closeInput(a)
  t.deepEqual(out.map(d => d.item), ['a10', 'b50'])
  m.push(b, 60, 'b60')
  t.deepEqual(out.map(d => d.item), ['a10', 'b50', 'b60'])
})

test('errors: unknown input, closed merge, invalid options', t => {
  const { m, s } = setup()
  const e1 = t.throws(() => { m.push(3, 1, 'x') }, { instanceOf: UnknownInputError })
  t.is(e1?.code, 'unknown-input')
  m.addInput()
  m.close()
  t.is(s.pending, 0)
  const e2 = t.throws(() => { m.watermark(0, 1) }, { instanceOf: ClosedError })
  t.is(e2?.code, 'closed')
  const e3 = t.throws(() => new TimeMerge({ scheduler: s, onDeliver: () => {}, stallAfterUs: 0 }), { instanceOf: InvalidTimingOptionError })
  t.is(e3?.code, 'invalid-timing-option')
})
