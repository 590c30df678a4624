/**
 * The attack suite's target, in its own process so that its memory and CPU figures are its own: a node
 * started from a config like the one `spikewire node` reads — a 1024-channel Poisson source on the `out`
 * port `spikes`, a push-only `in` port `sink` that nobody consumes — answering JSON-line commands
 * (bench/child-rpc.ts): `start {config}`, `stats`, `retained` (memory held after a full collection), `exit`.
 */
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { parseConfig } from '../../src/hosting/config.ts'
import { startNode } from '../../src/hosting/start.ts'
import type { Hosted } from '../../src/hosting/start.ts'
import { LIMITS } from '../../src/wire/defaults.ts'
import type { Tunable } from '../../src/wire/defaults.ts'
import { serveCommands } from '../child-rpc.ts'
import type { Command } from '../child-rpc.ts'

/** Source rate per channel: 1024 channels × 2 Hz ≈ 2,000 events/s, the rate of the original attacks. */
export const SOURCE_RATE_HZ = 2
export const CHANNELS = 1024

/**
 * Idle clock streams are closed after this in the short run, ms, when the node has that limit
 * (`limits.clockIdleMs`): the slowloris case then needs to watch only that long. The full run keeps the default.
 */
export const SHORT_CLOCK_IDLE_MS = 5000

/** The clock idle limit of the target (undefined when the node has none). */
export function clockIdleMs (short: boolean): number | undefined {
  const tunable = (LIMITS as Record<string, Tunable>).clockIdleMs
  if (tunable === undefined) return undefined
  return short ? Math.max(tunable.min, SHORT_CLOCK_IDLE_MS) : tunable.default
}

export function targetConfig (short: boolean): Record<string, unknown> {
  const idle = clockIdleMs(short)
  return {
    name: 'target',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    ...(short && idle !== undefined ? { limits: { clockIdleMs: idle } } : {}),
    ports: [
      { name: 'spikes', direction: 'out', channels: CHANNELS, source: { type: 'poisson', rateHz: SOURCE_RATE_HZ, seed: 11 } },
      { name: 'sink', direction: 'in', channels: CHANNELS, push: '*' }
    ]
  }
}

/** A full garbage collection (V8's gc(), exposed at run time so the child needs no flag). */
const collect = ((): () => void => {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
})()

/**
 * Memory still held after a full collection: the JS heap and memory outside it (buffers), MB. V8 updates
 * its external-memory count for freed array buffers only at the next collection (measured: one gc() frees
 * 67 MB of dropped Uint8Arrays — `arrayBuffers` falls — while `external` still counts them until a second
 * gc()), so collect twice with a turn between. `ATTACK_HEAP_SNAPSHOT=/path/prefix` also writes a heap
 * snapshot at each measure (diagnosis only).
 */
async function retained (): Promise<{ retainedMB: number, heapMB: number, externalMB: number, arrayBuffersMB: number }> {
  collect()
  await new Promise(resolve => setImmediate(resolve))
  collect()
  const m = process.memoryUsage()
  const mb = (x: number): number => Math.round(x / 104857.6) / 10
  if (process.env.ATTACK_HEAP_SNAPSHOT !== undefined) writeHeapSnapshot(`${process.env.ATTACK_HEAP_SNAPSHOT}-${Date.now()}.heapsnapshot`)
  return { retainedMB: mb(m.heapUsed + m.external), heapMB: mb(m.heapUsed), externalMB: mb(m.external), arrayBuffersMB: mb(m.arrayBuffers) }
}

async function serve (): Promise<void> {
  let hosted: Hosted | undefined
  await serveCommands({
    start: async (c: Command) => {
      hosted = await startNode(parseConfig(c.config))
      return { peer: hosted.node.peerId, multiaddrs: hosted.node.multiaddrs, pid: process.pid }
    },
    stats: async () => {
      const node = hosted!.node
      const s = node.stats()
      return {
        connections: node.libp2p.getConnections().length,
        guard: s.connections,
        refusals: s.refusals,
        subscribers: s.outPorts.spikes?.streams.length ?? 0,
        sink: s.inPorts.sink,
        memory: process.memoryUsage()
      }
    },
    retained: async () => await retained(),
    exit: async () => {
      await hosted?.node.stop().catch(() => {})
      setImmediate(() => process.exit(0))
    }
  })
}

if (import.meta.main) await serve()
