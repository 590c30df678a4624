/**
 * Metrics overhead (npm run bench:metrics -- --json): what a scrape costs, and what the one hook on the
 * hot path (the latency histogram, fed per latency sample) costs, each against a baseline from the same
 * run. Every node runs in this process, on 127.0.0.1.
 *
 * - metrics-scrape: a publisher with --ports out ports, each subscribed by --subscribers nodes (so
 *   ports × subscribers streams), events flowing through every stream beforehand. The publisher's
 *   `metrics.scrape()` (every spikewire_, libp2p_ and process metric) and a GET /metrics over HTTP, timed
 *   --scrapes times, and the spikewire_ families alone (a second registry on the same node, without
 *   libp2p's and the process metrics); baseline: `node.stats()`, the snapshot the node takes for `--stats`
 *   anyway.
 * - metrics-latency-observe: LatencyTracker.record() with the histogram observer against without, per
 *   latency sample (the node records up to 64 samples per batch).
 * - metrics-stream: --events events through one subscription as fast as the publisher emits them, both
 *   nodes created with metrics (libp2p metrics, latency histograms) or without; the rounds alternate
 *   (off, on, on without libp2p's metrics, off, …) and each reports events/s and CPU µs per event of this
 *   process; baseline: off.
 *
 * The benchmark waits while /work/ci/HOLD exists (other measurements running on the shared machine).
 */
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createNode } from '../src/hosting/start.ts'
import type { SpikewireNode } from '../src/node/node.ts'
import { MetricsServer, NodeMetrics } from '../src/metrics/index.ts'
import { LatencyTracker } from '../src/protocols/clock/latency.ts'
import { PeerLabels } from '../src/metrics/peers.ts'
import { LatencyHistograms } from '../src/metrics/latency.ts'
import { Registry } from 'prom-client'
import { printer, quantile, round, sleep } from './report.ts'
import { until } from '../test/helpers/nodes.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean' },
    ports: { type: 'string', default: '8' },
    subscribers: { type: 'string', default: '4' },
    scrapes: { type: 'string', default: '200' },
    samples: { type: 'string', default: '2000000' },
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    hold: { type: 'string', default: '/work/ci/HOLD' }
  }
})
const print = printer(args.json === true)
const PORTS = Number(args.ports)
const SUBSCRIBERS = Number(args.subscribers)
const SCRAPES = Number(args.scrapes)
const SAMPLES = Number(args.samples)
const EVENTS = Number(args.events)
const ROUNDS = Number(args.rounds)

async function respectHold (): Promise<number> {
  const start = Date.now()
  const end = start + 30 * 60_000
  while (existsSync(args.hold) && Date.now() < end) await sleep(5000)
  return Date.now() - start
}

/** The median: the middle element of the sorted values (the upper one of two). */
const median = (xs: number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5)

const listen = ['/ip4/127.0.0.1/tcp/0']

async function withMetrics (on: boolean, config: Parameters<typeof createNode>[0], libp2p = true): Promise<{ node: SpikewireNode, metrics?: NodeMetrics }> {
  if (!on) return { node: await createNode({ listen, ...config }) }
  const metrics = await NodeMetrics.create({ libp2p })
  const node = await createNode({ listen, ...config }, { ...metrics.nodeOptions })
  metrics.watch(node)
  return { node, metrics }
}

function timeUs (fn: () => unknown): number {
  const t0 = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t0) / 1000
}

async function timeUsAsync (fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t0) / 1000
}

const summary = (xs: number[]): { p50: number, p99: number } => {
  const s = [...xs].sort((a, b) => a - b)
  return { p50: round(quantile(s, 0.5), 1), p99: round(quantile(s, 0.99), 1) }
}

async function scrapeCost (): Promise<void> {
  const held = await respectHold()
  const ports = Array.from({ length: PORTS }, (_, i) => ({ name: `p${i}`, direction: 'out' as const, channels: 64 }))
  const { node: pub, metrics } = await withMetrics(true, { name: 'pub', ports })
  const subs = await Promise.all(Array.from({ length: SUBSCRIBERS }, async (_, i) => (await withMetrics(true, { name: `s${i}` })).node))
  try {
    const all = subs.flatMap(s => ports.map(p => s.subscribe(pub.multiaddrs[0], p.name)))
    await until(() => all.every(s => s.state === 'open'), 60_000, 'the subscriptions')
    for (let k = 0; k < 20; k++) {
      for (const p of ports) pub.outPort(p.name).emit(k % 64, Math.round(pub.clock.nowUs()))
      await sleep(5)
    }
    await until(() => all.every(s => s.stats.events === 20), 60_000, 'the events')
    const server = await MetricsServer.listen(metrics!, { host: '127.0.0.1', port: 0 })
    const text = await metrics!.scrape()
    const series = text.split('\n').filter(l => l !== '' && !l.startsWith('#')).length
    const ownSeries = text.split('\n').filter(l => l.startsWith('spikewire_')).length
    // The spikewire_ families alone: a second registry on the same node, without libp2p's and the process metrics.
    const ownOnly = await NodeMetrics.create({ libp2p: false })
    ownOnly.watch(pub)
    const stats: number[] = []
    const scrape: number[] = []
    const own: number[] = []
    const http: number[] = []
    for (let i = 0; i < 20; i++) { pub.stats(); await metrics!.scrape(); await ownOnly.scrape() }
    for (let i = 0; i < SCRAPES; i++) {
      stats.push(timeUs(() => pub.stats()))
      scrape.push(await timeUsAsync(async () => await metrics!.scrape()))
      own.push(await timeUsAsync(async () => await ownOnly.scrape()))
      http.push(await timeUsAsync(async () => { await (await fetch(server.url)).text() }))
    }
    await server.stop()
    const s = summary(scrape)
    const h = summary(http)
    const b = summary(stats)
    const o = summary(own)
    print({ bench: 'metrics-scrape', ports: PORTS, streams: PORTS * SUBSCRIBERS, series, spikewireSeries: ownSeries, bytes: text.length, scrapes: SCRAPES, scrapeP50Us: s.p50, scrapeP99Us: s.p99, spikewireOnlyP50Us: o.p50, spikewireOnlyP99Us: o.p99, httpP50Us: h.p50, httpP99Us: h.p99, baseline: 'node.stats()', baselineP50Us: b.p50, baselineP99Us: b.p99, heldMs: held })
  } finally {
    await Promise.all([pub, ...subs].map(async n => { await n.stop() }))
  }
}

