/**
 * Plasticity sees spikes in true time order whatever the link latencies: pre and post spikes reach a
 * synapse through the time-ordered merge after arriving out of order (different latencies, jitter), and
 * the weight ends exactly where it ends when the same spikes are given in time order.
 */
import test from 'ava'
import { ManualClock } from '../../src/base/clock.ts'
import { SimulatedScheduler } from '../../src/timing/sim-scheduler.ts'
import { TimeMerge } from '../../src/timing/merge.ts'
import { Prng, synapse } from '../../src/models/index.ts'
import type { Synapse } from '../../src/models/index.ts'

const T0 = 1_000_000

/** Pre spikes at 30 Hz and post spikes 5 ms after each pre (pre-before-post: STDP potentiates). */
function trains (): { pre: number[], post: number[] } {
  const pre: number[] = []
  const post: number[] = []
  for (let k = 0; k < 60; k++) {
    pre.push(T0 + k * 33_333)
    if (k % 2 === 0) post.push(T0 + k * 33_333 + 5_000)
    else post.push(T0 + k * 33_333 - 12_000) // post before pre: depresses
  }
  post.sort((a, b) => a - b)
  return { pre, post }
}

function inOrder (rule: 'rate' | 'stdp'): Synapse {
  const s = synapse({ rule, startUs: 0, seed: 1 })
  const { pre, post } = trains()
  const all = [...pre.map(t => ({ t, pre: true })), ...post.map(t => ({ t, pre: false }))].sort((a, b) => a.t - b.t || (a.pre ? -1 : 1))
  for (const e of all) {
    s.advanceTo(e.t, () => {})
    if (e.pre) s.pre(0, e.t)
    else s.post(0, e.t)
  }
  s.advanceTo(T0 + 3_000_000, () => {})
  return s
}

function throughMerge (rule: 'rate' | 'stdp', seed: number): { s: Synapse, inversions: number, naive: Synapse } {
  const clock = new ManualClock(0)
  const sched = new SimulatedScheduler(clock)
  const s = synapse({ rule, startUs: 0, seed: 1 })
  const merge = new TimeMerge<{ pre: boolean }>({
    scheduler: sched,
    stallAfterUs: 10_000_000,
    onDeliver: d => {
      s.advanceTo(d.timeUs, () => {})
      if (d.item.pre) s.pre(0, d.timeUs)
      else s.post(0, d.timeUs)
    }
  })
  const preIn = merge.addInput('pre')
  const postIn = merge.addInput('post')
  // Arrival: pre over a 40 ± 15 ms link, post over a 5 ± 2 ms link; each sender also sends a watermark
  // with each event. Arrivals are processed in arrival order, which scrambles the true order.
  const rng = new Prng(seed)
  const { pre, post } = trains()
  const arrivals = [
    ...pre.map(t => ({ at: t + 40_000 + (rng.next() - 0.5) * 30_000, t, input: preIn, isPre: true })),
    ...post.map(t => ({ at: t + 5_000 + (rng.next() - 0.5) * 4_000, t, input: postIn, isPre: false }))
  ]
  // A TCP link keeps each sender's order: arrivals of one input never overtake each other.
  for (const input of [preIn, postIn]) {
    const mine = arrivals.filter(a => a.input === input)
    for (let i = 1; i < mine.length; i++) mine[i].at = Math.max(mine[i].at, mine[i - 1].at)
  }
  arrivals.sort((a, b) => a.at - b.at)
  let inversions = 0
  for (let i = 1; i < arrivals.length; i++) if (arrivals[i].t < arrivals[i - 1].t) inversions++
  // What the synapse would learn from the arrival order itself (no merge): the control case.
  const naive = synapse({ rule, startUs: 0, seed: 1 })
  for (const a of arrivals) {
    naive.advanceTo(a.at, () => {})
    if (a.isPre) naive.pre(0, a.at)
    else naive.post(0, a.at)
  }
  for (const a of arrivals) {
    sched.advanceTo(a.at)
    merge.push(a.input, a.t, { pre: a.isPre })
    merge.watermark(a.input, a.t)
  }
  merge.watermark(preIn, Infinity)
  merge.watermark(postIn, Infinity)
  sched.runUntilIdle()
  s.advanceTo(T0 + 3_000_000, () => {})
  return { s, inversions, naive }
}

for (const rule of ['stdp', 'rate'] as const) {
  test(`${rule} rule: spikes arriving out of order through the merge give the same weights as in time order`, t => {
    const ref = inOrder(rule)
    for (const seed of [1, 2, 3]) {
      const { s, inversions, naive } = throughMerge(rule, seed)
      t.true(inversions > 10, `the arrivals are scrambled (${inversions} inversions)`)
      if (rule === 'stdp') t.notDeepEqual(naive.trace.map(w => w.weight), ref.trace.map(w => w.weight), 'arrival order alone would learn something else')
      t.deepEqual(s.trace.map(w => [w.timeUs, w.weight]), ref.trace.map(w => [w.timeUs, w.weight]))
      t.is(s.weight(0), ref.weight(0))
    }
    t.true(ref.trace.length > 2, 'the rule changed the weight')
  })
}
