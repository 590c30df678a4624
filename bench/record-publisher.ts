/**
 * A publisher of known events, for the recording tests (python/tests/test_xdf_pyxdf.py) and the recording
 * benchmark (bench/record.ts): a node with an out port "spikes" (spike, 16 channels) and "weights"
 * (weighted, 3 channels). It prints {"event":"started","peer":...,"multiaddrs":[...]} on stdout, waits until
 * each port has --subscribers streams (at most 20 s), then emits --rate events/s per port for --seconds
 * (seeded random channels, values and intervals, some times equal), writes every emitted event to
 * --events FILE as JSON ({"spikes": [[ch, t_us], …], "weights": [[ch, t_us, value], …]}) when given, prints
 * {"event":"done","emitted":N,"refused":M} and stays up until SIGTERM or SIGINT.
 *
 *   node bench/record-publisher.ts --rate 1000 --seconds 2 --events /tmp/events.json
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { Prng } from '../src/base/prng.ts'
import { createSpikewireNode } from '../src/node/node.ts'

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    subscribers: { type: 'string', default: '1' },
    events: { type: 'string' },
    listen: { type: 'string', default: '/ip4/127.0.0.1/tcp/0' }
  }
})
const rate = Number(args.rate)
const seconds = Number(args.seconds)
const wantSubs = Number(args.subscribers)

const node = await createSpikewireNode({ name: 'record-publisher', listen: [args.listen], model: { name: 'known-events', params: [['rate', rate, 'Hz']] } })
const ports = {
  spikes: node.addOutPort({ name: 'spikes', channels: 16, kind: 'spike', model: { name: 'poisson', params: [['rate', rate / 16, 'Hz']] } }),
  weights: node.addOutPort({ name: 'weights', channels: 3, kind: 'weighted', model: { name: 'electrode', params: [['gain', 2.5, 'mV']] } })
}
const print = (o: Record<string, unknown>): void => { process.stdout.write(`${JSON.stringify(o)}\n`) }
print({ event: 'started', peer: node.peerId, multiaddrs: node.multiaddrs })
const stop = async (): Promise<void> => {
  await node.stop()
  process.exit(0)
}
process.on('SIGTERM', () => { void stop() })
process.on('SIGINT', () => { void stop() })

const deadline = Date.now() + 20_000
while (Object.values(ports).some(p => p.stats.streams < wantSubs) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
print({ event: 'emitting', subscribers: Object.fromEntries(Object.entries(ports).map(([k, p]) => [k, p.stats.streams])) })

const rng = new Prng(Number(args.seed))
const events = { spikes: [] as number[][], weights: [] as number[][] }
const last = { spikes: 0, weights: 0 }
const total = Math.round(rate * seconds)
let refused = 0
const startMs = Date.now()
for (let done = 0; done < total;) {
  const upTo = Math.min(total, Math.ceil(total * (Date.now() - startMs) / (seconds * 1000)) + 1)
  const now = Math.round(node.clock.nowUs())
  for (; done < upTo; done++) {
    for (const name of ['spikes', 'weights'] as const) {
      // Times within the last 2 ms, never before the previous one: some equal, every interval random.
      const t = Math.max(last[name], now - (rng.next() < 0.1 ? 0 : Math.floor(rng.next() * 2000)))
      last[name] = t
      const ch = Math.floor(rng.next() * (name === 'spikes' ? 16 : 3))
      const v = Math.fround((rng.next() - 0.5) * 200)
      const ok = name === 'spikes' ? ports.spikes.emit(ch, t) : ports.weights.emit(ch, t, v)
      if (!ok) refused++
      else if (args.events !== undefined) events[name].push(name === 'spikes' ? [ch, t] : [ch, t, v])
    }
  }
  await new Promise(resolve => setTimeout(resolve, 1))
}
for (const p of Object.values(ports)) p.flush()
if (args.events !== undefined) writeFileSync(args.events, JSON.stringify(events))
print({ event: 'done', emitted: 2 * total - refused, refused, seconds: (Date.now() - startMs) / 1000 })
