/**
 * Stream benchmark (npm run bench:stream -- --json): spikewire event streams between two processes on
 * loopback, each side on its own core, beside a raw-TCP baseline measured in the same run (the same
 * framed batches, packColumns + encodePackedBatch, over node:net, decoded with the same FrameDecoder +
 * decodeMessage; no Noise, no Yamux, no OutPort).
 *
 * 1. stream-throughput: one stream; the producer emits chunks of maxBatchEvents events and yields, and
 *    waits whenever the sender has anything queued (so the senders' queues never overflow), for --seconds
 *    per batch size (--batches, default 4096,16384,65536, receiver maxEvents to match). The best loss-free
 *    run is reported with the raw-TCP baseline at its batch size; the others as lines with "variant".
 *    lost = emitted − received; reportedLost = what the sender counted (dropped + undelivered);
 *    lossNoticeEvents and gapEvents are what the subscriber saw.
 * 2. stream-latency: one event per ms (timer-driven, late ticks catch up) for --latency-seconds; one-way
 *    latency emit → delivery callback, publisher in the child, subscriber here, both reading
 *    performance.timeOrigin + performance.now(). Each process's base (that reading minus the system-wide
 *    monotonic clock, process.hrtime) is measured; their difference (clockBaseOffsetUs, typically a few
 *    µs: timeOrigin is sampled separately in each process) is subtracted. The first 250 ms are a
 *    warm-up and not counted. The raw-TCP baseline writes each event as its own framed batch at once.
 * 3. stream-fanout: one publisher here, --subscribers nodes in --fanout-procs child processes, for
 *    --seconds; aggregate = sum of each subscriber's delivered spikes/s.
 *
 * The child runs bench/stream-peer.ts and takes JSON-line commands on stdin. One JSON line per result on
 * stdout (--json), or a readable line each. Nodes run with their defaults (clock sync on).
 */
import { fileURLToPath } from 'node:url'
import { ChildRpc } from './child-rpc.ts'
import { parseArgs } from 'node:util'
import { NodePublisher, NodeSubscribers, clockBase } from './stream-roles.ts'
import type { ProduceResult, ReceiveResult } from './stream-roles.ts'
import { TcpSubscriber } from './stream-tcp.ts'
import { printer, quantile, round } from './report.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '10' },
    'latency-seconds': { type: 'string', default: '5' },
    batches: { type: 'string', default: '4096,16384,65536' },
    subscribers: { type: 'string', default: '16' },
    'fanout-procs': { type: 'string', default: '1' },
    'fanout-batch': { type: 'string', default: '' },
    only: { type: 'string', default: 'throughput,latency,fanout' },
    /** --no-raw skips the raw-TCP throughput baseline (quick runs, profiling). */
    raw: { type: 'boolean', default: true }
  },
  allowNegative: true
})
const seconds = Number(args.seconds)
const latencySeconds = Number(args['latency-seconds'])
const batchSizes = args.batches.split(',').map(Number)
const subscribers = Number(args.subscribers)
const fanoutProcs = Number(args['fanout-procs'])
const only = new Set(args.only.split(','))

/** No child command may take longer than this (a run plus its settling). */
const CALL_TIMEOUT_MS = (Math.max(seconds, latencySeconds) + 30) * 1000

const print = printer(args.json)

/** A child process running stream-peer.ts, driven by JSON-line commands. */
class Peer extends ChildRpc {
  constructor () {
    super(fileURLToPath(new URL('./stream-peer.ts', import.meta.url)), CALL_TIMEOUT_MS)
  }
}


/** Spikes/s at the receiver: events over first-to-last arrival. */
function rateOf (r: ReceiveResult): number {
  const span = (r.lastUs - r.firstUs) / 1e6
  return span > 0 ? r.events / span : 0
}

interface Throughput {
  batchEvents: number
  spikesPerSec: number
  pub: ProduceResult
  sub: ReceiveResult
}

/** One spikewire stream: publisher in the child, subscriber here. */
async function nodeThroughput (peer: Peer, batchEvents: number): Promise<Throughput> {
  const { addr } = await peer.call<{ addr: string }>('pub.start', { maxBatchEvents: batchEvents })
  const sub = new NodeSubscribers()
  await sub.start(addr, 1, batchEvents, false)
  await peer.call('pub.wait', { subscribers: 1 })
  const pub = await peer.call<ProduceResult>('pub.runMax', { seconds, chunk: batchEvents, queueLimit: 0 })
  const [r] = await sub.collect(pub.emitted)
  await sub.stop()
  await peer.call('pub.stop')
  return { batchEvents, spikesPerSec: rateOf(r), pub, sub: r }
}

