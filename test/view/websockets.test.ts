/**
 * WebSockets beside TCP (spec §4.1): a node listens on a TCP and a `/ws` address at once, and a Node-side
 * client subscribes over `/ws` and over TCP to the same out port, with clock sync and describe over `/ws`.
 */
import test from 'ava'
import { startNode, until } from '../helpers/nodes.ts'

test('a node listens on TCP and WebSockets; a client describes, syncs its clock and subscribes over /ws', async t => {
  const pub = await startNode(t, {
    name: 'ws-pub',
    listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'],
    ports: [{ name: 'spikes', direction: 'out', channels: 8 }]
  })
  const addrs = pub.libp2p.getMultiaddrs().map(a => a.toString())
  const ws = addrs.find(a => /\/tcp\/\d+\/ws\/p2p\//.test(a))
  const tcp = addrs.find(a => /\/tcp\/\d+\/p2p\//.test(a))
  t.truthy(ws, addrs.join(' '))
  t.truthy(tcp, addrs.join(' '))
  const client = await startNode(t, { name: 'ws-client', listen: [] })
  const d = await client.describe(ws!)
  t.is(d.name, 'ws-pub')
  t.is(d.peer, pub.peerId)
  const overWs = client.subscribe(ws!, 'spikes', { reconnect: false })
  const other = await startNode(t, { name: 'tcp-client', listen: [] })
  const overTcp = other.subscribe(tcp!, 'spikes', { reconnect: false })
  await Promise.all([overWs.ready(), overTcp.ready()])
  const conns = client.libp2p.getConnections(pub.libp2p.peerId)
  t.true(conns.length > 0 && conns.every(c => c.remoteAddr.toString().includes('/ws')), conns.map(c => c.remoteAddr.toString()).join(' '))
  const port = pub.outPort('spikes')!
  const t0 = Math.round(pub.clock.nowUs())
  for (let i = 0; i < 1000; i++) port.emit(i % 8, t0 + i)
  await until(() => overWs.stats.events === 1000 && overTcp.stats.events === 1000, 20_000, '1000 events over both transports')
  t.is(overWs.stats.gapEvents, 0)
  t.is(overWs.stats.lostEvents, 0)
  await until(() => client.timeOf(pub.peerId).estimated, 20_000, 'a clock estimate over /ws')
  const est = client.timeOf(pub.peerId).estimate()!
  t.true(Number.isFinite(est.uncertaintyUs), JSON.stringify(est))
  await overWs.close()
  await overTcp.close()
})

test('a node refuses to listen on WebSockets without TCP (spec §4.1.1)', async t => {
  const err = await t.throwsAsync(startNode(t, { name: 'ws-only', listen: ['/ip4/127.0.0.1/tcp/0/ws'] }))
  t.is((err as Error & { code?: string }).code, 'config-invalid')
  t.regex(err!.message, /no TCP address/)
})