async function observeCost (): Promise<void> {
  const held = await respectHold()
  const histograms = new LatencyHistograms(new Registry(), new PeerLabels())
  const observer = histograms.observer('12D3KooWbench', 'sub/spikes')
  const values = Float64Array.from({ length: 4096 }, (_, i) => 50 + (i * 7919) % 20_000)
  const run = (tracker: LatencyTracker): number => timeUs(() => { for (let i = 0; i < SAMPLES; i++) tracker.record(values[i & 4095]) })
  const off: number[] = []
  const on: number[] = []
  for (let r = 0; r < ROUNDS + 1; r++) {
    const a = run(new LatencyTracker())
    const b = run(new LatencyTracker({ onRecord: observer }))
    if (r === 0) continue // warm-up
    off.push(a * 1000 / SAMPLES)
    on.push(b * 1000 / SAMPLES)
  }
  const med = (xs: number[]): number => round(median(xs), 1)
  print({ bench: 'metrics-latency-observe', samples: SAMPLES, rounds: ROUNDS, nsPerSample: med(on), baseline: 'no observer', baselineNsPerSample: med(off), addedNsPerSample: round(med(on) - med(off), 1), addedNsPerBatchOf64: round((med(on) - med(off)) * 64, 0), heldMs: held })
}

async function streamRound (on: boolean, libp2p = true): Promise<{ eventsPerS: number, cpuUsPerEvent: number }> {
  const { node: pub } = await withMetrics(on, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 1024 }] }, libp2p)
  const { node: sub, metrics } = await withMetrics(on, { name: 'sub' }, libp2p)
  try {
    const s = sub.subscribe(pub.multiaddrs[0], 'spikes')
    await until(() => s.state === 'open', 60_000, 'the subscription')
    await until(() => sub.peers.get(pub.peerId)?.estimated === true, 60_000, 'the clock estimate')
    const port = pub.outPort('spikes')
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    let sent = 0
    while (sent < EVENTS) {
      const now = Math.round(pub.clock.nowUs())
      const n = Math.min(1000, EVENTS - sent)
      for (let k = 0; k < n; k++) port.emit((sent + k) % 1024, now)
      sent += n
      await new Promise(resolve => setImmediate(resolve))
    }
    await until(() => s.stats.events + s.stats.lostEvents + s.stats.gapEvents >= EVENTS, 60_000, 'the events')
    const wallS = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    if (on && (s.latency.count === 0 || metrics === undefined)) throw new Error('no latency recorded with metrics on')
    return { eventsPerS: round(EVENTS / wallS, 0), cpuUsPerEvent: round((cpu.user + cpu.system) / EVENTS, 3) }
  } finally {
    await Promise.all([pub.stop(), sub.stop()])
  }
}

async function streamCost (): Promise<void> {
  const held = await respectHold()
  const off: Array<{ eventsPerS: number, cpuUsPerEvent: number }> = []
  const on: Array<{ eventsPerS: number, cpuUsPerEvent: number }> = []
  const own: Array<{ eventsPerS: number, cpuUsPerEvent: number }> = []
  await streamRound(false) // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    off.push(await streamRound(false))
    on.push(await streamRound(true))
    own.push(await streamRound(true, false))
  }
  print({
    bench: 'metrics-stream',
    events: EVENTS,
    rounds: ROUNDS,
    eventsPerS: median(on.map(x => x.eventsPerS)),
    cpuUsPerEvent: median(on.map(x => x.cpuUsPerEvent)),
    withoutLibp2pEventsPerS: median(own.map(x => x.eventsPerS)),
    withoutLibp2pCpuUsPerEvent: median(own.map(x => x.cpuUsPerEvent)),
    baseline: 'metrics off',
    baselineEventsPerS: median(off.map(x => x.eventsPerS)),
    baselineCpuUsPerEvent: median(off.map(x => x.cpuUsPerEvent)),
    runs: { on, withoutLibp2p: own, off },
    heldMs: held
  })
}

await observeCost()
await scrapeCost()
await streamCost()
