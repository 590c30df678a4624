/**
 * Time-ordered merge of three publishers behind delay proxies of 5, 25 and 45 ms (real nodes, real
 * proxies, real timers). Each publisher has its own clock offset; all share the system clock underneath,
 * so the true time of every event is known.
 *
 * - Order: events emitted in turn by the three publishers arrive out of order (the near one overtakes
 *   the far one); the merge delivers all of them in timestamp order, which is also their true order.
 * - Silent input: one publisher goes silent (its proxy cuts the connection, or black-holes it while
 *   keeping it open). After stallAfterUs the merge reports the stall and goes on with the other two;
 *   no event is held longer than that bound.
 *
 * The tests are serial and their proxies do not busy-wait (±1–2 ms of release time does not matter
 * here): the 2-core machines run the sub-millisecond playout tests of this folder at the same time.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { SkewedClock, SystemClock } from '../../src/base/clock.ts'
import type { TimedEvent } from '../../src/timing/compensate.ts'
import type { StallInfo } from '../../src/timing/merge.ts'
import type { SpikewireNode } from '../../src/node/node.ts'
import type { Subscription } from '../../src/protocols/events/subscription.ts'
import type { DelayProxy } from '../../src/netem/index.ts'
import { startNode, until } from '../helpers/nodes.ts'
import { FAST_SYNC, absQuantile, converged, ms, proxyTo, sleep } from './helpers.ts'

const PATHS_MS = [5, 25, 45]
const OFFSETS_US = [1_500_000, -800_000, 300_000]

interface Sent { input: number, timeUs: number, trueUs: number }
interface Arrival { input: number, timeUs: number, atUs: number }
type Merged = TimedEvent & { input: string }

interface Setup {
  base: SystemClock
  pubs: SpikewireNode[]
  proxies: DelayProxy[]
  subs: Subscription[]
  sub: SpikewireNode
  arrivals: Arrival[]
}

async function setup (t: ExecutionContext): Promise<Setup> {
  const base = new SystemClock()
  const pubs = await Promise.all(OFFSETS_US.map(async (offsetUs, i) => await startNode(t,
    { name: `pub${i}`, watermarkIntervalMs: 20, ports: [{ name: 'spikes', direction: 'out', channels: 4 }] },
    { clock: new SkewedClock(base, { offsetUs }) })))
  const sub = await startNode(t, { name: 'sub' }, { clock: base, clockSync: FAST_SYNC })
  const proxied = await Promise.all(pubs.map(async (p, i) => await proxyTo(t, p, { delayMs: PATHS_MS[i] }, { delayMs: PATHS_MS[i] }, i + 1, 0)))
  const subs = proxied.map(({ addr }) => sub.subscribe(addr, 'spikes'))
  await Promise.all(subs.map(async s => { await s.ready() }))
  // Each subscription must know its publisher: the merge maps its timestamps with that peer's clock.
  t.deepEqual(subs.map(s => s.peer), pubs.map(p => p.peerId), 'Subscription.peer names the publisher it is connected to')
  await Promise.all(pubs.map(async p => { await converged(sub.clockFor(p.peerId)) }))
  const arrivals: Arrival[] = []
  subs.forEach((s, input) => s.onBatch(d => {
    const atUs = base.nowUs()
    for (let i = 0; i < d.batch.count; i++) arrivals.push({ input, timeUs: d.batch.times[i], atUs })
  }))
  return { base, pubs, proxies: proxied.map(p => p.proxy), subs, sub, arrivals }
}

/** Emit one spike from publisher `input`, stamped with its own clock; record its true (base) time. */
function emit (s: Setup, input: number, sent: Sent[], channel = 0): void {
  const pub = s.pubs[input]
  const timeUs = Math.round(pub.clock.nowUs())
  if (!pub.outPort('spikes').emit(channel, timeUs)) throw new Error('emit refused')
  sent.push({ input, timeUs, trueUs: timeUs - OFFSETS_US[input] })
}

const key = (input: number | string, timeUs: number): string => `${input}:${timeUs}`

