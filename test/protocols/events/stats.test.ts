import test from 'ava'
import { nowUs, startNode, until } from '../../helpers/nodes.ts'

// Event counts are kept once, by each stream's sender or receiver; a subscription and a push link sum
// them over their streams. These tests check the sums while a stream is live and across a reconnect.

test('a subscription counts the events of its live stream and of the streams before a reconnect', async t => {
  const pub = await startNode(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 4 }] })
  const sub = await startNode(t, { name: 'sub' })
  const s = sub.subscribe(pub.multiaddrs[0], 'spikes', { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } })
  let got = 0
  s.onBatch(d => { got += d.batch.count })
  await s.ready()
  const port = pub.outPort('spikes')
  const t0 = nowUs(pub)
  for (let k = 0; k < 10; k++) port.emit(k % 4, t0 + k)
  await until(() => got === 10, 20_000, 'first 10 events')
  t.is(s.stats.events, 10, 'counted while the stream is live')
  t.is(s.stats.connects, 1)
  // Drop the connection under the subscription: it reconnects and resubscribes.
  await sub.libp2p.hangUp(pub.libp2p.peerId)
  await until(() => s.stats.connects === 2 && s.state === 'open', 20_000, 'reconnected')
  const t1 = nowUs(pub)
  for (let k = 0; k < 10; k++) port.emit(k % 4, t1 + k)
  await until(() => got === 20, 20_000, 'next 10 events')
  t.is(s.stats.events, 20, 'the ended stream and the live one')
  t.true(s.stats.batches >= 2)
  await s.close()
  t.is(s.stats.events, 20, 'the counts stay after close')
})

test('a push link counts the events of its live stream, and the in port counts what its receivers got', async t => {
  const rx = await startNode(t, { name: 'rx', ports: [{ name: 'in', direction: 'in', channels: 2, push: '*' }] })
  const tx = await startNode(t, { name: 'tx', ports: [{ name: 'out', direction: 'out', channels: 2 }] })
  let got = 0
  rx.inPort('in').onBatch(d => { got += d.batch.count })
  const link = tx.push('out', rx.multiaddrs[0], 'in')
  await link.ready()
  const t0 = nowUs(tx)
  for (let k = 0; k < 7; k++) tx.outPort('out').emit(k % 2, t0 + k)
  await until(() => got === 7, 20_000, 'pushed events')
  t.is(link.stats.events, 7, 'counted while the stream is live')
  t.is(link.stats.connects, 1)
  t.is(rx.stats().inPorts.in.events, 7)
  await link.close()
  t.is(link.stats.events, 7, 'the counts stay after close')
})
