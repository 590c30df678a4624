/**
 * Gateway latency added (issue 13), both paths, each against a baseline measured in the same run, and the
 * events lost (must be 0). The gateway and both baselines run in one child process
 * (bench/gateway-udp2020-peer.ts); this process is the legacy program and the spikewire peer alike, so the
 * send and the receive time of every event are read on one clock. Within each path the gateway and its
 * baseline alternate event by event, paced (half an interval apart), so both see the same load.
 *
 * 1. Datagram → spikewire (`bench: "gateway-udp2020"`): this process sends `A` datagrams to the gateway
 *    and subscribes to its `axon` port; latency = datagram sent → its event at the subscriber. Baseline: a
 *    direct spikewire publisher in the child (port `direct`), triggered by a datagram on a socket of its
 *    own, emitting at once with no decoding: the same hops without the gateway's work.
 * 2. Spikewire → datagram (`bench: "gateway-udp2020-reverse"`): this process publishes the out port
 *    `weights`, which the gateway holds a reply subscription to (config `replies`), registers its reply
 *    socket with an `R` datagram, and receives the `S` datagrams there; latency = the publisher's emit →
 *    the `S` datagram's arrival. Baseline: a plain subscription of the same child node to this process's
 *    port `plain` that sends each event as a datagram to the same reply socket itself, from a socket of
 *    its own, with no clock mapping, clipping, destination list or counting. Of the baselines considered
 *    this is the fairest: the same two hops (libp2p over TCP into the child, UDP back) in the same
 *    processes, so the difference is the gateway's own work. (A plain spikewire subscriber in this
 *    process would skip the UDP hop and the child; a publisher sending the datagram itself would skip
 *    spikewire altogether.)
 *
 * Every event names itself: neuron id (channel) = its index within its path; the event type (forward)
 * is index mod 3 and the weight (reverse) index mod 256, and a datagram or event that does not carry
 * the expected one is counted `wrong`. An event that never arrives is `lost`; one that arrives twice a
 * duplicate.
 *
 *   node bench/gateway-udp2020.ts [--events N] [--rate HZ] [--json]    (npm run bench:gateway)
 */
import { spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { forEachEvent } from '../src/codec/batch.ts'
import { CODE, decodeDatagram, eventDatagram, readyDatagram, TICK_US } from '../src/gateway/udp2020/datagram.ts'
import { createSpikewireNode } from '../src/node/node.ts'
import { printer, quantile, round, sleep } from './report.ts'

const { values } = parseArgs({ options: { events: { type: 'string' }, rate: { type: 'string' }, json: { type: 'boolean' } } })
const N = Math.min(Number(values.events ?? 2000), 65_536)
const RATE = Number(values.rate ?? 200)
const print = printer(values.json === true)
const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000
const bind = async (s: ReturnType<typeof createSocket>): Promise<void> => { await new Promise<void>(resolve => { s.bind(0, '127.0.0.1', () => { resolve() }) }) }
const hostPort = (a: string): [string, number] => [a.slice(0, a.lastIndexOf(':')), Number(a.slice(a.lastIndexOf(':') + 1))]

// This process's node: the subscriber of the forward path, the publisher of the reverse one.
const node = await createSpikewireNode({ name: 'bench-sub', listen: ['/ip4/127.0.0.1/tcp/0'] })
const weights = node.addOutPort({ name: 'weights', channels: 65_536, kind: 'weighted' })
const plain = node.addOutPort({ name: 'plain', channels: 65_536, kind: 'weighted' })
const socket = createSocket('udp4')
const replySocket = createSocket('udp4')
await bind(socket)
await bind(replySocket)

const child = spawn(process.execPath, [new URL('./gateway-udp2020-peer.ts', import.meta.url).pathname,
  '--from', node.multiaddrs[0], '--reply', `127.0.0.1:${replySocket.address().port}`], { stdio: ['ignore', 'pipe', 'inherit'] })
const exited = once(child, 'exit')
process.once('exit', () => { child.kill('SIGKILL') }) // if this process fails half-way, the child goes with it
// The child's lines, kept until asked for (one may come while this process waits for something else).
const messages: Array<Record<string, unknown>> = []
createInterface({ input: child.stdout! }).on('line', line => { messages.push(JSON.parse(line) as Record<string, unknown>) })
async function message<T> (key: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const i = messages.findIndex(m => key in m)
    if (i >= 0) return messages.splice(i, 1)[0] as T
    if (Date.now() > end) throw new Error(`the gateway child sent no "${key}" line within ${ms} ms`)
    await sleep(10)
  }
}
const peer = await message<{ gateway: string, trigger: string, addr: string }>('gateway')
const [gwHost, gwPort] = hostPort(peer.gateway)
const [trHost, trPort] = hostPort(peer.trigger)
const intervalUs = 1e6 / RATE
const PATHS = ['gateway', 'direct'] as const
type Path = typeof PATHS[number]

