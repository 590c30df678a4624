/**
 * Gateway latency added (issue 13): a 2020-format datagram sent → its event at a spikewire subscriber,
 * p50/p99, against the same path through a direct spikewire publisher measured in the same run, and the
 * events lost (must be 0). The gateway and the direct publisher run in one child process
 * (bench/gateway-udp2020-peer.ts); this process sends the datagrams and subscribes, so send and receive
 * times are read on one clock. The two paths alternate datagram by datagram, paced.
 *
 *   node bench/gateway-udp2020.ts [--events N] [--rate HZ] [--json]    (npm run bench:gateway)
 */
import { spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { forEachEvent } from '../src/codec/batch.ts'
import { eventDatagram, TICK_US } from '../src/gateway/udp2020/datagram.ts'
import { createSpikewireNode } from '../src/node/node.ts'
import { printer, quantile, round, sleep } from './report.ts'

const { values } = parseArgs({ options: { events: { type: 'string' }, rate: { type: 'string' }, json: { type: 'boolean' } } })
const N = Math.min(Number(values.events ?? 2000), 65_536)
const RATE = Number(values.rate ?? 200)
const print = printer(values.json === true)
const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000

const child = spawn(process.execPath, [new URL('./gateway-udp2020-peer.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] })
const exited = once(child, 'exit')
const lines = createInterface({ input: child.stdout! })
const [first] = await once(lines, 'line') as [string]
const peer = JSON.parse(first) as { gateway: string, trigger: string, addr: string }
const node = await createSpikewireNode({ name: 'bench-sub', listen: ['/ip4/127.0.0.1/tcp/0'] })
const socket = createSocket('udp4')
await new Promise<void>(resolve => { socket.bind(0, '127.0.0.1', () => { resolve() }) })
const hostPort = (a: string): [string, number] => [a.slice(0, a.lastIndexOf(':')), Number(a.slice(a.lastIndexOf(':') + 1))]
const [gwHost, gwPort] = hostPort(peer.gateway)
const [trHost, trPort] = hostPort(peer.trigger)

// Neuron id = the datagram's index within its path (so each event names its datagram); event type = index mod 3.
const sent = { gateway: new Float64Array(N), direct: new Float64Array(N) }
const got = { gateway: new Float64Array(N).fill(NaN), direct: new Float64Array(N).fill(NaN) }
let duplicates = 0
for (const [port, path] of [['axon', 'gateway'], ['direct', 'direct']] as const) {
  const sub = node.subscribe(peer.addr, port)
  sub.onBatch(d => {
    const at = nowUs()
    forEachEvent(d.batch, (channel, _time, value) => {
      const i = channel
      if (i >= N || value !== i % 3) return
      if (!Number.isNaN(got[path][i])) duplicates++
      got[path][i] = at
    })
  })
  await sub.ready()
}
await sleep(500)
const intervalUs = 1e6 / RATE
const startUs = nowUs()
let last = startUs
for (let i = 0; i < N; i++) {
  for (const path of ['gateway', 'direct'] as const) {
    const due = startUs + (2 * i + (path === 'direct' ? 1 : 0)) * intervalUs / 2
    // Paced by timers only: this process also receives, so it must never spin.
    while (nowUs() < due) await sleep(Math.max(0, (due - nowUs()) / 1000 - 0.5))
    const ticks = Math.round((nowUs() - last) / TICK_US)
    const bytes = eventDatagram('A', i, i % 3, path === 'gateway' ? ticks : 0)
    sent[path][i] = nowUs()
    if (path === 'gateway') last = sent[path][i]
    socket.send(bytes, path === 'gateway' ? gwPort : trPort, path === 'gateway' ? gwHost : trHost)
  }
}
const end = Date.now() + 10_000
while (Date.now() < end && (got.gateway.some(Number.isNaN) || got.direct.some(Number.isNaN))) await sleep(20)

const summary = (path: 'gateway' | 'direct'): { p50: number, p99: number, lost: number } => {
  const lat = [...got[path]].map((g, i) => g - sent[path][i]).filter(x => !Number.isNaN(x)).sort((a, b) => a - b)
  return { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), lost: N - lat.length }
}
const g = summary('gateway')
const d = summary('direct')
child.kill('SIGTERM')
const [stats] = await once(lines, 'line') as [string]
const parts = (JSON.parse(stats) as { stats: { udp2020: { malformed: Record<string, number>, senders: { A: { reanchors: Record<string, number> } } } } }).stats.udp2020
print({
  bench: 'gateway-udp2020',
  events: N,
  rate_hz: RATE,
  latency_p50_us: round(g.p50),
  latency_p99_us: round(g.p99),
  baseline_p50_us: round(d.p50),
  baseline_p99_us: round(d.p99),
  added_p50_us: round(g.p50 - d.p50),
  added_p99_us: round(g.p99 - d.p99),
  lost: g.lost,
  baseline_lost: d.lost,
  duplicates,
  malformed: Object.values(parts.malformed).reduce((a, b) => a + b, 0),
  reanchors: Object.values(parts.senders.A.reanchors).reduce((a, b) => a + b, 0),
  note: 'datagram sent -> event at a subscriber (one clock); baseline: a direct publisher in the same child, triggered by a datagram, same run'
})
socket.close()
await node.stop()
await exited
