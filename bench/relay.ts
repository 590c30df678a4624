/**
 * Relay benchmark (npm run bench:relay -- --json): spikewire event streams through a circuit relay against
 * the direct path, in one run on loopback. With --netns, the same across real NAT in network namespaces
 * (bench/relay-netns.ts; needs root). The relay is a `spikewire relay` child process (its own core when
 * one is free); the publishers and the subscriber are nodes in this process. Two publishers, one reached
 * directly (its TCP address) and one only through the relay (it listens nowhere and holds a reservation), so
 * that the subscriber's connections cannot be shared between the two paths.
 *
 * 1. relay-throughput: for --seconds, the publisher emits chunks of --chunk events and yields, waiting
 *    whenever its stream holds more than --queue events, so nothing is dropped; spikes/s = events received /
 *    time from the first to the last batch. lost = emitted − received; gaps and losses are the subscriber's.
 * 2. relay-latency: one event per ms (1,000 spikes/s, timer-driven) for --latency-seconds; one-way latency =
 *    arrival time − the event's time (its emit time, the same clock: both nodes are in this process); the
 *    first 250 ms are a warm-up and not counted.
 *
 * Each line reports the relayed figures and the direct ones of the same run as the baseline. The measuring
 * functions take the nodes and the address to subscribe to, so another topology (network namespaces, a relay
 * on another host) can call them with its own: `measureThroughput`, `measureLatency`; and their two halves
 * for a publisher and a subscriber in different processes: `produceMax` / `producePaced` (publisher side) and
 * `receive` (subscriber side, with `drained`, `throughputOf` and `summarise`). The options (`parseRelayArgs`)
 * and the result lines (`throughputLine`, `latencyLine`) are bench/relay-netns.ts's too.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createNode } from '../src/hosting/start.ts'
import type { SpikewireNode } from '../src/node/node.ts'
import type { Subscription } from '../src/protocols/events/subscription.ts'
import { printer, quantile, round, sleep } from './report.ts'
import { CHANNELS, QUEUE_EVENTS, nowUs } from './stream-roles.ts'

export const PORT = 'spikes'

/** What the publishers are created with (name and listen addresses aside): one out port, `PORT`. */
export const PUBLISHER = {
  ports: [{ name: PORT, direction: 'out' as const, channels: CHANNELS }],
  limits: { queueEvents: QUEUE_EVENTS },
  maxBatchEvents: 16_384
}

export interface RelayArgs { json: boolean, seconds: number, latencySeconds: number, chunk: number, queue: number, rateHz: number }

/** The command line of both relay benches (--netns picks the namespace one). */
export function parseRelayArgs (): RelayArgs {
  const { values: args } = parseArgs({
    options: {
      netns: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '5' },
      'latency-seconds': { type: 'string', default: '5' },
      chunk: { type: 'string', default: '4096' },
      queue: { type: 'string', default: '65536' },
      rate: { type: 'string', default: '1000' }
    }
  })
  return {
    json: args.json,
    seconds: Number(args.seconds),
    latencySeconds: Number(args['latency-seconds']),
    chunk: Number(args.chunk),
    queue: Number(args.queue),
    rateHz: Number(args.rate)
  }
}

export interface Produced { emitted: number, dropped: number, seconds: number }

/**
 * Publisher side of the throughput run: emit chunks of `chunk` events on the node's out port for `seconds`,
 * waiting while any stream holds more than `queueLimit` queued events (so nothing is dropped).
 */
export async function produceMax (pub: SpikewireNode, seconds: number, chunk: number, queueLimit: number): Promise<Produced> {
  const port = pub.outPort(PORT)
  const ch = new Uint32Array(chunk)
  const tm = new Float64Array(chunk)
  const start = performance.now()
  let k = 0
  let t = Math.ceil(pub.clock.nowUs())
  while (performance.now() - start < seconds * 1000) {
    let busy = false
    for (const s of port.senders) {
      if (s.stats.queuedEvents > queueLimit || s.framed.needsDrain) {
        busy = true
        if (s.framed.needsDrain) await s.framed.drain()
      }
    }
    if (busy) {
      await new Promise(resolve => setImmediate(resolve))
      continue
    }
    t = Math.max(t, Math.ceil(pub.clock.nowUs()))
    for (let i = 0; i < chunk; i++) {
      ch[i] = (k++ * 7919) % CHANNELS
      tm[i] = t + (i >>> 6)
    }
    port.emitColumns(ch, tm, undefined, chunk)
    t += chunk >>> 6
    await new Promise(resolve => setImmediate(resolve))
  }
  port.flush()
  return { ...totals(pub), seconds: (performance.now() - start) / 1000 }
}