/** Sent events not merged, and merged events not expected (keys). */
function missing (merged: readonly Merged[], expected: readonly Sent[]): string[] {
  const got = new Set(merged.map(e => key(e.input, e.timeUs)))
  const want = new Set(expected.map(e => key(e.input, e.timeUs)))
  return [...[...want].filter(k => !got.has(k)).map(k => `missing ${k}`), ...[...got].filter(k => !want.has(k)).map(k => `unexpected ${k}`)]
}

/** Pairs (i, j), i < j, with a[i] > a[j]. */
function inversions (a: readonly number[]): number {
  let n = 0
  for (let i = 0; i < a.length; i++) for (let j = i + 1; j < a.length; j++) if (a[i] > a[j]) n++
  return n
}

test.serial('merge of three delayed publishers delivers every event in timestamp (and true) order; raw arrivals are not', async t => {
  const s = await setup(t)
  const merged: Merged[] = []
  const m = s.sub.merge(s.subs.map((source, i) => ({ name: String(i), source })), { onEvent: e => { merged.push(e) }, stallAfterUs: 1_000_000 })
  const sent: Sent[] = []
  // In turn, 4 ms apart: consecutive true times alternate between the publishers.
  for (let k = 0; k < 150; k++) {
    emit(s, k % 3, sent, k % 4)
    await sleep(4)
  }
  await until(() => merged.length >= sent.length, 20_000, 'every event merged')
  await sleep(50)
  const st = m.stats()
  m.close()

  t.is(merged.length, sent.length, 'no duplicates')
  t.deepEqual(missing(merged, sent), [], 'complete')
  for (let i = 1; i < merged.length; i++) {
    if (merged[i].localUs < merged[i - 1].localUs) t.fail(`not sorted by localUs at ${i}`)
  }
  const byTrue = [...sent].sort((a, b) => a.trueUs - b.trueUs).map(e => key(e.input, e.timeUs))
  t.deepEqual(merged.map(e => key(e.input, e.timeUs)), byTrue, 'merged order = true order')
  t.true(merged.every(e => !e.late))
  t.is(st.late, 0)
  t.is(st.stalls, 0)
  // Mapping error of the merge key against the truth (symmetric paths: small).
  const trueOf = new Map(sent.map(e => [key(e.input, e.timeUs), e.trueUs]))
  const mapErr = merged.map(e => e.localUs - trueOf.get(key(e.input, e.timeUs))!)
  // Raw arrival order across the three subscriptions is far from the true order.
  const rawTrue = s.arrivals.map(a => trueOf.get(key(a.input, a.timeUs))!)
  const rawInv = inversions(rawTrue)
  const hold = merged.map(e => e.atUs - e.localUs)
  t.log(`${sent.length} events; raw arrival inversions ${rawInv}; merged inversions ${inversions(merged.map(e => trueOf.get(key(e.input, e.timeUs))!))}; ` +
    `merge key error |localUs − true| max ${ms(absQuantile(mapErr, 1))}; delivery − event time p50 ${ms(absQuantile(hold, 0.5))} max ${ms(absQuantile(hold, 1))}`)
  t.is(s.arrivals.length, sent.length)
  t.true(rawInv >= sent.length / 2, `raw inversions ${rawInv}`)
  t.true(absQuantile(mapErr, 1) < 1000, 'merge keys within 1 ms of the truth')
  // Delivery waits for the slowest path (45 ms) plus its next event (15 ms apart) or watermark (20 ms).
  t.true(absQuantile(hold, 0.5) <= 45_000 + 20_000, `hold p50 ${absQuantile(hold, 0.5)} µs`)
})

