/**
 * The far side of bench/gateway-udp2020.ts, a child process: a node running the 2020 UDP gateway (the
 * library's startGateway, as `spikewire gateway udp2020` runs it) and the two baselines in the same node.
 *
 * - Datagram → spikewire: the gateway's sender `A` (port `axon`); baseline, a direct spikewire publisher,
 *   an out port `direct` that emits one event for every datagram on a second UDP socket (`trigger`), at
 *   once, with no decoding. Both paths are then "a datagram arrives, an event leaves".
 * - Spikewire → datagram (with `--from MULTIADDR --reply HOST:PORT`): the gateway's reply subscription to
 *   the port `weights` of MULTIADDR, sending `S` datagrams to the addresses `R` registered; baseline, a
 *   plain subscription of the same node to the port `plain` of MULTIADDR that sends each event as an
 *   8-byte `S` datagram to HOST:PORT itself, from the `trigger` socket, with no clock mapping, clipping
 *   (the low byte of the value) or destination list. Both paths are then "an event arrives, a datagram leaves".
 *
 * Prints JSON lines: {gateway, trigger, addr} when ready, {registered} when an `R` datagram registered an
 * address, {stats, direct} on SIGTERM, then stops.
 */
import { createSocket } from 'node:dgram'
import { parseArgs } from 'node:util'
import { forEachEvent } from '../src/codec/batch.ts'
import { hubDatagram, startGateway } from '../src/gateway/udp2020/index.ts'
import type { ReplyConfig } from '../src/gateway/udp2020/index.ts'

const { values } = parseArgs({ options: { from: { type: 'string' }, reply: { type: 'string' } } })
const replies: ReplyConfig[] = values.from === undefined ? [] : [{ from: values.from, port: 'weights' }]
const { hosted, gateway } = await startGateway({
  node: { name: 'bench-gw', listen: ['/ip4/127.0.0.1/tcp/0'], ports: [{ name: 'direct', direction: 'out', kind: 'weighted', channels: 65_536 }] },
  udp2020: { listen: '127.0.0.1:0', senders: [{ code: 'A', port: 'axon', channels: 65_536 }], replies }
})
const node = hosted.node
const direct = node.outPort('direct')
const trigger = createSocket('udp4')
await new Promise<void>(resolve => { trigger.bind(0, '127.0.0.1', () => { resolve() }) })
trigger.on('message', msg => {
  if (msg.length !== 8) return
  direct.emit(msg.readUInt32BE(0) & 0xffffff, Math.round(node.clock.nowUs()), msg[4])
})
gateway.addEventListener('registered', e => { console.log(JSON.stringify({ registered: e.detail.address })) })

// The reverse baseline: events of `plain` at the bench's node → datagrams, sent by this process itself.
const back = { events: 0, datagrams: 0, sendErrors: 0 }
if (values.from !== undefined && values.reply !== undefined) {
  const to = values.reply
  const host = to.slice(0, to.lastIndexOf(':'))
  const port = Number(to.slice(to.lastIndexOf(':') + 1))
  const sub = node.subscribe(values.from, 'plain')
  sub.onBatch(d => {
    forEachEvent(d.batch, (channel, _time, value) => {
      back.events++
      back.datagrams++
      trigger.send(hubDatagram(channel, (value ?? 0) & 0xff, 0), port, host, err => { if (err != null) back.sendErrors++ })
    })
  })
}

console.log(JSON.stringify({ gateway: gateway.address, trigger: `127.0.0.1:${trigger.address().port}`, addr: node.multiaddrs[0] }))
process.on('SIGTERM', () => {
  trigger.close()
  console.log(JSON.stringify({ stats: node.stats().parts, direct: back }))
  void node.stop().then(() => process.exit(0))
})