/** The raw-TCP baseline: the same framed batches, sender in the child, FrameDecoder + decodeMessage here. */
async function tcpThroughput (peer: Peer, batchEvents: number): Promise<Throughput> {
  const { addr } = await peer.call<{ addr: number }>('pub.start', { tcp: true })
  const sub = new TcpSubscriber()
  await sub.start(addr, batchEvents, false)
  const pub = await peer.call<ProduceResult>('pub.runMax', { seconds, chunk: batchEvents, batchEvents })
  const [r] = await sub.collect(pub.emitted)
  await sub.stop()
  await peer.call('pub.stop')
  return { batchEvents, spikesPerSec: rateOf(r), pub, sub: r }
}

function throughputLine (t: Throughput, extra: Record<string, unknown>): Record<string, unknown> {
  const lost = t.pub.emitted - t.sub.events
  return {
    bench: 'stream-throughput',
    ...extra,
    spikesPerSec: round(t.spikesPerSec),
    lost,
    reportedLost: t.pub.dropped + t.pub.undelivered,
    unreportedLost: lost - t.pub.dropped - t.pub.undelivered,
    lossNoticeEvents: t.sub.lostEvents,
    gapEvents: t.sub.gapEvents,
    batchEvents: t.batchEvents,
    emitted: t.pub.emitted,
    refused: t.pub.refused,
    received: t.sub.events,
    batches: t.sub.batches,
    producerWaits: t.pub.waits,
    pubCpu: round(t.pub.cpuSeconds / t.pub.seconds, 2),
    subCpu: round(t.sub.cpuSeconds / t.pub.seconds, 2),
    pubCpuNsPerSpike: round(t.pub.cpuSeconds * 1e9 / t.pub.emitted, 1),
    subCpuNsPerSpike: round(t.sub.cpuSeconds * 1e9 / t.sub.events, 1),
    seconds: round((t.sub.lastUs - t.sub.firstUs) / 1e6, 2)
  }
}

async function throughput (peer: Peer): Promise<void> {
  const runs: Throughput[] = []
  for (const b of batchSizes) runs.push(await nodeThroughput(peer, b))
  const clean = runs.filter(r => r.pub.emitted === r.sub.events)
  const best = (clean.length > 0 ? clean : runs).reduce((a, b) => (b.spikesPerSec > a.spikesPerSec ? b : a))
  const line = throughputLine(best, {})
  if (!args.raw) {
    print(line)
    for (const r of runs) if (r !== best) print(throughputLine(r, { variant: `batch-${r.batchEvents}` }))
    return
  }
  const raw = await tcpThroughput(peer, best.batchEvents)
  print({
    ...line,
    rawTcpSpikesPerSec: round(raw.spikesPerSec),
    ratio: round(best.spikesPerSec / raw.spikesPerSec, 3),
    rawTcpLost: raw.pub.emitted - raw.sub.events,
    rawTcpPubCpuNsPerSpike: round(raw.pub.cpuSeconds * 1e9 / raw.pub.emitted, 1),
    rawTcpSubCpuNsPerSpike: round(raw.sub.cpuSeconds * 1e9 / raw.sub.events, 1),
    targetSpikesPerSec: 5e6,
    targetRatio: 0.5,
    met: best.spikesPerSec >= 5e6 && best.spikesPerSec / raw.spikesPerSec >= 0.5 && line.lost === 0
  })
  for (const r of runs) if (r !== best) print(throughputLine(r, { variant: `batch-${r.batchEvents}` }))
}

function latencyStats (lat: number[], offsetUs: number): Float64Array {
  const a = Float64Array.from(lat, x => x + offsetUs)
  return a.sort()
}

