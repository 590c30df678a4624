/**
 * Fan-out CPU benchmark (npm run bench:fanout-cpu -- --json): what each subscriber costs the publisher.
 * The publisher (this process) runs a hosted Poisson source of --channels channels at --rate events/s in
 * total, as `spikewire node` does; --subscribers subscriber nodes run in a child process
 * (bench/stream-peer.ts). For each flush interval in --intervals the publisher's CPU is measured for
 * --seconds without subscribers, then for --seconds with them:
 *
 *   cpuPerSubscriberPct = (cpu with subscribers − cpu without) / subscribers / seconds × 100
 *
 * (percent of one core), with the port's flushes per second, events per flush and the subscribers'
 * one-way latency (emit time → delivery callback in the child; both processes read
 * performance.timeOrigin + performance.now(), and the difference of their bases is subtracted).
 * The baseline is interval 0 — a flush every event-loop turn, the behaviour before time coalescing —
 * measured in the same run; every other interval's line carries it as `baseline`. With --no-clock-sync
 * the subscribers run no clock sync, whose probes would otherwise add the clock server's work to the
 * publisher's CPU.
 */
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startNode } from '../src/index.ts'
import type { Hosted } from '../src/index.ts'
import { ChildRpc } from './child-rpc.ts'
import { clockBase, cpuSeconds } from './stream-roles.ts'
import type { ReceiveResult } from './stream-roles.ts'
import { printer, quantile, round, sleep } from './report.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '8' },
    subscribers: { type: 'string', default: '16' },
    rate: { type: 'string', default: '2000' },
    channels: { type: 'string', default: '1024' },
    intervals: { type: 'string', default: '0,1000,2000,5000' },
    /** --no-clock-sync: subscribers run no clock sync, so the publisher's CPU is the event path's alone. */
    'clock-sync': { type: 'boolean', default: true }
  },
  allowNegative: true
})
const seconds = Number(args.seconds)
const subscribers = Number(args.subscribers)
const rate = Number(args.rate)
const channels = Number(args.channels)
const intervals = args.intervals.split(',').map(Number)
const print = printer(args.json)

interface Result {
  bench: 'fanout-cpu'
  flushIntervalUs: number
  subscribers: number
  clockSync: boolean
  rateHz: number
  cpuIdlePct: number
  cpuLoadedPct: number
  cpuPerSubscriberPct: number
  flushesPerSecond: number
  eventsPerFlush: number
  delivered: number
  lost: number
  latencyP50Us: number
  latencyP99Us: number
}

async function measure (hosted: Hosted, s: number): Promise<{ cpu: number, flushes: number, emitted: number }> {
  const port = hosted.node.outPort('spikes')
  const c0 = cpuSeconds()
  const f0 = port.stats.flushes
  const e0 = port.stats.emitted
  await sleep(s * 1000)
  return { cpu: cpuSeconds() - c0, flushes: port.stats.flushes - f0, emitted: port.stats.emitted - e0 }
}

async function run (peer: ChildRpc, flushIntervalUs: number, offsetUs: number): Promise<Result> {
  const hosted = await startNode({
    name: 'fanout-pub',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    flushIntervalUs,
    // Every subscriber dials from 127.0.0.1 at once: allow more handshakes in progress from one address
    // than the default 8 (a guard against lock-out attacks, spec §11.4).
    limits: { maxPendingPerAddress: 64 },
    ports: [{ name: 'spikes', direction: 'out', channels, source: { type: 'poisson', rateHz: rate / channels, seed: 7 } }]
  })
  try {
    await sleep(500)
    const idle = await measure(hosted, seconds)
    await peer.call('sub.start', { addr: hosted.node.multiaddrs[0], count: subscribers, maxEvents: 65536, latency: true, clockSync: args['clock-sync'] })
    await sleep(1000) // subscriptions settle, clock syncs start
    const loaded = await measure(hosted, seconds)
    const results = await peer.call<ReceiveResult[]>('sub.collect', { expect: 0 })
    await peer.call('sub.stop')
    const lat = new Float64Array(results.flatMap(r => (r.latencies ?? []).slice(-rate * seconds)).map(x => x - offsetUs)).sort()
    return {
      bench: 'fanout-cpu',
      flushIntervalUs,
      subscribers,
      clockSync: args['clock-sync'],
      rateHz: rate,
      cpuIdlePct: round(100 * idle.cpu / seconds, 1),
      cpuLoadedPct: round(100 * loaded.cpu / seconds, 1),
      cpuPerSubscriberPct: round(100 * (loaded.cpu - idle.cpu) / subscribers / seconds, 2),
      flushesPerSecond: round(loaded.flushes / seconds),
      eventsPerFlush: round(loaded.emitted / Math.max(1, loaded.flushes), 2),
      delivered: results.reduce((n, r) => n + r.events, 0),
      lost: results.reduce((n, r) => n + r.lostEvents + r.gapEvents, 0),
      latencyP50Us: round(quantile(lat, 0.5)),
      latencyP99Us: round(quantile(lat, 0.99))
    }
  } finally {
    await hosted.node.stop()
  }
}

const peer = new ChildRpc(fileURLToPath(new URL('./stream-peer.ts', import.meta.url)), (2 * seconds + 60) * 1000)
try {
  const { baseUs } = await peer.call<{ baseUs: number }>('clock')
  // The child's readings are ahead of ours by this much: subtract it from its latencies.
  const offsetUs = baseUs - clockBase()
  let baseline: Result | undefined
  for (const interval of intervals) {
    const r = await run(peer, interval, offsetUs)
    if (interval === 0) baseline = r
    print(interval === 0 || baseline === undefined ? { ...r, variant: 'baseline: flush every turn' } : { ...r, baseline })
  }
} finally {
  await peer.call('exit').catch(() => {})
}
