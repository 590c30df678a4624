/**
 * The relay's rules over real nodes on loopback: who may reserve and who may connect (refused with a clear
 * error and counted), no limits for the allowed peers (a relayed stream carries far more than 128 KiB and
 * outlives the configured duration limit), limits for the others, and a node that reserves again after
 * the relay restarts.
 */
import test from 'ava'
import { nowUs, startNode, until } from '../helpers/nodes.ts'
import { createRelay } from '../../src/relay/relay.ts'
import { newKey, relayAddr, startRelay } from './helpers.ts'

test('only the peers of reservations may reserve; a refused node says why and the relay counts it', async t => {
  const a = await newKey()
  const b = await newKey()
  const relay = await startRelay(t, { reservations: [a.id] })
  const na = await startNode(t, { name: 'a', listen: [], relays: [relayAddr(relay)] }, { privateKey: a.key })
  const nb = await startNode(t, { name: 'b', listen: [], relays: [relayAddr(relay)] }, { privateKey: b.key })
  await na.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  await until(() => (nb.relays[0].failures) > 0, 20_000, 'the refused reservation')
  const s = nb.relays[0]
  t.is(s.state, 'retrying')
  t.regex(s.lastError ?? '', /may not reserve/)
  t.regex(s.lastError ?? '', /PERMISSION_DENIED/)
  t.false(nb.multiaddrs.some(m => m.includes('/p2p-circuit')))
  t.true(relay.stats().refusals.reservationNotAllowed >= 1)
  t.is(relay.stats().reservations.held, 1)
  t.deepEqual(relay.listed().map(e => e.peer), [a.id])
})

test('only the peers of connect may open relayed connections; the others are refused and counted', async t => {
  const a = await newKey()
  const c = await newKey()
  const relay = await startRelay(t, { reservations: '*', connect: [a.id] })
  const pub = await startNode(t, { name: 'pub', listen: [], relays: [relayAddr(relay)] })
  await pub.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  const target = `${relayAddr(relay)}/p2p-circuit/p2p/${pub.peerId}`
  const allowed = await startNode(t, { name: 'a', listen: [] }, { privateKey: a.key })
  t.is((await allowed.describe(target)).name, 'pub')
  const other = await startNode(t, { name: 'c', listen: [] }, { privateKey: c.key })
  await t.throwsAsync(other.describe(target, { signal: AbortSignal.timeout(20_000) }))
  t.true(relay.stats().refusals.connectNotAllowed >= 1)
  // A peer with no reservation cannot be reached through the relay.
  const lonely = await newKey()
  await t.throwsAsync(allowed.describe(`${relayAddr(relay)}/p2p-circuit/p2p/${lonely.id}`, { signal: AbortSignal.timeout(20_000) }))
  t.true(relay.stats().refusals.noReservation >= 1)
})

test('a relayed stream to an unlimited peer carries far more than 128 KiB and outlives the duration limit; others are cut', async t => {
  const fast = await newKey()
  // 1.5 s stands in for libp2p's 2 minutes: the same limit, configured shorter.
  const relay = await startRelay(t, { reservations: '*', unlimited: [fast.id], limits: { durationMs: 1500, dataBytes: 0 } })
  const ports = [{ name: 'spikes', direction: 'out' as const, channels: 64 }]
  const free = await startNode(t, { name: 'free', listen: [], relays: [relayAddr(relay)], ports }, { privateKey: fast.key })
  const capped = await startNode(t, { name: 'capped', listen: [], relays: [relayAddr(relay)], ports })
  await free.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  await capped.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  const sub = await startNode(t, { name: 'sub', listen: [] })
  const sFree = sub.subscribe(`${relayAddr(relay)}/p2p-circuit/p2p/${free.peerId}`, 'spikes')
  const sCapped = sub.subscribe(`${relayAddr(relay)}/p2p-circuit/p2p/${capped.peerId}`, 'spikes', { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } })
  let got = 0
  sFree.onBatch(d => { got += d.batch.count })
  await sFree.ready()
  await sCapped.ready()
  const conn = sub.libp2p.getConnections(free.libp2p.peerId)[0]
  t.is(conn.limits, undefined, 'no limit for an unlimited peer')
  t.not(sub.libp2p.getConnections(capped.libp2p.peerId)[0]?.limits, undefined, 'the relay announces the limit to the others')
  // Bytes: 400,000 events (several MB of batches) through one relayed stream, in steps the stream can drain.
  const port = free.outPort('spikes')
  const N = 400_000
  const bytesBefore = relay.stats().relayed.bytesFromReserved
  for (let k = 0; k < N; k += 10_000) {
    const t0 = nowUs(free)
    for (let j = 0; j < 10_000; j++) port.emit((k + j) % 64, t0)
    await until(() => got >= k + 10_000, 20_000, `${k + 10_000} events`)
  }
  t.is(got, N)
  t.is(sFree.stats.lostEvents, 0)
  t.is(sFree.stats.gapEvents, 0)
  const relayed = relay.stats().relayed.bytesFromReserved - bytesBefore
  t.true(relayed > 4 * 128 * 1024, `${relayed} bytes relayed on one connection`)
  // Duration: the unlimited stream is still the same after three times the limit; the capped one was cut.
  await new Promise(resolve => setTimeout(resolve, 4500))
  t.is(sFree.state, 'open')
  t.is(sFree.stats.connects, 1, 'never reconnected')
  t.is(conn.status, 'open')
  await until(() => relay.stats().relayed.limited >= 1 && sCapped.stats.connects >= 2, 20_000, 'the capped connection cut and the subscription back')
})

