/**
 * Shared pieces of the live latency-compensation tests: a delay proxy in front of a node, spike trains
 * emitted on real timers, and small statistics over intervals.
 */
import type { ExecutionContext } from 'ava'
import { createDelayProxy } from '../../src/netem/index.ts'
import type { DelayProxy, LinkParams } from '../../src/netem/index.ts'
import type { PeerClock } from '../../src/protocols/clock/peer-clock.ts'
import type { SpikewireNode } from '../../src/node/node.ts'
import type { CreateNodeOptions } from '../../src/node/node.ts'

/** Clock sync that converges in about a second (bursts every 100–400 ms). */
export const FAST_SYNC: CreateNodeOptions['clockSync'] = { schedule: { minPeriodUs: 100_000, maxPeriodUs: 400_000 } }

/** The TCP port a node listens on (its first /ip4/127.0.0.1/tcp/… address). */
export function tcpPort (node: SpikewireNode): number {
  for (const a of node.multiaddrs) {
    const m = /^\/ip4\/127\.0\.0\.1\/tcp\/(\d+)\//.exec(a)
    if (m !== null) return Number(m[1])
  }
  throw new Error(`node ${node.init.name} has no loopback TCP address: ${node.multiaddrs.join(', ')}`)
}

export interface Proxied {
  proxy: DelayProxy
  /** Multiaddr that reaches the node through the proxy. */
  addr: string
}

/**
 * Put a delay proxy in front of `node`: `up` is dialer → node, `down` is node → dialer. `spinMs` 0 saves
 * the CPU of the proxy's busy-wait where ±1–2 ms of release time does not matter. The proxy is closed
 * when the test ends. Register it after the nodes, so that (teardowns running in reverse) it closes first
 * and streams stuck behind it end at once instead of waiting for a graceful close.
 */
export async function proxyTo (t: ExecutionContext, node: SpikewireNode, up: LinkParams, down: LinkParams, seed = 1, spinMs = 1): Promise<Proxied> {
  const proxy = await createDelayProxy({
    listen: { host: '127.0.0.1', port: 0 },
    target: { host: '127.0.0.1', port: tcpPort(node) },
    up,
    down,
    seed,
    spinMs
  })
  t.teardown(async () => { await proxy.close() })
  return { proxy, addr: `/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${node.peerId}` }
}

/** Wait for a peer clock to converge, with a deadline. */
export async function converged (pc: PeerClock, timeoutMs = 20_000): Promise<void> {
  await pc.converged({ signal: AbortSignal.timeout(timeoutMs) })
}

/** Sleep on a real timer. */
export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/**
 * Emit `count` spikes on real timers, each stamped with the publisher's clock when its timer fires; the
 * gaps between timers are drawn by `gapMs`. Resolves with the emitted times (publisher clock, µs).
 */
export async function emitTrain (node: SpikewireNode, port: string, count: number, gapMs: () => number, channel = 0): Promise<number[]> {
  const out = node.outPort(port)
  const times: number[] = []
  for (let k = 0; k < count; k++) {
    if (k > 0) await sleep(gapMs())
    const time = Math.round(node.clock.nowUs())
    if (!out.emit(channel, time)) throw new Error(`emit refused at ${time}`)
    times.push(time)
  }
  return times
}

/** Differences of consecutive values. */
export function diffs (xs: readonly number[]): number[] {
  const d: number[] = []
  for (let i = 1; i < xs.length; i++) d.push(xs[i] - xs[i - 1])
  return d
}

/** The q-quantile (0..1) of |values| (nearest rank). */
export function absQuantile (values: readonly number[], q: number): number {
  if (values.length === 0) return NaN
  const s = values.map(Math.abs).sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]
}

/** |ISI out − ISI in| for each pair of consecutive events, µs. */
export function isiErrors (sentUs: readonly number[], gotUs: readonly number[]): number[] {
  if (sentUs.length !== gotUs.length) throw new Error(`length mismatch ${sentUs.length} vs ${gotUs.length}`)
  const a = diffs(sentUs)
  const b = diffs(gotUs)
  return a.map((x, i) => b[i] - x)
}

/** Format µs as ms with two decimals, for logs. */
export function ms (us: number): string {
  return `${(us / 1000).toFixed(2)} ms`
}
