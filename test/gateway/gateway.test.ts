/**
 * The gateway as a real process (`spikewire gateway udp2020`), legacy programs as real UDP sockets on
 * loopback, spikewire publishers and subscribers as real nodes.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { join } from 'node:path'
import { eventDatagram, readyDatagram } from '../../src/gateway/udp2020/datagram.ts'
import type { Udp2020Stats } from '../../src/gateway/udp2020/gateway.ts'
import { forEachEvent } from '../../src/codec/batch.ts'
import { cli, tempDir, writeJson } from '../cli/helpers.ts'
import type { Cli } from '../cli/helpers.ts'
import { startHosted, startNode, until } from '../helpers/nodes.ts'
import { Legacy, sleep } from './helpers.ts'

const WAIT = 20_000
const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000

async function startGateway (t: ExecutionContext, udp2020: Record<string, unknown>): Promise<{ proc: Cli, addr: string, udp: string }> {
  const dir = await tempDir(t)
  const file = await writeJson(join(dir, 'gw.json'), { node: { name: 'gw', listen: ['/ip4/127.0.0.1/tcp/0'] }, udp2020: { listen: '127.0.0.1:0', ...udp2020 } })
  const proc = cli(t, ['gateway', 'udp2020', '--json', '--stats', '0.2', '--config', file])
  await proc.until(() => proc.json.some(l => l.event === 'started'), WAIT, 'the gateway to start')
  const started = proc.json.find(l => l.event === 'started')!
  return { proc, addr: (started.multiaddrs as string[])[0], udp: started.udp as string }
}

const lastStats = (proc: Cli): Udp2020Stats | undefined =>
  (proc.json.filter(l => l.event === 'stats').at(-1)?.parts as { udp2020?: Udp2020Stats } | undefined)?.udp2020

interface Ev { channel: number, time: number, value: number | undefined }

test('datagrams become events with rebuilt times; malformed ones are counted by reason; a restarting sender is anchored again', async t => {
  const { proc, addr, udp } = await startGateway(t, { senders: [{ code: 'A', port: 'axon', channels: 8 }, { code: 'D', port: 'dendrite', channels: 2 }], reanchorUs: 400_000 })
  const sub = await startNode(t, { name: 'sub' })
  const axon: Ev[] = []
  const dendrite: Ev[] = []
  for (const [port, into] of [['axon', axon], ['dendrite', dendrite]] as const) {
    const s = sub.subscribe(addr, port)
    s.onBatch(d => { forEachEvent(d.batch, (channel, time, value) => { into.push({ channel, time, value }) }) })
    await s.ready()
  }
  const a = await Legacy.open(t, udp)
  const d = await Legacy.open(t, udp)
  const sentAt = nowUs()
  // A: neuron 7 type 1, then 20 ticks (1 ms) later neuron 3 type 2, then 200 ticks (10 ms) later neuron 0 type 0.
  await a.send(eventDatagram('A', 7, 1, 999))
  await sleep(1)
  await a.send(eventDatagram('A', 3, 2, 20))
  await sleep(10)
  await a.send(eventDatagram('A', 0, 0, 200))
  await d.send(eventDatagram('D', 1, 0, 5))
  // Malformed: 7 bytes, 9 bytes, an unknown code, neuron 8 of an 8-channel port, type 3, a delta of 838 s.
  await a.send(new Uint8Array(7))
  await a.send(new Uint8Array(9))
  await a.send(eventDatagram('X', 0, 0, 0))
  await a.send(eventDatagram('A', 8, 0, 0))
  await a.send(eventDatagram('A', 1, 3, 0))
  await a.send(eventDatagram('A', 1, 0, 0xffffff))
  await until(() => axon.length >= 3 && dendrite.length >= 1, WAIT, 'the first events')
  t.deepEqual(axon.map(e => [e.channel, e.value]), [[7, 1], [3, 2], [0, 0]])
  t.is(axon[1].time - axon[0].time, 1000, 'the deltas set the intervals, not the arrivals')
  t.is(axon[2].time - axon[1].time, 10_000)
  t.true(Math.abs(axon[0].time - sentAt) < 1_000_000, 'anchored at the arrival, in the gateway\'s clock')
  t.deepEqual(dendrite.map(e => [e.channel, e.value]), [[1, 0]])

  // The sender restarts: a new process (new source port), its deltas start again.
  a.close()
  await sleep(300)
  const a2 = await Legacy.open(t, udp)
  const restartAt = nowUs()
  await a2.send(eventDatagram('A', 2, 1, 3))
  await a2.send(eventDatagram('A', 2, 1, 40))
  // The same socket, silent for 900 ms, starting its deltas again: the chain lags by 900 ms (> reanchorUs).
  await sleep(900)
  const lagAt = nowUs()
  await a2.send(eventDatagram('A', 4, 1, 2))
  // R, then a datagram: anchored at its arrival whatever the delta.
  await a2.send(readyDatagram())
  await sleep(5)
  const readyAt = nowUs()
  await a2.send(eventDatagram('A', 5, 2, 1000))
  await until(() => axon.length >= 7, WAIT, 'the events after the restarts')
  t.deepEqual(axon.slice(3).map(e => e.channel), [2, 2, 4, 5])
  t.true(axon[3].time - axon[2].time >= 300_000 - 50_000, 'the new process is anchored at its arrival')
  t.true(Math.abs(axon[3].time - restartAt) < 1_000_000)
  t.is(axon[4].time - axon[3].time, 2000)
  t.true(axon[5].time - axon[4].time >= 800_000, `the lagging chain is anchored again (${axon[5].time - axon[4].time} µs)`)
  t.true(Math.abs(axon[5].time - lagAt) < 1_000_000)
  t.true(axon[6].time - axon[5].time < 50_000 + (nowUs() - lagAt), 'R: not 1000 ticks ahead')
  t.true(Math.abs(axon[6].time - readyAt) < 1_000_000)
  for (let i = 1; i < axon.length; i++) t.true(axon[i].time >= axon[i - 1].time)

  await proc.until(() => (lastStats(proc)?.datagrams ?? 0) >= 15, WAIT, 'stats with every datagram')
  const s = lastStats(proc)!
  t.deepEqual(s.malformed, { 'wrong-length': 2, 'unknown-sender': 1, 'neuron-out-of-range': 1, 'delta-overflow': 1, 'unknown-event-type': 1 })
  t.is(s.datagrams, 15)
  t.is(s.events, 8)
  t.is(s.ready, 1)
  t.deepEqual(s.registered, [a2.address])
  t.deepEqual(s.senders.A.reanchors, { ready: 1, source: 1, lag: 1, ahead: 0 })
  t.is(s.senders.A.events, 7)
  t.is(s.senders.A.refused, 0)
  t.is(s.senders.D.events, 1)
  const malformedLines = proc.json.filter(l => l.event === 'malformed')
  t.deepEqual(malformedLines.map(l => l.reason).sort(), ['delta-overflow', 'neuron-out-of-range', 'unknown-event-type', 'unknown-sender', 'wrong-length', 'wrong-length'])
  t.deepEqual(proc.json.filter(l => l.event === 'reanchor').map(l => l.reason), ['source', 'lag', 'ready'])
  t.true(proc.json.some(l => l.event === 'registered' && l.address === a2.address))
  // The node's statistics carry the same counts, and the gateway is still serving.
  t.is(sub.stats().subscriptions.reduce((n, x) => n + x.stats.gapEvents + x.stats.lostEvents, 0), 0)
  proc.kill('SIGTERM')
  t.is((await proc.exit(WAIT)).code, 0, proc.stderr)
  const final = proc.json.filter(l => l.event === 'stats' && l.final === true).at(-1)
  t.deepEqual((final?.parts as { udp2020: Udp2020Stats }).udp2020.malformed, s.malformed)
})

test('events of a subscription go out as S datagrams to configured and R-registered addresses, weights clipped', async t => {
  const pub = await startHosted(t, { name: 'pub', ports: [{ name: 'weights', direction: 'out', kind: 'weighted', channels: 4 }, { name: 'spikes', direction: 'out', channels: 2 }] })
  const fixed = await Legacy.open(t, '127.0.0.1:9')
  const { proc, udp } = await startGateway(t, {
    senders: [{ code: 'A', port: 'axon', channels: 1 }],
    replies: [
      { from: pub.node.multiaddrs[0], port: 'weights', to: [fixed.address] },
      { from: pub.node.multiaddrs[0], port: 'spikes', registered: true, spikeWeight: 7 }
    ]
  })
  const hub = await Legacy.open(t, udp)
  await hub.send(readyDatagram())
  await proc.until(() => proc.json.some(l => l.event === 'registered'), WAIT, 'the R to register')
  await until(() => pub.node.outPort('weights').senders.size === 1 && pub.node.outPort('spikes').senders.size === 1, WAIT, 'the gateway to subscribe')
  const w = pub.node.outPort('weights')
  const s = pub.node.outPort('spikes')
  const t0 = Math.round(pub.node.clock.nowUs())
  const values = [0, 100.4, 255, 300, -5]
  values.forEach((v, i) => { w.emit(i % 4, t0 + i * 1000, v) })
  w.flush()
  s.emit(1, t0 + 500)
  s.flush()
  await until(() => fixed.received.length >= 5 && hub.received.length >= 6, WAIT, 'the S datagrams')
  await sleep(200)
  t.is(fixed.received.length, 5, 'the spike port is not sent to the fixed address (not configured there)')
  t.true(fixed.received.every(d => d.code === 83))
  t.deepEqual(fixed.received.map(d => [d.neuron, d.high]), [[0, 0], [1, 100], [2, 255], [3, 255], [0, 0]])
  const ticks = fixed.received.map(d => d.ticks)
  for (let i = 1; i < ticks.length; i++) t.true(Math.abs(ticks[i] - ticks[0] - i * 20) <= 1, `1 ms = 20 ticks (${ticks.join(',')})`)
  const sorted = [...hub.received].sort((x, y) => x.ticks - y.ticks)
  t.deepEqual(sorted.map(d => [d.neuron, d.high]).filter(([n, h]) => n === 1 && h === 7), [[1, 7]], 'a spike event carries spikeWeight')
  t.is(hub.received.length, 6)
  await proc.until(() => (lastStats(proc)?.replies[0]?.events ?? 0) >= 5 && (lastStats(proc)?.replies[1]?.events ?? 0) >= 1, WAIT, 'reply stats')
  const st = lastStats(proc)!
  t.like(st.replies[0], { events: 5, datagrams: 10, clipped: 2, noDestination: 0, dropped: 0, sendErrors: 0, state: 'open' })
  t.like(st.replies[1], { events: 1, datagrams: 1, clipped: 0 })
})

test('a reply with no destination yet counts its events instead of dropping them silently', async t => {
  const pub = await startHosted(t, { name: 'pub', ports: [{ name: 'weights', direction: 'out', kind: 'weighted', channels: 1 }] })
  const { proc } = await startGateway(t, { senders: [{ code: 'D', port: 'dendrite', channels: 1 }], replies: [{ from: pub.node.multiaddrs[0], port: 'weights' }] })
  await until(() => pub.node.outPort('weights').senders.size === 1, WAIT, 'the gateway to subscribe')
  const w = pub.node.outPort('weights')
  w.emit(0, Math.round(pub.node.clock.nowUs()), 1)
  w.flush()
  await proc.until(() => (lastStats(proc)?.replies[0]?.noDestination ?? 0) === 1, WAIT, 'the count')
  t.is(lastStats(proc)!.replies[0].datagrams, 0)
})