test('a node reserves again when its relay restarts', async t => {
  const key = await newKey()
  const first = await createRelay({ listen: ['/ip4/127.0.0.1/tcp/0'], reservations: '*' }, { privateKey: key.key })
  const addr = relayAddr(first)
  const node = await startNode(t, { name: 'lab', listen: [], relays: [addr] })
  await node.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  t.is(node.relays[0].reservations, 1)
  const events: string[] = []
  node.addEventListener('relay', e => { events.push(e.detail.state) })
  await first.stop()
  await until(() => node.relays[0].state !== 'reserved', 20_000, 'the reservation lost')
  t.false(node.multiaddrs.some(m => m.includes('/p2p-circuit')), 'no relayed address while the relay is down')
  // The same identity and port, as a restarted relay has.
  const port = addr.split('/')[4]
  const second = await createRelay({ listen: [`/ip4/127.0.0.1/tcp/${port}`], reservations: '*' }, { privateKey: key.key })
  t.teardown(async () => { await second.stop() })
  await until(() => node.relays[0].state === 'reserved', 20_000, 'reserved again')
  t.is(node.relays[0].reservations, 2)
  t.is(node.relays[0].lost, 1)
  t.true(node.multiaddrs.some(m => m.includes('/p2p-circuit')))
  t.is(second.stats().reservations.held, 1)
  t.true(events.includes('retrying') && events.at(-1) === 'reserved', events.join(', '))
  // And is reachable through it again.
  const sub = await startNode(t, { name: 'sub', listen: [] })
  t.is((await sub.describe(`${addr}/p2p-circuit/p2p/${node.peerId}`)).name, 'lab')
})

test('a peer outside unlimited gets libp2p\'s default data limit: describe works, a stream is cut after 128 KiB and reconnects', async t => {
  const relay = await startRelay(t, { reservations: '*', unlimited: [] })
  const capped = await startNode(t, { name: 'capped', listen: [], relays: [relayAddr(relay)], ports: [{ name: 'spikes', direction: 'out', channels: 64 }] })
  await capped.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  const sub = await startNode(t, { name: 'sub', listen: [] })
  const target = `${relayAddr(relay)}/p2p-circuit/p2p/${capped.peerId}`
  t.is((await sub.describe(target)).name, 'capped', 'a short exchange fits in the limit')
  const s = sub.subscribe(target, 'spikes', { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } })
  await s.ready()
  const port = capped.outPort('spikes')
  // Well over 128 KiB of batches, in steps.
  for (let k = 0; k < 40 && relay.stats().relayed.limited === 0; k++) {
    const t0 = nowUs(capped)
    for (let j = 0; j < 10_000; j++) port.emit(j % 64, t0)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  await until(() => relay.stats().relayed.limited >= 1, 20_000, 'a connection cut by the data limit')
  await until(() => s.stats.connects >= 2 && s.state === 'open', 20_000, 'the subscription back on a new relayed connection')
  t.true(relay.stats().relayed.limited >= 1)
  t.true(s.stats.connects >= 2, 'the subscription reconnected after the cut')
})

test('a relay with a /ws listen address also listens on WebSockets', async t => {
  const relay = await startRelay(t, { listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] })
  t.true(relay.multiaddrs.some(a => /\/tcp\/\d+\/ws\/p2p\//.test(a)), relay.multiaddrs.join(', '))
  t.true(relay.multiaddrs.some(a => /\/tcp\/\d+\/p2p\//.test(a)))
  // Nodes still reserve over TCP.
  const node = await startNode(t, { name: 'lab', listen: [], relays: [relayAddr(relay)] })
  await node.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  t.true(relay.listed()[0].addrs.some(a => a.includes('/ws/')), 'the directory lists the WebSockets address too')
})