/** What the child's statistics say of the gateway (node.stats().parts.udp2020), the part read here. */
interface Udp2020Part {
  malformed: Record<string, number>
  senders: { A: { reanchors: Record<string, number> } }
  replies: Array<{ events: number, datagrams: number, clipped: number, channelOutOfRange: number, noDestination: number, dropped: number, sendErrors: number }>
}
interface Run { sent: Record<Path, Float64Array>, got: Record<Path, Float64Array>, duplicates: number, wrong: number }
const newRun = (): Run => ({
  sent: { gateway: new Float64Array(N), direct: new Float64Array(N) },
  got: { gateway: new Float64Array(N).fill(NaN), direct: new Float64Array(N).fill(NaN) },
  duplicates: 0,
  wrong: 0
})
function arrived (r: Run, path: Path, i: number, ok: boolean, at: number): void {
  if (i >= N) return
  if (!ok) {
    r.wrong++
    return
  }
  if (!Number.isNaN(r.got[path][i])) r.duplicates++
  r.got[path][i] = at
}
/** Send event i of each path at its due time (the baseline half an interval after the gateway), paced by timers. */
async function paced (r: Run, send: (path: Path, i: number) => void): Promise<void> {
  const startUs = nowUs()
  for (let i = 0; i < N; i++) {
    for (const path of PATHS) {
      const due = startUs + (2 * i + (path === 'direct' ? 1 : 0)) * intervalUs / 2
      // Timers only: this process also receives, so it must never spin.
      while (nowUs() < due) await sleep(Math.max(0, (due - nowUs()) / 1000 - 0.5))
      r.sent[path][i] = nowUs()
      send(path, i)
    }
  }
  const end = Date.now() + 10_000
  while (Date.now() < end && (r.got.gateway.some(Number.isNaN) || r.got.direct.some(Number.isNaN))) await sleep(20)
}
function summary (r: Run, path: Path): { p50: number, p99: number, lost: number } {
  const lat = [...r.got[path]].map((g, i) => g - r.sent[path][i]).filter(x => !Number.isNaN(x)).sort((a, b) => a - b)
  return { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), lost: N - lat.length }
}
const figures = (r: Run): Record<string, number> => {
  const g = summary(r, 'gateway')
  const d = summary(r, 'direct')
  return {
    latency_p50_us: round(g.p50),
    latency_p99_us: round(g.p99),
    baseline_p50_us: round(d.p50),
    baseline_p99_us: round(d.p99),
    added_p50_us: round(g.p50 - d.p50),
    added_p99_us: round(g.p99 - d.p99),
    lost: g.lost,
    baseline_lost: d.lost,
    duplicates: r.duplicates,
    wrong: r.wrong
  }
}

// Both paths' subscriptions open before anything is sent: this process's to `axon` and `direct`, the
// child's to `weights` (the gateway's reply subscription) and `plain`; then the reply socket registers.
const forward = newRun()
for (const [port, path] of [['axon', 'gateway'], ['direct', 'direct']] as const) {
  const sub = node.subscribe(peer.addr, port)
  sub.onBatch(d => {
    const at = nowUs()
    forEachEvent(d.batch, (channel, _time, value) => { arrived(forward, path, channel, value === channel % 3, at) })
  })
  await sub.ready()
}
const reverse = newRun()
let strays = 0
replySocket.on('message', (msg, rinfo) => {
  const at = nowUs()
  const path = rinfo.port === gwPort ? 'gateway' : rinfo.port === trPort ? 'direct' : undefined
  const d = decodeDatagram(msg)
  if (path === undefined || d === undefined) {
    strays++
    return
  }
  arrived(reverse, path, d.neuron, d.code === CODE.hub && d.high === d.neuron % 256, at)
})
replySocket.send(readyDatagram(), gwPort, gwHost)
await message('registered')
const subscribedBy = Date.now() + 20_000
while (Date.now() < subscribedBy && (weights.senders.size === 0 || plain.senders.size === 0)) await sleep(20)
if (weights.senders.size === 0 || plain.senders.size === 0) throw new Error('the child did not subscribe to weights and plain within 20 s')
await sleep(500)

// 1. Datagram → spikewire. Neuron id = index; event type = index mod 3; the gateway's datagrams carry
// the real time since the previous one in ticks, the trigger's none (it does not read it).
let last = nowUs()
await paced(forward, (path, i) => {
  if (path === 'gateway') {
    const t = nowUs()
    socket.send(eventDatagram('A', i, i % 3, Math.round((t - last) / TICK_US)), gwPort, gwHost)
    last = t
  } else {
    socket.send(eventDatagram('A', i, i % 3, 0), trPort, trHost)
  }
})
// 2. Spikewire → datagram. Channel = index; value = index mod 256 (the weight byte, not clipped).
await paced(reverse, (path, i) => {
  (path === 'gateway' ? weights : plain).emit(i, Math.round(node.clock.nowUs()), i % 256)
})

child.kill('SIGTERM')
const final = await message<{ stats: { udp2020: Udp2020Part }, direct: { events: number, sendErrors: number } }>('stats')
const parts = final.stats.udp2020
const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0)
print({
  bench: 'gateway-udp2020',
  events: N,
  rate_hz: RATE,
  ...figures(forward),
  malformed: sum(parts.malformed),
  reanchors: sum(parts.senders.A.reanchors),
  note: 'datagram sent -> event at a subscriber (one clock); baseline: a direct publisher in the same child, triggered by a datagram, same run'
})
const rep = parts.replies[0]
print({
  bench: 'gateway-udp2020-reverse',
  events: N,
  rate_hz: RATE,
  ...figures(reverse),
  strays,
  reply_events: rep.events,
  reply_datagrams: rep.datagrams,
  not_sent: rep.channelOutOfRange + rep.noDestination + rep.dropped + rep.sendErrors,
  clipped: rep.clipped,
  baseline_send_errors: final.direct.sendErrors,
  note: 'publisher emit -> S datagram at the registered address (one clock); baseline: a plain subscription in the same child sending each event as a datagram itself, same run'
})
socket.close()
replySocket.close()
await node.stop()
await exited
