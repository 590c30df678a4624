/**
 * Timing scenarios of the TypeScript implementation: the clock estimate against an injected offset, and
 * the playout and merge of received events. The listener releases generated events in clumps so that
 * their arrival times are irregular (or out of order across ports) and the receiver's compensation has
 * something to undo.
 */
import { EventChecker, generate } from '../../lib/generator.ts'
import type { GeneratorSpec } from '../../lib/generator.ts'
import type { TimedEvent } from '../../../src/index.ts'
import { param, sleep, waitUntil } from './context.ts'
import type { Ctx } from './context.ts'
import { generatorSpec, nodeOf } from './events.ts'
import type { Fields } from './events.ts'
import type { Peer } from './peer.ts'

export async function estimateClock (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const pc = node.clockFor(ctx.peerAddr)
  await sleep(Math.min(param<number>(ctx, 'duration_ms', 'number'), ctx.remainingMs()))
  const e = pc.estimate()
  return {
    offset_us: e.offsetUs,
    uncertainty_us: Number.isFinite(e.uncertaintyUs) ? e.uncertaintyUs : -1,
    rtt_us: Number.isFinite(e.rttUs) ? e.rttUs : -1,
    at_us: e.atLocalUs,
    samples: e.samples,
    converged: e.converged,
    probes: pc.stats.probes,
    answers: pc.stats.answers
  }
}

interface Train { port: string, spec: GeneratorSpec, clumpMs: number }

function trains (ctx: Ctx): Train[] {
  if (Array.isArray(ctx.params.ports)) {
    const ports = ctx.params.ports as string[]
    const seeds = param<number[]>(ctx, 'seeds', 'array')
    const clumps = param<number[]>(ctx, 'clump_ms', 'array')
    return ports.map((port, i) => ({ port, spec: generatorSpec(ctx, seeds[i]), clumpMs: clumps[i] }))
  }
  return [{ port: param<string>(ctx, 'port', 'string'), spec: generatorSpec(ctx), clumpMs: param<number>(ctx, 'clump_ms', 'number') }]
}

/** Listener: once every port has a subscriber, emit each train in real time, released every clump_ms. */
export async function emitClumped (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const ts = trains(ctx)
  const ports = ts.map(t => node.outPort(t.port))
  await ctx.ready()
  await waitUntil(() => ports.every(p => p.stats.streams > 0), ctx.remainingMs(), 'subscribers')
  if (typeof ctx.params.go_key === 'string') await ctx.rv.get(ctx.params.go_key, ctx.remainingMs())
  const t0 = Math.round(node.clock.nowUs()) + 50_000
  const gens = ts.map(t => generate(t.spec))
  const next = ts.map(() => 0)
  const released = ts.map(() => 0)
  let sent = 0
  while (next.some((k, i) => k < ts[i].spec.n)) {
    await sleep(2)
    const now = node.clock.nowUs()
    ts.forEach((t, i) => {
      if (now - released[i] < t.clumpMs * 1000) return
      released[i] = now
      while (next[i] < t.spec.n && t0 + gens[i].offsets[next[i]] <= now) {
        const k = next[i]++
        if (ports[i].emit(gens[i].channels[k], t0 + gens[i].offsets[k])) sent++
      }
      ports[i].flush()
    })
  }
  await ctx.done
  return { sent, t0 }
}

