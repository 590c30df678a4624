/** The gateway through the library (startGateway): its counts are part of node.stats(), it stops with the node. */
import test from 'ava'
import { InvalidArgumentError } from '../../src/base/errors.ts'
import { startGateway } from '../../src/gateway/udp2020/index.ts'
import type { Udp2020Stats } from '../../src/gateway/udp2020/gateway.ts'
import { eventDatagram } from '../../src/gateway/udp2020/datagram.ts'
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