async function latency (peer: Peer): Promise<void> {
  // Bases of nowUs() against the system-wide monotonic clock: childBase − ourBase is what the child's
  // readings are ahead of ours; subtracting it makes one-way latencies exact.
  const ours = clockBase()
  const { baseUs } = await peer.call<{ baseUs: number }>('clock')
  const offsetUs = ours - baseUs
  const rateHz = 1000

  const { addr } = await peer.call<{ addr: string }>('pub.start', { maxBatchEvents: 4096 })
  const sub = new NodeSubscribers()
  await sub.start(addr, 1, 4096, true)
  await peer.call('pub.wait', { subscribers: 1 })
  const pub = await peer.call<ProduceResult>('pub.runPaced', { seconds: latencySeconds, rateHz })
  const [r] = await sub.collect(pub.emitted)
  await sub.stop()
  await peer.call('pub.stop')

  const { addr: tcpPort } = await peer.call<{ addr: number }>('pub.start', { tcp: true })
  const tsub = new TcpSubscriber()
  await tsub.start(tcpPort, 4096, true)
  const tpub = await peer.call<ProduceResult>('pub.runPaced', { seconds: latencySeconds, rateHz })
  const [tr] = await tsub.collect(tpub.emitted)
  await tsub.stop()
  await peer.call('pub.stop')

  // The first 250 ms of each run warm the code paths up and are not counted.
  const warm = Math.round(rateHz * 0.25)
  const s = latencyStats(r.latencies!.slice(warm), -offsetUs)
  const ts = latencyStats(tr.latencies!.slice(warm), -offsetUs)
  const p50 = quantile(s, 0.5)
  const p99 = quantile(s, 0.99)
  print({
    bench: 'stream-latency',
    p50Us: round(p50, 1),
    p99Us: round(p99, 1),
    maxUs: round(s[s.length - 1], 1),
    minUs: round(s[0], 1),
    rawTcpP50Us: round(quantile(ts, 0.5), 1),
    rawTcpP99Us: round(quantile(ts, 0.99), 1),
    rawTcpMaxUs: round(ts[ts.length - 1], 1),
    samples: s.length,
    rawTcpSamples: ts.length,
    rateHz: round(r.events / pub.seconds),
    lost: pub.emitted - r.events,
    clockBaseOffsetUs: round(offsetUs, 2),
    targetP50Us: 100,
    targetP99Us: 1000,
    met: p50 <= 100 && p99 <= 1000
  })
}

async function fanout (): Promise<void> {
  const batchEvents = args['fanout-batch'] === '' ? 16384 : Number(args['fanout-batch'])
  const pub = new NodePublisher(batchEvents)
  const addr = await pub.start()
  const peers = Array.from({ length: fanoutProcs }, () => new Peer())
  const per = Math.ceil(subscribers / fanoutProcs)
  const counts = peers.map((_, i) => Math.min(per, subscribers - i * per))
  await Promise.all(peers.map(async (p, i) => await p.call('sub.start', { addr, count: counts[i], maxEvents: batchEvents })))
  await pub.waitSubscribers(subscribers)
  const produced = await pub.runMax(seconds, batchEvents, 0)
  const perPeer = await Promise.all(peers.map(async p => await p.call<ReceiveResult[]>('sub.collect', { expect: produced.emitted })))
  const results = perPeer.flat()
  // Every tally of one process reads the same process CPU: count the largest once per process.
  const subCpuSeconds = perPeer.reduce((a, rs) => a + Math.max(...rs.map(r => r.cpuSeconds)), 0)
  await Promise.all(peers.map(async p => { await p.call('sub.stop'); await p.exit() }))
  await pub.stop()
  const rates = results.map(rateOf)
  const aggregate = rates.reduce((a, b) => a + b, 0)
  const received = results.reduce((a, r) => a + r.events, 0)
  const lost = produced.emitted * subscribers - received
  print({
    bench: 'stream-fanout',
    subscribers,
    aggregateSpikesPerSec: round(aggregate),
    perSubscriberSpikesPerSec: round(aggregate / subscribers),
    minSubscriberSpikesPerSec: round(Math.min(...rates)),
    lost,
    reportedLost: produced.dropped + produced.undelivered,
    lossNoticeEvents: results.reduce((a, r) => a + r.lostEvents, 0),
    gapEvents: results.reduce((a, r) => a + r.gapEvents, 0),
    batchEvents,
    processes: fanoutProcs,
    emittedPerSubscriber: produced.emitted,
    pubCpu: round(produced.cpuSeconds / produced.seconds, 2),
    subCpu: round(subCpuSeconds / produced.seconds, 2),
    pubCpuNsPerDeliveredSpike: round(produced.cpuSeconds * 1e9 / received, 1),
    subCpuNsPerSpike: round(subCpuSeconds * 1e9 / received, 1),
    seconds: round(produced.seconds, 2),
    targetAggregateSpikesPerSec: 5e6,
    met: aggregate >= 5e6 && lost === 0
  })
}

const t0 = performance.now()
// A watchdog: the whole run must not take much more than its planned time.
const plannedS = (only.has('throughput') ? (batchSizes.length + 1) * (seconds + 2) : 0) +
  (only.has('latency') ? 2 * (latencySeconds + 2) : 0) + (only.has('fanout') ? seconds + 5 : 0)
setTimeout(() => {
  console.error(`bench: gave up after ${Math.round(2 * plannedS + 30)} s`)
  process.exit(2)
}, (2 * plannedS + 30) * 1000).unref()
// Latency first, while both processes' heaps are small (no collector debt from the throughput runs).
for (const phase of ['latency', 'throughput'] as const) {
  if (!only.has(phase)) continue
  const peer = new Peer()
  try {
    await (phase === 'latency' ? latency(peer) : throughput(peer))
  } finally {
    await peer.exit()
  }
}
if (only.has('fanout')) await fanout()
if (!args.json) console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`)