for (const how of ['cut', 'black hole'] as const) {
  test.serial(`merge of three: a silent input (${how}) is reported after stallAfterUs and no longer holds the others back`, async t => {
    const STALL = 300_000
    const s = await setup(t)
    const merged: Merged[] = []
    const stalls: Array<StallInfo & { atUs: number }> = []
    const m = s.sub.merge(s.subs.map((source, i) => ({ name: String(i), source })), {
      stallAfterUs: STALL,
      onEvent: e => { merged.push(e) },
      onStall: info => { stalls.push({ ...info, atUs: s.base.nowUs() }) }
    })
    const sent: Sent[] = []
    const deadline = s.base.nowUs() + 2_000_000
    let silencedAt = NaN
    for (let k = 0; s.base.nowUs() < deadline; k++) {
      if (k === 60) {
        silencedAt = s.base.nowUs()
        if (how === 'cut') s.proxies[2].cut({ refuseNew: true })
        else s.proxies[2].set('both', { delayMs: 60_000 })
      }
      // Publisher 2 keeps emitting; after the silencing nothing of it reaches the subscriber.
      emit(s, k % 3, sent)
      await sleep(5)
    }
    const expected = sent.filter(e => e.input !== 2 || s.arrivals.some(a => a.input === 2 && a.timeUs === e.timeUs))
    await until(() => merged.length >= expected.length, 20_000, 'the two live inputs merged').catch(err => {
      t.log(`not merged: ${missing(merged, expected).slice(0, 10).join(', ')}; stats ${JSON.stringify(m.stats())}`)
      throw err
    })
    await sleep(50)
    const st = m.stats()
    m.close()

    // The stall: reported once, for input 2, about STALL after it was last heard.
    t.is(stalls.length, 1, 'one stall')
    t.is(stalls[0].name, '2')
    t.true(stalls[0].silentUs >= STALL && stalls[0].silentUs <= STALL + 30_000, `silent ${stalls[0].silentUs} µs when reported`)
    const lastHeard2 = stalls[0].atUs - stalls[0].silentUs
    t.true(lastHeard2 <= silencedAt + 60_000, 'last heard from input 2 around the silencing')
    // Every event of the live inputs, and what input 2 sent before, delivered once, in order.
    t.deepEqual(missing(merged, expected), [], 'complete')
    t.is(merged.length, expected.length)
    for (let i = 1; i < merged.length; i++) {
      if (merged[i].localUs < merged[i - 1].localUs) t.fail(`not sorted at ${i}`)
    }
    t.is(st.late, 0)
    // Held = delivery − arrival at the subscriber, for the live inputs. What the silent input can cost is
    // the wait after its last sign of life: delivery − max(arrival, last heard from input 2).
    const arrivedAt = new Map(s.arrivals.map(a => [key(a.input, a.timeUs), a.atUs]))
    const live = merged.filter(e => e.input !== '2').map(e => ({ at: e.atUs, arrived: arrivedAt.get(key(e.input, e.timeUs))! }))
    const held = live.map(h => h.at - h.arrived)
    const waitAfterSilence = Math.max(...live.map(h => h.at - Math.max(h.arrived, lastHeard2)))
    const before = live.filter(h => h.arrived < silencedAt).map(h => h.at - h.arrived)
    const after = live.filter(h => h.arrived > stalls[0].atUs).map(h => h.at - h.arrived)
    t.log(`${how}: stall reported ${ms(stalls[0].atUs - silencedAt)} after the silencing (input silent ${ms(stalls[0].silentUs)}); ` +
      `longest wait after its last message ${ms(waitAfterSilence)} (bound ${ms(STALL)}); held max ${ms(Math.max(...held))}; ` +
      `held before the silencing p50 ${ms(absQuantile(before, 0.5))} max ${ms(absQuantile(before, 1))}; ` +
      `after the stall p50 ${ms(absQuantile(after, 0.5))} max ${ms(absQuantile(after, 1))}; delivered ${merged.length} of ${sent.length} sent`)
    // Nothing waits for the silent input longer than the stall bound (plus timer and loop slack)…
    t.true(waitAfterSilence <= STALL + 30_000, `waited ${waitAfterSilence} µs after input 2 went silent`)
    // …and the silence did hold events back until the stall (so the bound above can fail).
    t.true(waitAfterSilence >= STALL - 50_000, `waited only ${waitAfterSilence} µs: the silence should have held events`)
    // After the stall the two live inputs flow as usual: the 5 ms input waits only for the 25 ms one.
    t.true(after.length > 50)
    t.true(absQuantile(after, 0.5) <= 30_000, `held after the stall, p50 ${absQuantile(after, 0.5)} µs`)
    t.true(absQuantile(before, 0.5) <= 65_000, `held before the silencing, p50 ${absQuantile(before, 0.5)} µs`)
  })
}
