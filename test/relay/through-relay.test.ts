/**
 * Nodes that reach each other only through a relay (the publisher listens nowhere, its direct address
 * refuses connections): reservation, advertised /p2p-circuit addresses, subscribe, push, describe and clock
 * sync through the relay with zero loss; the fallback from a failed direct dial to each configured relay.
 */
import test from 'ava'
import { createServer } from 'node:net'
import type { Socket } from 'node:net'
import { nowUs, startNode, until } from '../helpers/nodes.ts'
import { DialFailedError } from '../../src/wire/relay-dial.ts'
import { deadAddr, newKey, relayAddr, startRelay } from './helpers.ts'

test('a node with relays reserves a slot and advertises its /p2p-circuit address', async t => {
  const relay = await startRelay(t)
  const node = await startNode(t, { name: 'lab', listen: [], relays: [relayAddr(relay)] })
  await node.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  const circuit = node.multiaddrs.filter(a => a.includes('/p2p-circuit'))
  t.true(circuit.length > 0, `advertised ${node.multiaddrs.join(', ')}`)
  t.true(circuit.every(a => a.startsWith(relayAddr(relay) + '/p2p-circuit') && a.endsWith(`/p2p/${node.peerId}`)), circuit.join(', '))
  const s = node.stats().relays!
  t.is(s.length, 1)
  t.is(s[0].state, 'reserved')
  t.is(s[0].reservations, 1)
  await until(() => relay.stats().reservations.held === 1, 20_000, 'the relay counts the reservation')
  t.is(relay.stats().reservations.made, 1)
  t.deepEqual(relay.listed().map(e => e.peer), [node.peerId])
})

test('subscribe, push, describe and clock sync through the relay, with zero loss, after a failed direct dial', async t => {
  const relay = await startRelay(t)
  const pub = await startNode(t, {
    name: 'pub',
    listen: [],
    relays: [relayAddr(relay)],
    ports: [{ name: 'spikes', direction: 'out', channels: 8 }, { name: 'stim', direction: 'in', channels: 4, push: '*' }]
  })
  await pub.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  const sub = await startNode(t, { name: 'sub', listen: [], relays: [relayAddr(relay)], ports: [{ name: 'out', direction: 'out', channels: 4 }] })
  // The publisher's direct address refuses connections: the subscriber falls back to its relay.
  const target = deadAddr(pub.peerId)
  const s = sub.subscribe(target, 'spikes')
  let got = 0
  s.onBatch(d => { got += d.batch.count })
  await s.ready()
  const conns = sub.libp2p.getConnections(pub.libp2p.peerId)
  t.true(conns.length > 0 && conns.every(c => c.remoteAddr.toString().includes('/p2p-circuit')), conns.map(c => c.remoteAddr.toString()).join(', '))
  t.true(conns.every(c => c.limits === undefined), 'the relay applies no limits to a peer it allows')
  const N = 5000
  const port = pub.outPort('spikes')
  const t0 = nowUs(pub)
  for (let k = 0; k < N; k++) port.emit(k % 8, t0 + k)
  await until(() => got === N, 20_000, `${N} events through the relay`)
  t.is(s.stats.gapEvents, 0)
  t.is(s.stats.lostEvents, 0)

  // Push into the publisher's in port, addressed by its relayed address.
  let pushed = 0
  pub.inPort('stim').onBatch(d => { pushed += d.batch.count })
  const link = sub.push('out', `${relayAddr(relay)}/p2p-circuit/p2p/${pub.peerId}`, 'stim')
  await link.ready()
  const t1 = nowUs(sub)
  for (let k = 0; k < 500; k++) sub.outPort('out').emit(k % 4, t1 + k)
  await until(() => pushed === 500, 20_000, 'pushed events')
  t.is(pub.stats().inPorts.stim.gapEvents, 0)
  t.is(pub.stats().inPorts.stim.lostEvents, 0)

  // Describe by the dead address (fallback) and by PeerId (no address known but the relay's).
  const d1 = await sub.describe(target)
  t.is(d1.name, 'pub')
  t.is(d1.peer, pub.peerId)
  const d2 = await sub.describe(pub.peerId)
  t.deepEqual(d2.ports.map(p => p.name).sort(), ['spikes', 'stim'])

  // Clock sync runs over the relayed connection (the subscription started it).
  const clock = sub.clockFor(target)
  await until(() => clock.estimate()?.converged === true, 20_000, 'a converged clock estimate through the relay')
  const e = clock.estimate()!
  t.true(Number.isFinite(e.uncertaintyUs) && e.uncertaintyUs > 0)
  // Same machine, same clock: the true offset is 0, and the estimate's uncertainty must cover it.
  t.true(Math.abs(e.offsetUs) <= e.uncertaintyUs, `offset ${e.offsetUs} µs, uncertainty ${e.uncertaintyUs} µs`)
  t.true(relay.stats().relayed.total >= 1)
  t.true(relay.stats().relayed.bytesToReserved > 0 && relay.stats().relayed.bytesFromReserved > 0, JSON.stringify(relay.stats().relayed))
})