/** Publisher side of the latency run: one event every 1000/rateHz ms, its time the emit time. */
export async function producePaced (pub: SpikewireNode, seconds: number, rateHz: number): Promise<Produced> {
  const port = pub.outPort(PORT)
  const start = performance.now()
  const periodMs = 1000 / rateHz
  let n = 0
  await new Promise<void>(resolve => {
    const tick = (): void => {
      const elapsed = performance.now() - start
      if (elapsed >= seconds * 1000) {
        resolve()
        return
      }
      while (elapsed >= n * periodMs) {
        port.emit(n % CHANNELS, Math.round(pub.clock.nowUs()))
        n++
      }
      setTimeout(tick, Math.max(0, n * periodMs - (performance.now() - start)))
    }
    tick()
  })
  return { ...totals(pub), seconds: (performance.now() - start) / 1000 }
}

function totals (pub: SpikewireNode): { emitted: number, dropped: number } {
  const port = pub.outPort(PORT)
  let dropped = 0
  for (const s of port.senders) dropped += s.stats.dropped
  return { emitted: port.stats.emitted, dropped }
}

/** Subscriber side: what arrives on a subscription, with each event's one-way latency when asked. */
export class Received {
  events = 0
  firstUs = 0
  lastUs = 0
  readonly latencies: number[] = []
  readonly #sub: Subscription

  constructor (sub: Subscription, latency: boolean, warmupUs = 250_000) {
    this.#sub = sub
    let startUs = 0
    sub.onBatch(d => {
      const now = nowUs()
      if (this.events === 0) this.firstUs = startUs = now
      this.lastUs = now
      this.events += d.batch.count
      if (latency && now - startUs >= warmupUs) for (let i = 0; i < d.batch.count; i++) this.latencies.push(now - d.batch.times[i])
    })
  }

  get gaps (): number {
    return this.#sub.stats.gapEvents
  }

  get lost (): number {
    return this.#sub.stats.lostEvents
  }
}

/** Subscribe `sub` to the publisher's port at `target` and count what arrives. */
export async function receive (sub: SpikewireNode, target: string, latency: boolean): Promise<{ subscription: Subscription, received: Received }> {
  const subscription = sub.subscribe(target, PORT, { reconnect: false, maxEvents: 65536 })
  const received = new Received(subscription, latency)
  await subscription.ready()
  return { subscription, received }
}

/** Wait until `received` has `count` events or nothing more arrives for 2 s. */
export async function drained (received: Received, count: number): Promise<void> {
  let last = -1
  let still = 0
  while (received.events < count && still < 20) {
    await sleep(100)
    still = received.events === last ? still + 1 : 0
    last = received.events
  }
}

export interface ThroughputResult { spikesPerSecond: number, emitted: number, received: number, lost: number, gaps: number, notices: number }

/** Throughput from `pub` (a node of this process) to `sub` subscribed at `target`. */
export async function measureThroughput (sub: SpikewireNode, pub: SpikewireNode, target: string, o: { seconds: number, chunk: number, queue: number }): Promise<ThroughputResult> {
  const before = pub.outPort(PORT).stats.emitted
  const { subscription, received } = await receive(sub, target, false)
  const p = await produceMax(pub, o.seconds, o.chunk, o.queue)
  const emitted = p.emitted - before
  await drained(received, emitted)
  await subscription.close()
  return throughputOf(received, emitted)
}

/** The throughput figures of what `received` counted against `emitted` (its rate: first to last batch). */
export function throughputOf (received: Received, emitted: number): ThroughputResult {
  const seconds = Math.max(received.lastUs - received.firstUs, 1) / 1e6
  return { spikesPerSecond: received.events / seconds, emitted, received: received.events, lost: emitted - received.events, gaps: received.gaps, notices: received.lost }
}

export interface LatencyResult { p50Us: number, p99Us: number, maxUs: number, events: number, lost: number }

/** One-way latency at `rateHz` from `pub` (a node of this process) to `sub` subscribed at `target`. */
export async function measureLatency (sub: SpikewireNode, pub: SpikewireNode, target: string, o: { seconds: number, rateHz: number }): Promise<LatencyResult> {
  const before = pub.outPort(PORT).stats.emitted
  const { subscription, received } = await receive(sub, target, true)
  const p = await producePaced(pub, o.seconds, o.rateHz)
  const emitted = p.emitted - before
  await drained(received, emitted)
  await subscription.close()
  return summarise(received, emitted)
}

/** The latency figures of what `received` recorded, and the events lost against `emitted`. */
export function summarise (received: Received, emitted: number): LatencyResult {
  const lat = received.latencies.slice().sort((a, b) => a - b)
  return { p50Us: quantile(lat, 0.5), p99Us: quantile(lat, 0.99), maxUs: lat.at(-1) ?? NaN, events: lat.length, lost: emitted - received.events }
}

/** The figures of a throughput line: the relayed run, and the direct one as the baseline. */
export function throughputLine (bench: string, seconds: number, relayed: ThroughputResult, direct: ThroughputResult): Record<string, unknown> {
  return {
    bench,
    seconds,
    spikes_per_s: round(relayed.spikesPerSecond),
    lost: relayed.lost,
    gaps: relayed.gaps,
    loss_notices: relayed.notices,
    baseline_spikes_per_s: round(direct.spikesPerSecond),
    baseline_lost: direct.lost,
    baseline_gaps: direct.gaps,
    ratio: round(relayed.spikesPerSecond / direct.spikesPerSecond, 3)
  }
}

