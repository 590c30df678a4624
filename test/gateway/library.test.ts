/** The gateway through the library (startGateway): its counts are part of node.stats(), it stops with the node. */
import test from 'ava'
import { InvalidArgumentError } from '../../src/base/errors.ts'
import { startGateway } from '../../src/gateway/udp2020/index.ts'
import type { Udp2020Stats } from '../../src/gateway/udp2020/gateway.ts'
import { eventDatagram, readyDatagram } from '../../src/gateway/udp2020/datagram.ts'
import { until } from '../helpers/nodes.ts'
import { Legacy } from './helpers.ts'

test('node.stats().parts.udp2020 carries the gateway counts; the port is described; stopping the node closes the socket', async t => {
  const { hosted, gateway } = await startGateway({
    node: { name: 'gw', listen: ['/ip4/127.0.0.1/tcp/0'] },
    udp2020: { listen: '127.0.0.1:0', senders: [{ code: 'D', port: 'dendrite', channels: 3 }] }
  })
  t.teardown(async () => { await hosted.node.stop() })
  const node = hosted.node
  t.like(node.description().ports.find(p => p.name === 'dendrite'), { direction: 'out', kind: 'weighted', channels: 3, model: { name: 'udp2020-sender', params: [['code', 68, ''], ['tick', 50, 'us']] } })
  const legacy = await Legacy.open(t, gateway.address)
  await legacy.send(eventDatagram('D', 2, 0, 0))
  await legacy.send(eventDatagram('D', 3, 0, 0))
  await legacy.send(new Uint8Array([1, 2, 3]))
  const parts = (): Udp2020Stats => node.stats().parts!.udp2020 as Udp2020Stats
  await until(() => parts().datagrams === 3, 20_000, 'three datagrams')
  t.like(parts(), { datagrams: 3, events: 1, malformed: { 'wrong-length': 1, 'neuron-out-of-range': 1, 'unknown-sender': 0, 'delta-overflow': 0, 'unknown-event-type': 0 } })
  t.is(node.outPort('dendrite').stats.emitted, 1)
  // A silent sender's watermark follows the clock, reanchorUs (500 ms) behind.
  await until(() => node.outPort('dendrite').watermark > node.clock.nowUs() - 900_000 && node.outPort('dendrite').watermark < node.clock.nowUs() - 500_000, 20_000, 'the idle watermark')
  t.throws(() => node.attach({ stop () {} }, { name: 'udp2020', stats: () => ({}) }), { instanceOf: InvalidArgumentError })
  await node.stop()
  // The socket is closed: binding its port again works.
  const again = await Legacy.open(t, '127.0.0.1:9', Number(gateway.address.split(':')[1]))
  t.truthy(again.address)
})

test('a flood of random datagrams is counted by reason and never stops the gateway serving', async t => {
  const { hosted, gateway } = await startGateway({
    node: { name: 'gw', listen: ['/ip4/127.0.0.1/tcp/0'] },
    udp2020: { listen: '127.0.0.1:0', senders: [{ code: 'A', port: 'axon', channels: 16 }] }
  })
  t.teardown(async () => { await hosted.node.stop() })
  const legacy = await Legacy.open(t, gateway.address)
  let seed = 12345
  const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
  const N = 3000
  for (let i = 0; i < N; i++) {
    const len = rand(4) === 0 ? rand(40) : 8
    const bytes = Uint8Array.from({ length: len }, () => rand(256))
    // Half of the 8-byte ones carry the configured code, so every check gets its share.
    if (len === 8 && rand(2) === 0) bytes[0] = 0x41
    await legacy.send(bytes)
    if (i % 50 === 0) await new Promise(resolve => setTimeout(resolve, 5))
  }
  const s = (): Udp2020Stats => gateway.stats()
  await new Promise(resolve => setTimeout(resolve, 500))
  // UDP on loopback may drop datagrams when the receiver falls behind: what arrived is what is checked.
  const before = s().datagrams
  t.true(before > 100, `received ${before} of ${N}`)
  const total = (x: Udp2020Stats): number => x.events + x.ready + Object.values(x.malformed).reduce((a, b) => a + b, 0)
  t.is(total(s()), s().datagrams, 'every datagram is an event, an R or a counted reason')
  for (const reason of ['wrong-length', 'unknown-sender', 'neuron-out-of-range', 'unknown-event-type'] as const) t.true(s().malformed[reason] > 0, reason)
  // Still serving: R re-anchors A, and a good datagram becomes an event.
  await legacy.send(readyDatagram())
  const events = s().events
  await legacy.send(eventDatagram('A', 5, 2, 1))
  await until(() => s().events === events + 1, 20_000, 'the good datagram')
})
