/**
 * The clock estimate over a relay covers the longer path (spec §4.1.2, R5-relay-3): the subscriber reaches the
 * relay through a delay proxy that adds 20 ms on the way out and 2 ms on the way back, so every clock sample
 * over the relay is biased by half the asymmetry, 9 ms. Both nodes read the same clock, so the true offset is
 * 0: the estimate is off by about 9 ms, and its uncertainty, which derives from the round trip (u ≥ δmin/2),
 * must cover that error.
 */
import test from 'ava'
import { createDelayProxy } from '../../src/netem/index.ts'
import { startNode, until } from '../helpers/nodes.ts'
import { relayAddr, startRelay } from './helpers.ts'

test('the clock estimate over a relay has an uncertainty that covers the asymmetry of the longer path', async t => {
  const relay = await startRelay(t)
  const port = Number(relayAddr(relay).split('/')[4])
  const proxy = await createDelayProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, up: { delayMs: 20 }, down: { delayMs: 2 } })
  t.teardown(async () => { await proxy.close() })
  const viaProxy = `/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${relay.peerId}`
  const pub = await startNode(t, { name: 'pub', listen: [], relays: [relayAddr(relay)], ports: [{ name: 'spikes', direction: 'out', channels: 1 }] })
  await pub.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  const sub = await startNode(t, { name: 'sub', listen: [] })
  const target = `${viaProxy}/p2p-circuit/p2p/${pub.peerId}`
  const s = sub.subscribe(target, 'spikes')
  await s.ready()
  const clock = sub.clockFor(target)
  await until(() => clock.estimate()?.converged === true, 20_000, 'a converged estimate')
  const e = clock.estimate()!
  t.log(`offset ${(e.offsetUs / 1000).toFixed(2)} ms ± ${(e.uncertaintyUs / 1000).toFixed(2)} ms, round trip ${(e.rttUs / 1000).toFixed(2)} ms`)
  // The round trip includes both hops and the proxy's 22 ms.
  t.true(e.rttUs >= 22_000, `round trip ${e.rttUs} µs`)
  // The asymmetry biases the estimate by half of it, 9 ms (within the loopback's own noise).
  t.true(Math.abs(e.offsetUs) > 6000 && Math.abs(e.offsetUs) < 12_000, `offset ${e.offsetUs} µs`)
  // And the uncertainty covers the true offset, 0.
  t.true(Math.abs(e.offsetUs) <= e.uncertaintyUs, `|offset| ${Math.abs(e.offsetUs)} µs > uncertainty ${e.uncertaintyUs} µs`)
  t.true(e.uncertaintyUs >= e.rttUs / 2 - 1000, 'u is at least about half the round trip')
  t.true(proxy.stats().connections.accepted >= 1, 'the path went through the proxy')
})
