/**
 * Event scenarios of the TypeScript implementation: emitting and checking generated events over
 * subscribe and push (subscribe-receive-n, weighted-events, push-into-in-port), watermarks on an idle
 * port, and the generic listener that only serves its ports.
 */
import { EventChecker, generate } from '../../lib/generator.ts'
import type { GeneratorSpec } from '../../lib/generator.ts'
import type { OutPort, SpikewireNode } from '../../../src/index.ts'
import { param, sleep, waitUntil } from './context.ts'
import type { Ctx } from './context.ts'
import type { Peer } from './peer.ts'

export type Fields = Record<string, unknown>

export function generatorSpec (ctx: Ctx, seed = param<number>(ctx, 'seed', 'number')): GeneratorSpec {
  const spec: GeneratorSpec = {
    seed,
    n: param<number>(ctx, 'n', 'number'),
    channels: param<number>(ctx, 'channels', 'number'),
    max_gap_us: param<number>(ctx, 'max_gap_us', 'number'),
    weighted: ctx.params.kind === 'weighted'
  }
  if (typeof ctx.params.min_gap_us === 'number') spec.min_gap_us = ctx.params.min_gap_us
  return spec
}

export function nodeOf (peer: Peer): SpikewireNode {
  if (peer.node === undefined) throw new Error('this handler needs a spikewire node')
  return peer.node
}

/** Emit every generated event into `port` from t0 on; returns how many the port took. */
export async function emitAll (port: OutPort, spec: GeneratorSpec, t0: number): Promise<number> {
  const g = generate(spec)
  let sent = 0
  for (let k = 0; k < spec.n; k++) {
    if (port.emit(g.channels[k], t0 + g.offsets[k], g.values?.[k] ?? 0)) sent++
    if (k % 4096 === 4095) await new Promise(resolve => setImmediate(resolve))
  }
  port.flush()
  return sent
}

/** Listener: wait for a subscriber on params.port, emit the generated events, report sent and t0. */
export async function emitOnSubscribe (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const port = node.outPort(param<string>(ctx, 'port', 'string'))
  await ctx.ready()
  await waitUntil(() => port.stats.streams > 0, ctx.remainingMs(), 'a subscriber')
  const t0 = Math.round(node.clock.nowUs())
  const sent = await emitAll(port, generatorSpec(ctx), t0)
  await ctx.done
  return { sent, t0 }
}

/** Dialer: subscribe to params.port and check every event against the generator. */
export async function receiveAndCheck (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const spec = generatorSpec(ctx)
  const checker = new EventChecker(spec)
  let received = 0
  const sub = node.subscribe(ctx.peerAddr, param<string>(ctx, 'port', 'string'), { reconnect: false })
  sub.onBatch(({ batch }) => {
    for (let i = 0; i < batch.count; i++) checker.check(batch.seq + i, batch.channels[i], batch.times[i], batch.values?.[i])
    received += batch.count
  })
  await sub.ready()
  const wait = Math.min(ctx.remainingMs(), Number(ctx.params.wait_ms ?? 8000))
  await waitUntil(() => received >= spec.n, wait, `${spec.n} events`).catch(err => { ctx.log((err as Error).message) })
  const fields = { received, mismatches: checker.mismatches, examples: checker.examples, gap: sub.stats.gapEvents, lost: sub.stats.lostEvents, t0: checker.t0 }
  await sub.close()
  return fields
}

/** Dialer: push the generated events from a local port named params.source into params.port. */
export async function pushGenerated (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const spec = generatorSpec(ctx)
  const source = param<string>(ctx, 'source', 'string')
  const port = node.addOutPort({ name: source, channels: spec.channels })
  const link = node.push(source, ctx.peerAddr, param<string>(ctx, 'port', 'string'), { reconnect: false })
  await link.ready()
  const t0 = Math.round(node.clock.nowUs())
  const sent = await emitAll(port, spec, t0)
  await link.close()
  return { sent, t0 }
}

/** Listener: check what is pushed into params.port until `done`. */
export async function receivePushed (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const inPort = node.inPort(param<string>(ctx, 'port', 'string'))
  const checker = new EventChecker(generatorSpec(ctx))
  let received = 0
  let from: string | undefined
  let source: string | undefined
  inPort.onBatch(({ peer: p, port, batch }) => {
    from = p
    source = port
    for (let i = 0; i < batch.count; i++) checker.check(batch.seq + i, batch.channels[i], batch.times[i], batch.values?.[i])
    received += batch.count
  })
  await ctx.ready()
  await ctx.done
  return { received, mismatches: checker.mismatches, examples: checker.examples, gap: inPort.stats.gapEvents, lost: inPort.stats.lostEvents, t0: checker.t0, peer: from, source }
}

/** Dialer: record the watermarks of an idle port for params.duration_ms. */
export async function recordWatermarks (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const marks: Array<[number, number]> = []
  const sub = node.subscribe(ctx.peerAddr, param<string>(ctx, 'port', 'string'), { reconnect: false })
  sub.addEventListener('watermark', e => { marks.push([e.detail.time, performance.now()]) })
  await sub.ready()
  await sleep(Math.min(param<number>(ctx, 'duration_ms', 'number'), ctx.remainingMs()))
  await sub.close()
  let maxInterval = 0
  let monotonic = true
  for (let i = 1; i < marks.length; i++) {
    maxInterval = Math.max(maxInterval, marks[i][1] - marks[i - 1][1])
    if (marks[i][0] < marks[i - 1][0]) monotonic = false
  }
  const first = marks[0]
  const last = marks[marks.length - 1]
  return {
    watermarks: marks.length,
    monotonic,
    max_interval_ms: Math.round(maxInterval),
    advanced_us: marks.length > 1 ? last[0] - first[0] : 0,
    elapsed_us: marks.length > 1 ? Math.round((last[1] - first[1]) * 1000) : 0
  }
}

/** Listener that only serves its ports; reports what its in ports received. */
export async function serve (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const counts = new Map<string, number>()
  for (const [name, p] of node.inPorts) p.onBatch(({ batch }) => { counts.set(name, (counts.get(name) ?? 0) + batch.count) })
  await ctx.ready()
  await ctx.done
  const inPorts: Record<string, Fields> = {}
  for (const [name, p] of node.inPorts) inPorts[name] = { events: counts.get(name) ?? 0, gap: p.stats.gapEvents, lost: p.stats.lostEvents }
  return { in_ports: inPorts, refused_opens: node.refusals.opens }
}
