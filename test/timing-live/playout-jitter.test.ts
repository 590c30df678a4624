/**
 * Real-time playout over a jittery path (real nodes, real delay proxy, real timers): a spike train with
 * known inter-spike intervals (ISIs) crosses a proxy with 20 ± 5 ms of jitter each way. Raw arrival
 * intervals are distorted by milliseconds; played out at mapped time + D, they come back.
 *
 * A delivered interval = the interval of the mapped times (what the playout schedules; it moves when the
 * clock estimate is refined) + the difference of two scheduler latenesses. The tests look at the parts
 * apart. The lateness is the runtime's: on the project's shared 2-core VMs a young-generation GC pause
 * takes 1–5 ms and the process is now and then descheduled for a few ms (more when other test files run
 * beside), so a delivery is occasionally that late whatever the spin window. Hard bounds are therefore on
 * what the playout controls and on medians; tails are logged. The runs are serial so that they do not
 * load each other's event loop.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { SkewedClock, SystemClock } from '../../src/base/clock.ts'
import type { PlayoutThreadStats, TimedEvent } from '../../src/timing/compensate.ts'
import type { PlayoutDelay, PlayoutStats } from '../../src/timing/playout.ts'
import { DeliveryThread } from '../../src/timing/delivery-thread.ts'
import { startNode, until } from '../helpers/nodes.ts'
import { FAST_SYNC, absQuantile, converged, emitTrain, isiErrors, ms, proxyTo } from './helpers.ts'
import { prng } from '../../src/base/prng.ts'

const SPIKES = 200
const JITTER = { delayMs: 20, jitterMs: 5 }

interface Run {
  sent: number[]
  played: TimedEvent[]
  /** Local arrival time of each measured spike (taken just before the playout sees it). */
  arrivals: number[]
  /** ΔISI of delivery times, of raw arrival times, of mapped times (µs, one per interval). */
  playErr: number[]
  rawErr: number[]
  mapErr: number[]
  stats: PlayoutStats & { thread?: PlayoutThreadStats }
  delayAtStartUs: number
  warmupLate: number
}

const runs = new Map<string, Run>()

/** Emit `warmup + SPIKES` spikes 10 ± 5 ms apart through the jittery proxy; measure the last SPIKES. */
async function measure (t: ExecutionContext, delay: PlayoutDelay, warmup: number, seed: number, thread?: DeliveryThread, proxySpinMs = 1): Promise<Run> {
  const base = new SystemClock()
  const pub = await startNode(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 1 }] },
    { clock: new SkewedClock(base, { offsetUs: 1_500_000, driftPpm: 50 }) })
  const sub = await startNode(t, { name: 'sub' }, { clock: base, clockSync: FAST_SYNC })
  const { addr, proxy } = await proxyTo(t, pub, JITTER, JITTER, seed, proxySpinMs)
  const s = sub.subscribe(addr, 'spikes')
  await s.ready()
  const pc = sub.clockFor(pub.peerId)
  await converged(pc)

  const arrivals: number[] = []
  s.onBatch(d => {
    const at = base.nowUs()
    for (let i = 0; i < d.batch.count; i++) arrivals.push(at)
  })
  const played: TimedEvent[] = []
  let delayAtStartUs = NaN
  const p = sub.playout(s, {
    delay,
    thread,
    onEvent: e => {
      if (played.length === warmup) delayAtStartUs = p.stats().delayUs
      played.push(e)
    }
  })
  const r = prng(seed)
  const all = await emitTrain(pub, 'spikes', warmup + SPIKES, () => 5 + 10 * r.next())
  await until(() => played.length === all.length, 20_000, 'every spike played out')
  const stats = p.stats()
  p.close()

  const sent = all.slice(warmup)
  const got = played.slice(warmup)
  t.deepEqual(got.map(e => e.timeUs), sent, 'every spike, once, in order')
  t.is(arrivals.length, all.length)
  const run: Run = {
    sent,
    played: got,
    arrivals: arrivals.slice(warmup),
    playErr: isiErrors(sent, got.map(e => e.atUs)),
    rawErr: isiErrors(sent, arrivals.slice(warmup)),
    mapErr: isiErrors(sent, got.map(e => e.localUs)),
    stats,
    delayAtStartUs,
    warmupLate: played.slice(0, warmup).filter(e => e.late).length
  }
  const q = (xs: number[]): string => `p50 ${ms(absQuantile(xs, 0.5))}, p90 ${ms(absQuantile(xs, 0.9))}, p99 ${ms(absQuantile(xs, 0.99))}, max ${ms(absQuantile(xs, 1))}`
  t.log(`delivered |ΔISI| ${q(run.playErr)}`)
  t.log(`raw arrival |ΔISI| ${q(run.rawErr)}`)
  t.log(`mapped-time |ΔISI| ${q(run.mapErr)}; clock bursts ${pc.stats.bursts}, uncertainty ${ms(pc.estimate().uncertaintyUs)}`)
  if (stats.thread !== undefined) t.log(`thread: ${JSON.stringify(stats.thread)}`)
  t.log(`D ${ms(delayAtStartUs)} → ${ms(stats.delayUs)}; late ${stats.late} (${run.warmupLate} in warm-up); latency p50 ${ms(stats.latency.p50Us)} ` +
    `max ${ms(stats.latency.maxUs)}; scheduler lateness mean ${ms(stats.timing.meanErrorUs)} max ${ms(stats.timing.maxErrorUs)}; ` +
    `proxy down p50 ${proxy.stats().down.addedDelayMs.p50.toFixed(2)} ms`)
  return run
}

