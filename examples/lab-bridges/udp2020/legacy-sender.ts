/**
 * A legacy 2020-format program, in the manner of the Zurich and Padova senders: it says `R` (ready) to the
 * hub, then sends one 8-byte datagram per event — an `A` (axon side) 10 Hz pacemaker on neuron 0 and, 5 ms
 * after every third spike, a `D` (dendrite side) post-synaptic potential on neuron 1 — each with the time
 * since that sender's previous event in 50 µs ticks. It prints the hub's `S` datagrams it gets back.
 * Written against the format only (docs/gateway-udp2020.md), not against spikewire: plain node:dgram.
 *
 *   node legacy-sender.ts HOST:PORT [--seconds S] [--restart-after S]
 */
import { createSocket } from 'node:dgram'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seconds: { type: 'string' }, 'restart-after': { type: 'string' } } })
const [hubHost, hubPort] = (positionals[0] ?? '127.0.0.1:5020').split(':')
const seconds = Number(values.seconds ?? 5)
const restartAfter = values['restart-after'] === undefined ? Infinity : Number(values['restart-after'])
const TICK_US = 50

function datagram (code: string, neuron: number, high: number, low: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeUInt32BE(((code.charCodeAt(0) << 24) | neuron) >>> 0, 0)
  b.writeUInt32BE(((high << 24) | Math.min(low, 0xffffff)) >>> 0, 4)
  return b
}

const nowUs = (): number => performance.now() * 1000
let socket = createSocket('udp4')
const listen = (): void => {
  socket.on('message', msg => {
    if (msg.length !== 8 || msg[0] !== 0x53) return
    const neuron = msg.readUInt32BE(0) & 0xffffff
    const ticks = msg.readUInt32BE(4) & 0xffffff
    console.log(`S  neuron ${neuron}  weight ${msg[4]}  hub time ${ticks} ticks (${(ticks * TICK_US / 1e6).toFixed(4)} s)  [${msg.toString('hex')}]`)
  })
}
listen()
const send = (b: Buffer, what: string): void => {
  socket.send(b, Number(hubPort), hubHost)
  console.log(`-> ${b.toString('hex').replace(/^(.{8})/, '$1 ')}  ${what}`)
}

send(datagram('R', 0, 0, 0), 'R ready')
const last: Record<string, number> = { A: nowUs(), D: nowUs() }
const event = (code: 'A' | 'D', neuron: number, type: number): void => {
  const t = nowUs()
  const ticks = Math.round((t - last[code]) / TICK_US)
  last[code] += ticks * TICK_US
  send(datagram(code, neuron, type, ticks), `${code} neuron ${neuron} type ${type} delta ${ticks} ticks`)
}

const start = nowUs()
let n = 0
let restarted = false
const timer = setInterval(() => {
  if (nowUs() - start > seconds * 1e6) {
    clearInterval(timer)
    setTimeout(() => { socket.close() }, 300)
    return
  }
  if (!restarted && nowUs() - start > restartAfter * 1e6) {
    // A restart: a new socket (a new source port), the deltas count from the new start.
    restarted = true
    socket.close()
    socket = createSocket('udp4')
    listen()
    console.log('-- restarted')
    last.A = last.D = nowUs()
    send(datagram('R', 0, 0, 0), 'R ready')
  }
  event('A', 0, 1)
  if (++n % 3 === 0) setTimeout(() => { event('D', 1, 0) }, 5)
}, 100)
