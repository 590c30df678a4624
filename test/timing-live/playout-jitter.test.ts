/**
 * Real-time playout over a jittery path (real nodes, real delay proxy, real timers): a spike train with
 * known inter-spike intervals crosses a proxy with 20 ± 5 ms of jitter each way. Raw arrival intervals
 * are distorted by milliseconds; played out at mapped time + D, the intervals come back within the
 * scheduler's precision.
 */
import test from 'ava'
import { SkewedClock, SystemClock } from '../../src/clock/clock.ts'
import type { TimedEvent } from '../../src/timing/compensate.ts'
import type { PlayoutDelay } from '../../src/timing/playout.ts'
import { startNode, until } from '../helpers/nodes.ts'
import { FAST_SYNC, absQuantile, converged, emitTrain, isiErrors, ms, prng, proxyTo } from './helpers.ts'

const SPIKES = 200
const JITTER = { delayMs: 20, jitterMs: 5 }

const runs: Array<{ title: string, delay: PlayoutDelay, warmup: number, seed: number }> = [
  { title: 'fixed D = 40 ms', delay: { mode: 'fixed', us: 40_000 }, warmup: 0, seed: 11 },
  // Adaptive D starts at the first event's latency and slews up to the 99.9th percentile: intervals are
  // stretched by up to slewUp (10 %) while it moves. Measure once it has settled.
  { title: 'adaptive D', delay: { mode: 'adaptive' }, warmup: 150, seed: 12 }
]

for (const { title, delay, warmup, seed } of runs) {
  test(`playout (${title}) keeps inter-spike intervals under 20 ± 5 ms jitter; raw arrivals do not`, async t => {
    const base = new SystemClock()
    const pub = await startNode(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 1 }] },
      { clock: new SkewedClock(base, { offsetUs: 1_500_000, driftPpm: 50 }) })
    const sub = await startNode(t, { name: 'sub' }, { clock: base, clockSync: FAST_SYNC })
    const { addr, proxy } = await proxyTo(t, pub, JITTER, JITTER, seed)
    const s = sub.subscribe(addr, 'spikes')
    await s.ready()
    const pc = sub.clockFor(pub.peerId)
    await converged(pc)

    const arrivals: Array<{ timeUs: number, atUs: number }> = []
    s.onBatch(d => {
      const at = base.nowUs()
      for (let i = 0; i < d.batch.count; i++) arrivals.push({ timeUs: d.batch.times[i], atUs: at, map: pc.toLocal(d.batch.times[i]).localUs, n: d.batch.count } as never)
    })
    const played: TimedEvent[] = []
    const p = sub.playout(s, { delay, onEvent: e => { played.push(e) } })

    const r = prng(seed)
    const gap = (): number => 5 + 10 * r() // 10 ± 5 ms
    const all = await emitTrain(pub, 'spikes', warmup + SPIKES, gap)
    await until(() => played.length === all.length, 3000, 'every spike played out')
    p.close()

    const sent = all.slice(warmup)
    const got = played.slice(warmup)
    const raw = arrivals.slice(warmup)
    t.deepEqual(got.map(e => e.timeUs), sent, 'every spike, in order')
    t.deepEqual(raw.map(e => e.timeUs), sent)
    const playErr = isiErrors(sent, got.map(e => e.atUs))
    const rawErr = isiErrors(sent, raw.map(e => e.atUs))
    const st = p.stats()
    const p50 = absQuantile(playErr, 0.5)
    const p99 = absQuantile(playErr, 0.99)
    const worst = absQuantile(playErr, 1)
    const rawP50 = absQuantile(rawErr, 0.5)
    const rawP99 = absQuantile(rawErr, 0.99)
    t.log(`playout |ΔISI| p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(worst)}; raw arrival |ΔISI| p50 ${ms(rawP50)}, p99 ${ms(rawP99)}`)
    t.log(`D ${ms(st.delayUs)}, late ${st.late} (${played.slice(0, warmup).filter(e => e.late).length} in warm-up), ` +
      `latency p50 ${ms(st.latency.p50Us)} max ${ms(st.latency.maxUs)}, scheduler lateness mean ${ms(st.timing.meanErrorUs)} max ${ms(st.timing.maxErrorUs)}, ` +
      `clock uncertainty ${ms(pc.estimate().uncertaintyUs)}, proxy down p50 ${proxy.stats().down.addedDelayMs.p50.toFixed(2)} ms`)
    if (process.env.DBG !== undefined) {
      for (let i = 0; i < got.length; i++) {
        const a = raw[i] as unknown as { atUs: number, map: number, n: number }
        console.log(i, 'isiErr', i > 0 ? (playErr[i - 1] / 1000).toFixed(2) : '', 'lat', ((a.atUs - a.map) / 1000).toFixed(2), 'n', a.n, 'map-local', (got[i].localUs - a.map).toFixed(0), 'lateness', ((got[i].atUs - got[i].localUs - st.delayUs) / 1000).toFixed(2), got[i].late)
      }
    }
    t.true(got.every(e => !e.late), 'no measured spike late')
    t.true(p99 <= 1000, `playout p99 |ΔISI| ${p99} µs`)
    // The raw intervals are distorted by milliseconds: the comparison above can fail.
    t.true(rawP99 >= 3000, `raw p99 |ΔISI| ${rawP99} µs`)
    t.true(rawP99 >= 5 * p99, `raw ${rawP99} µs vs playout ${p99} µs`)
  })
}