/** Fraction of |values| ≤ limit. */
function within (values: readonly number[], limit: number): number {
  return values.filter(v => Math.abs(v) <= limit).length / values.length
}

/**
 * Checks common to both modes: delivered intervals close to the sent ones, raw ones far off. Hard bounds
 * are on what the playout controls, on medians, and on the comparison with the raw arrivals; the tails
 * belong to the runtime and are logged. The limits are set for a loaded machine (other test files running
 * beside, event-loop stalls of tens of ms); an idle one gives p50 ≈ 10 µs and 94–99.5 % within 1 ms.
 */
function checkIntervals (t: ExecutionContext, run: Run, maxP50Us: number, minWithin1ms: number, minRatio: number): void {
  const p50 = absQuantile(run.playErr, 0.5)
  const in1ms = within(run.playErr, 1000)
  const rawIn1ms = within(run.rawErr, 1000)
  t.log(`intervals within 1 ms of the sent ones: delivered ${(100 * in1ms).toFixed(1)} %, raw arrivals ${(100 * rawIn1ms).toFixed(1)} %`)
  t.true(p50 <= maxP50Us, `delivered p50 |ΔISI| ${p50} µs`)
  // The clock mapping itself moves intervals by at most about a millisecond (see the known issue below).
  t.true(absQuantile(run.mapErr, 1) <= 2000, `mapped-time |ΔISI| max ${absQuantile(run.mapErr, 1)} µs`)
  // The raw intervals are distorted by milliseconds: the comparisons above and below can fail.
  const rawP50 = absQuantile(run.rawErr, 0.5)
  t.true(rawP50 >= 1000 && rawP50 >= minRatio * p50, `raw p50 |ΔISI| ${rawP50} µs vs delivered ${p50} µs`)
  t.true(in1ms >= minWithin1ms && in1ms >= 2.5 * rawIn1ms, `within 1 ms: delivered ${in1ms}, raw ${rawIn1ms}`)
}

test.serial('playout (fixed D = 40 ms) keeps inter-spike intervals under 20 ± 5 ms jitter; raw arrivals do not', async t => {
  const D = 40_000
  const run = await measure(t, { mode: 'fixed', us: D }, 0, 11)
  runs.set('fixed', run)
  checkIntervals(t, run, 500, 0.6, 4)
  // D = 40 ms is 15 ms above the worst path delay: only an event-loop stall longer than that (the
  // subscriber reading its socket late) can make a spike late, and exactly those spikes must be flagged.
  const latency = run.played.map((e, i) => run.arrivals[i] - e.localUs)
  const flagged = run.played.map(e => e.late)
  t.true(flagged.every((late, i) => late ? latency[i] > D - 100 : latency[i] <= D + 100), 'late ⇔ arrived after mapped time + D')
  t.true(run.stats.late <= 10, `${run.stats.late} late: the machine is too loaded for this test`)
  // Delivered = mapped + D + scheduler lateness, never early; so ΔISI = mapped ΔISI + Δlateness.
  const lateness = run.played.map(e => e.atUs - e.localUs - D)
  t.true(lateness.every(l => l >= 0), 'never early')
  t.true(absQuantile(lateness, 0.5) <= 500, `median lateness ${absQuantile(lateness, 0.5)} µs`)
  t.true(run.playErr.every((x, i) => Math.abs(x - run.mapErr[i] - (lateness[i + 1] - lateness[i])) < 1), 'ΔISI decomposes')
})

