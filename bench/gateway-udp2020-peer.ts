/**
 * The far side of bench/gateway-udp2020.ts, a child process: a node running the 2020 UDP gateway (the
 * library's startGateway, as `spikewire gateway udp2020` runs it) and, for the baseline, a direct
 * spikewire publisher in the same node: an out port `direct` that emits one event for every datagram on a
 * second UDP socket, at once, with no decoding. Both paths are then "a datagram arrives, an event leaves".
 * Prints one JSON line {gateway, trigger, addr} when ready; stops on SIGTERM.
 */
import { createSocket } from 'node:dgram'
import { startGateway } from '../src/gateway/udp2020/index.ts'

const { hosted, gateway } = await startGateway({
  node: { name: 'bench-gw', listen: ['/ip4/127.0.0.1/tcp/0'], ports: [{ name: 'direct', direction: 'out', kind: 'weighted', channels: 65_536 }] },
  udp2020: { listen: '127.0.0.1:0', senders: [{ code: 'A', port: 'axon', channels: 65_536 }] }
})
const node = hosted.node
const direct = node.outPort('direct')
const trigger = createSocket('udp4')
await new Promise<void>(resolve => { trigger.bind(0, '127.0.0.1', () => { resolve() }) })
trigger.on('message', msg => {
  if (msg.length !== 8) return
  direct.emit(msg.readUInt32BE(0) & 0xffffff, Math.round(node.clock.nowUs()), msg[4])
})
console.log(JSON.stringify({ gateway: gateway.address, trigger: `127.0.0.1:${trigger.address().port}`, addr: node.multiaddrs[0] }))
process.on('SIGTERM', () => {
  trigger.close()
  console.log(JSON.stringify({ stats: node.stats().parts }))
  void node.stop().then(() => process.exit(0))
})
