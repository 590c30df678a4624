import test from 'ava'
import { startNode, until, nowUs } from '../helpers/nodes.ts'
import type { Delivery } from '../../src/wire/inbox.ts'

test('a subscriber receives every event with exact channels and times, in order', async t => {
  const pub = await startNode(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 64 }] })
  const sub = await startNode(t, { name: 'sub' })
  const s = sub.subscribe(pub.multiaddrs[0], 'spikes')
  const got: Array<[number, number]> = []
  const peers = new Set<string>()
  s.onBatch((d: Delivery) => {
    peers.add(`${d.peer}/${d.port}`)
    for (let i = 0; i < d.batch.count; i++) got.push([d.batch.channels[i], d.batch.times[i]])
  })
  await s.ready()
  const port = pub.outPort('spikes')
  const sent: Array<[number, number]> = []
  const t0 = nowUs(pub)
  for (let k = 0; k < 5000; k++) {
    const ev: [number, number] = [(k * 7) % 64, t0 + k * 10]
    sent.push(ev)
    t.true(port.emit(ev[0], ev[1]))
    if (k % 500 === 0) await new Promise(resolve => setImmediate(resolve))
  }
  await until(() => got.length === sent.length, 20_000, 'all events')
  t.deepEqual(got, sent)
  t.deepEqual([...peers], [`${pub.peerId}/spikes`])
  t.is(s.stats.gapEvents, 0)
  t.is(s.stats.lostEvents, 0)
  await s.close()
  t.is(s.state, 'closed')
})

test('an idle port sends watermarks that advance', async t => {
  const pub = await startNode(t, { name: 'pub', watermarkIntervalMs: 20, ports: [{ name: 'spikes', direction: 'out', channels: 1 }] })
  const sub = await startNode(t, { name: 'sub' })
  const s = sub.subscribe(pub.multiaddrs[0], 'spikes')
  const marks: number[] = []
  s.addEventListener('watermark', e => { marks.push(e.detail.time) })
  await s.ready()
  await until(() => marks.length >= 4, 20_000, 'watermarks')
  for (let i = 1; i < marks.length; i++) t.true(marks[i] > marks[i - 1])
  t.true(Math.abs(marks[marks.length - 1] - nowUs(pub)) < 200_000)
})

test('describe returns the remote node description', async t => {
  const a = await startNode(t, {
    name: 'padova',
    role: 'culture',
    ports: [
      { name: 'spikes', direction: 'out', channels: 60, model: { name: 'culture-emulator', params: [['rate', 1, 'Hz']] } },
      { name: 'stim', direction: 'in', kind: 'weighted', channels: 60 }
    ]
  })
  const b = await startNode(t, { name: 'b' })
  const d = await b.describe(a.multiaddrs[0])
  t.is(d.name, 'padova')
  t.is(d.role, 'culture')
  t.is(d.peer, a.peerId)
  t.deepEqual(d.ports.map(p => [p.name, p.direction, p.kind, p.channels]), [['spikes', 'out', 'spike', 60], ['stim', 'in', 'weighted', 60]])
  t.deepEqual(d.ports[0].model, { name: 'culture-emulator', params: [['rate', 1, 'Hz']] })
})

test('push into an in port delivers weighted events with their source', async t => {
  const rx = await startNode(t, { name: 'rx' })
  const tx = await startNode(t, { name: 'tx', ports: [{ name: 'drive', direction: 'out', kind: 'weighted', channels: 4 }] })
  rx.addInPort({ name: 'stim', kind: 'weighted', channels: 4, push: [tx.peerId] })
  const got: Array<[string, string, number, number, number]> = []
  rx.inPort('stim').onBatch(d => {
    for (let i = 0; i < d.batch.count; i++) got.push([d.peer, d.port, d.batch.channels[i], d.batch.times[i], d.batch.values![i]])
  })
  const link = tx.push('drive', rx.multiaddrs[0], 'stim')
  await link.ready()
  const t0 = nowUs(tx)
  tx.outPort('drive').emit(3, t0, 0.5)
  tx.outPort('drive').emit(1, t0 + 5, 128)
  await until(() => got.length === 2)
  t.deepEqual(got, [[tx.peerId, 'drive', 3, t0, 0.5], [tx.peerId, 'drive', 1, t0 + 5, 128]])
})

test('emitColumns sends columns in bulk, and refuses exactly the bad events when any is bad', async t => {
  const pub = await startNode(t, { name: 'pub', ports: [{ name: 'w', direction: 'out', kind: 'weighted', channels: 8 }] })
  const sub = await startNode(t, { name: 'sub' })
  const s = sub.subscribe(pub.multiaddrs[0], 'w')
  const got: number[][] = []
  s.onBatch(d => { for (let i = 0; i < d.batch.count; i++) got.push([d.batch.channels[i], d.batch.times[i], d.batch.values![i]]) })
  await s.ready()
  const port = pub.outPort('w')
  const t0 = nowUs(pub)
  t.is(port.emitColumns(Uint32Array.of(1, 2, 3), Float64Array.of(t0, t0 + 1, t0 + 2), Float32Array.of(0.5, 1.5, 2.5), 3), 3)
  // Channel 9 does not exist and t0 + 1 goes back in time: those two are refused, the rest pass.
  t.is(port.emitColumns(Uint32Array.of(4, 9, 5, 6), Float64Array.of(t0 + 3, t0 + 4, t0 + 1, t0 + 5), Float32Array.of(1, 1, 1, 1), 4), 2)
  t.is(port.stats.refused, 2)
  await until(() => got.length === 5)
  t.deepEqual(got, [[1, t0, 0.5], [2, t0 + 1, 1.5], [3, t0 + 2, 2.5], [4, t0 + 3, 1], [6, t0 + 5, 1]])
})