/** The figures of a latency line: the relayed run, and the direct one as the baseline. */
export function latencyLine (bench: string, rateHz: number, seconds: number, relayed: LatencyResult, direct: LatencyResult): Record<string, unknown> {
  return {
    bench,
    rate_hz: rateHz,
    seconds,
    events: relayed.events,
    lost: relayed.lost,
    p50_us: round(relayed.p50Us, 1),
    p99_us: round(relayed.p99Us, 1),
    max_us: round(relayed.maxUs, 1),
    baseline_events: direct.events,
    baseline_lost: direct.lost,
    baseline_p50_us: round(direct.p50Us, 1),
    baseline_p99_us: round(direct.p99Us, 1),
    baseline_max_us: round(direct.maxUs, 1),
    added_p50_us: round(relayed.p50Us - direct.p50Us, 1),
    added_p99_us: round(relayed.p99Us - direct.p99Us, 1)
  }
}

/** A `spikewire relay` child process on loopback; resolves with its TCP address once it has started. */
export async function startRelayProcess (config: Record<string, unknown>): Promise<{ addr: string, stop: () => Promise<Record<string, unknown> | undefined> }> {
  const dir = await mkdtemp(join(tmpdir(), 'spikewire-bench-relay-'))
  const file = join(dir, 'relay.json')
  await writeFile(file, JSON.stringify(config))
  const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
  const child = spawn(process.execPath, [main, 'relay', '--config', file, '--json', '--stats', '3600'], { stdio: ['ignore', 'pipe', 'inherit'] })
  process.once('exit', () => { child.kill('SIGKILL') })
  const lines: Array<Record<string, unknown>> = []
  createInterface({ input: child.stdout }).on('line', l => { lines.push(JSON.parse(l) as Record<string, unknown>) })
  const end = Date.now() + 20_000
  while (!lines.some(l => l.event === 'started')) {
    if (Date.now() > end || child.exitCode !== null) throw new Error('the relay did not start within 20 s')
    await sleep(20)
  }
  const addr = (lines.find(l => l.event === 'started')!.multiaddrs as string[])[0]
  return {
    addr,
    stop: async () => {
      const exited = new Promise(resolve => child.once('close', resolve))
      child.kill('SIGTERM')
      await exited
      await rm(dir, { recursive: true, force: true })
      return lines.find(l => l.event === 'stats' && l.final === true)
    }
  }
}

async function main (): Promise<void> {
  // --netns: the same measurement across real NAT in network namespaces (bench/relay-netns.ts, net-nat), in
  // its own process (it imports this module's measuring functions).
  if (process.argv.includes('--netns')) {
    const netns = spawn(process.execPath, [fileURLToPath(new URL('./relay-netns.ts', import.meta.url)), ...process.argv.slice(2)], { stdio: 'inherit' })
    process.exitCode = await new Promise<number>(resolve => netns.on('exit', code => { resolve(code ?? 1) }))
    return
  }
  const args = parseRelayArgs()
  const print = printer(args.json)
  const relay = await startRelayProcess({ name: 'bench-relay', listen: ['/ip4/127.0.0.1/tcp/0'], reservations: '*' })
  const direct = await createNode({ name: 'bench-direct', listen: ['/ip4/127.0.0.1/tcp/0'], ...PUBLISHER })
  const relayed = await createNode({ name: 'bench-relayed', listen: [], relays: [relay.addr], ...PUBLISHER })
  await relayed.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  const sub = await createNode({ name: 'bench-sub', listen: [] })
  const paths = { direct: { pub: direct, target: direct.multiaddrs[0] }, relayed: { pub: relayed, target: `${relay.addr}/p2p-circuit/p2p/${relayed.peerId}` } }
  try {
    const tp = { seconds: args.seconds, chunk: args.chunk, queue: args.queue }
    const td = await measureThroughput(sub, paths.direct.pub, paths.direct.target, tp)
    const tr = await measureThroughput(sub, paths.relayed.pub, paths.relayed.target, tp)
    print({
      ...throughputLine('relay-throughput', args.seconds, tr, td),
      note: 'relayed (loopback, relay in a child process) vs direct (same run); emitter waits on backpressure, so zero loss is expected on both'
    })
    const lo = { seconds: args.latencySeconds, rateHz: args.rateHz }
    const ld = await measureLatency(sub, paths.direct.pub, paths.direct.target, lo)
    const lr = await measureLatency(sub, paths.relayed.pub, paths.relayed.target, lo)
    print({
      ...latencyLine('relay-latency', args.rateHz, args.latencySeconds, lr, ld),
      note: 'one-way emit -> delivery callback, one clock; relayed vs direct in the same run'
    })
  } finally {
    await sub.stop()
    await direct.stop()
    await relayed.stop()
    const final = await relay.stop()
    if (final !== undefined) print({ bench: 'relay-stats', ...(final.relayed as Record<string, unknown>) })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