/** Dialer: real-time playout of params.port with a fixed delay; delivered and arrival intervals. */
export async function playoutTrain (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const spec = generatorSpec(ctx)
  const sub = node.subscribe(ctx.peerAddr, param<string>(ctx, 'port', 'string'), { reconnect: false })
  const arrivals: Array<[number, number]> = []
  sub.onBatch(({ batch }) => {
    const now = node.clock.nowUs()
    for (let i = 0; i < batch.count; i++) arrivals.push([batch.times[i], now])
  })
  const delivered: TimedEvent[] = []
  const playout = node.playout(sub, { delay: { mode: 'fixed', us: param<number>(ctx, 'delay_us', 'number') }, onEvent: e => { delivered.push(e) } })
  await sub.ready()
  if (typeof ctx.params.go_key === 'string') {
    // Start the train once the clock estimate of the listener is usable, so the mapping holds still.
    const pc = node.clockFor(ctx.peerAddr)
    await waitUntil(() => pc.estimate().uncertaintyUs < 2000, Math.min(3000, ctx.remainingMs()), 'a clock estimate').catch(err => { ctx.log((err as Error).message) })
    await ctx.rv.put(ctx.params.go_key, true)
  }
  await waitUntil(() => delivered.length >= spec.n, Math.min(ctx.remainingMs(), Number(ctx.params.wait_ms ?? 6000)), 'the playout').catch(err => { ctx.log((err as Error).message) })
  playout.close()
  await sub.close()
  const checker = new EventChecker(spec)
  delivered.forEach((e, k) => { checker.check(k, e.channel, e.timeUs) })
  /** |observed interval − true interval| for consecutive events: its 90th percentile and maximum, µs. */
  const intervalErrors = (xs: Array<[number, number]>): { p90: number, max: number } => {
    const e: number[] = []
    for (let i = 1; i < xs.length; i++) e.push(Math.abs((xs[i][1] - xs[i - 1][1]) - (xs[i][0] - xs[i - 1][0])))
    e.sort((a, b) => a - b)
    return e.length === 0 ? { p90: NaN, max: NaN } : { p90: Math.round(e[Math.ceil(0.9 * e.length) - 1]), max: Math.round(e[e.length - 1]) }
  }
  const played = intervalErrors(delivered.map(e => [e.timeUs, e.atUs]))
  const arrived = intervalErrors(arrivals)
  return {
    delivered: delivered.length,
    late: delivered.filter(e => e.late).length,
    mismatches: checker.mismatches,
    examples: checker.examples,
    isi_error_p90_us: played.p90,
    isi_error_max_us: played.max,
    arrival_isi_error_p90_us: arrived.p90,
    arrival_isi_error_max_us: arrived.max,
    stats: playout.stats().timing
  }
}

/** Dialer: subscribe to every port of params.ports and merge them in time order. */
export async function mergeTrains (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const ts = trains(ctx)
  const total = ts.reduce((a, t) => a + t.spec.n, 0)
  let maxArrived = -Infinity
  let inversions = 0
  const subs = ts.map(t => {
    const s = node.subscribe(ctx.peerAddr, t.port, { reconnect: false })
    s.onBatch(({ batch }) => {
      for (let i = 0; i < batch.count; i++) {
        if (batch.times[i] < maxArrived) inversions++
        maxArrived = Math.max(maxArrived, batch.times[i])
      }
    })
    return s
  })
  const delivered: Array<TimedEvent & { input: string }> = []
  const merge = node.merge(ts.map((t, i) => ({ name: t.port, source: subs[i] })), { stallAfterUs: 3_000_000, onEvent: e => { delivered.push(e) } })
  await Promise.all(subs.map(async s => { await s.ready() }))
  await waitUntil(() => delivered.length >= total, Math.min(ctx.remainingMs(), Number(ctx.params.wait_ms ?? 6000)), 'the merge').catch(err => { ctx.log((err as Error).message) })
  merge.close()
  await Promise.all(subs.map(async s => { await s.close() }))
  let inOrder = true
  for (let i = 1; i < delivered.length; i++) if (delivered[i].localUs < delivered[i - 1].localUs) inOrder = false
  const perPort: Record<string, number> = {}
  for (const e of delivered) perPort[e.input] = (perPort[e.input] ?? 0) + 1
  return { delivered: delivered.length, late: delivered.filter(e => e.late).length, in_order: inOrder, arrival_inversions: inversions, per_port: perPort }
}