test('a direct dial that fails falls back to each configured relay in turn', async t => {
  const dead = await newKey()
  const down = `/ip4/127.0.0.1/tcp/1/p2p/${dead.id}` // a "relay" that is not there
  const relay = await startRelay(t)
  const pub = await startNode(t, { name: 'pub', listen: [], relays: [relayAddr(relay)], ports: [{ name: 'spikes', direction: 'out', channels: 1 }] })
  await pub.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  const sub = await startNode(t, { name: 'sub', listen: [], relays: [down, relayAddr(relay)] })
  const d = await sub.describe(deadAddr(pub.peerId))
  t.is(d.name, 'pub')
  // The node with a relay that is down keeps trying it, and counts the failures.
  await until(() => (sub.stats().relays?.[0].failures ?? 0) > 0, 20_000, 'a failure on the relay that is down')
  t.is(sub.stats().relays?.[0].state, 'retrying')
  // With no relay that can reach it, the dial fails with every attempt named.
  const lonely = await newKey()
  const err = await t.throwsAsync(sub.describe(deadAddr(lonely.id), { signal: AbortSignal.timeout(20_000) }))
  t.truthy(err)
  t.true(err instanceof DialFailedError, String(err))
  // dialPeer: the direct dial, then each relay in the order configured.
  const failed = err as DialFailedError
  const attempts = ['directly', `through relay ${down}`, `through relay ${relayAddr(relay)}`]
  t.is(failed.errors.length, attempts.length, failed.message)
  failed.errors.forEach((e, i) => { t.true(e.message.startsWith(`${attempts[i]}: `), e.message) })
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  t.regex(failed.message, new RegExp(`^cannot reach ${lonely.id}: ${attempts.map(a => `${esc(a)}: .+`).join('; ')}$`, 's'))
})

test('a direct address that accepts and then never answers (as a black hole) is given up for the relay', async t => {
  // A TCP server that accepts and says nothing: the direct dial hangs in its handshake.
  const held: Socket[] = []
  const silent = createServer(sock => { held.push(sock) })
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { for (const s of held) s.destroy(); silent.close() })
  const port = (silent.address() as { port: number }).port
  const relay = await startRelay(t)
  const pub = await startNode(t, { name: 'pub', listen: [], relays: [relayAddr(relay)] })
  await pub.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  const sub = await startNode(t, { name: 'sub', listen: [], relays: [relayAddr(relay)] })
  const started = Date.now()
  const d = await sub.describe(`/ip4/127.0.0.1/tcp/${port}/p2p/${pub.peerId}`, { signal: AbortSignal.timeout(20_000) })
  t.is(d.name, 'pub')
  t.true(held.length >= 1, 'the direct dial reached the silent server')
  t.log(`described through the relay after ${Date.now() - started} ms`)
  t.true(sub.libp2p.getConnections(pub.libp2p.peerId).every(c => c.remoteAddr.toString().includes('/p2p-circuit')))
})