test.serial('playout (adaptive D, settled) keeps inter-spike intervals under 20 ± 5 ms jitter; raw arrivals do not', async t => {
  // Adaptive D starts at the first event's latency + 2 ms and slews up toward the 99.9th percentile + 2 ms:
  // intervals are stretched by up to slewUp (1 %) while it moves. 150 spikes (≈ 1.5 s) of warm-up let it
  // settle. An event-loop stall longer than the margin makes a spike late and moves D again: the bounds
  // allow for it.
  const run = await measure(t, { mode: 'adaptive' }, 150, 12)
  runs.set('adaptive', run)
  checkIntervals(t, run, 1500, 0.5, 2)
  const late = run.played.filter(e => e.late).length
  t.true(late <= 10, `${late} of ${SPIKES} late once settled`)
  t.true(run.stats.delayUs >= 20_000, `D ${run.stats.delayUs} µs covers the path`)
})

test.serial('playout through a DeliveryThread: the driver in the worker gets every spike at mapped time + D', async t => {
  const D = 40_000
  const thread = new DeliveryThread({ module: new URL('../timing/fixtures/driver.ts', import.meta.url), options: { shared: new SharedArrayBuffer(16 + 16 * 512) } })
  t.teardown(async () => { await thread.close() })
  await thread.ready()
  // The proxy does not busy-wait here (its releases are then up to ≈1–2 ms late, which only widens the
  // jitter): it stands for the network, and in this process it would compete with the thread for a core.
  const run = await measure(t, { mode: 'fixed', us: D }, 0, 13, thread, 0)
  checkIntervals(t, run, 500, 0.6, 4)
  const lateness = run.played.filter(e => !e.late).map(e => e.atUs - e.localUs - D)
  t.true(lateness.every(l => l >= 0), 'never early')
  t.true(absQuantile(lateness, 0.5) <= 100, `median lateness ${absQuantile(lateness, 0.5)} µs`)
  t.log(`deliveries later than 100 µs (index: µs): ${run.played.map((e, i) => [i, Math.round(e.atUs - e.localUs - D)]).filter(x => x[1] > 100).map(x => x.join(': ')).join(', ')}; late hand-overs ${thread.stats().lateHandoffs}`)
  t.log(`thread delivery lateness p50 ${absQuantile(lateness, 0.5).toFixed(1)} µs, p99 ${absQuantile(lateness, 0.99).toFixed(1)} µs, max ${absQuantile(lateness, 1).toFixed(1)} µs`)
  const ts = run.stats.thread!
  t.is(ts.handedOff, SPIKES)
  t.is(ts.delivered, SPIKES)
  t.is(ts.refused, 0)
  t.is(thread.stats().driverErrors, 0)
})

// Every refinement of the clock estimate (a probe burst every 0.1–0.4 s here) moves the offset by 0.2–1 ms
// on this path. Applied at once, that step would land inside one interval; node.clockMap slews the mapping
// toward the estimate instead (at most 500 ppm, stepping only differences above 50 ms, as NTP does), so
// mapped intervals stay within a small fraction of the 0.2 ms distortion target.
test.serial('clock re-estimates do not step the playout mapping (mapped-time |ΔISI| ≤ 100 µs)', t => {
  t.is(runs.size, 2)
  const worst = new Map([...runs].map(([mode, run]) => [mode, absQuantile(run.mapErr, 1)]))
  for (const [mode, run] of runs) {
    t.log(`${mode}: mapped-time |ΔISI| max ${worst.get(mode)!.toFixed(1)} µs, ${run.mapErr.filter(x => Math.abs(x) > 50).length} intervals > 50 µs`)
  }
  for (const [mode, w] of worst) t.true(w <= 100, `${mode}: mapped-time |ΔISI| max ${w} µs`)
})
