/**
 * The child processes of the timing benchmarks (bench/clock.ts, bench/playout.ts), and the parent's handle
 * on them.
 *
 * Run directly (`node bench/timing-peer.ts`) it reads one JSON command per line on stdin ({ id, cmd, ...args })
 * and answers one JSON line per command on stdout ({ id, result } or { id, error }); logs go to stderr.
 * Roles, one or more per process:
 * - server: a spikewire node on 127.0.0.1 whose clock is a SkewedClock over SystemClock (known offset and
 *   drift), optionally with an `out` port 'spikes' and a timer-driven train of spikes on it;
 * - proxy: a delay proxy (src/netem) in front of a TCP port, so its busy-wait timer runs on its own core.
 *
 * Truth across processes. Every process reads SystemClock: performance.timeOrigin + performance.now(). The
 * two terms are sampled per process, so the readings of two processes at one instant differ by a small
 * constant Δ (their "bases", each measured against the system-wide monotonic clock by clockBase(), differ
 * by Δ; typically a few µs). The server reports `refBaseUs` (a reading of its base clock), the true offset
 * of its skewed clock at that reading and the drift; its skewed clock at its base reading b is then
 * b + offsetAtRefUs + (b − refBaseUs)·driftPpm·1e-6 exactly (SkewedClock is linear). See trueOffset().
 */
import { getPriority, setPriority } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { ChildRpc, serveCommands } from './child-rpc.ts'
import { StallWatch } from './stall-watch.ts'
import { SkewedClock, SystemClock, createNode } from '../src/index.ts'
import { prng } from '../src/base/prng.ts'
import type { SpikewireNode } from '../src/index.ts'
import { createDelayProxy } from '../src/netem/index.ts'
import type { DelayProxy, LinkParams } from '../src/netem/index.ts'
import { clockBase } from './stream-peer.ts'

export { clockBase }

/** What the server reports about its clock (all µs on its own base clock, except driftPpm). */
export interface ServerInfo {
  addr: string
  peerId: string
  port: number
  /** clockBase() of the server process. */
  baseUs: number
  refBaseUs: number
  offsetAtRefUs: number
  driftPpm: number
}

/**
 * The true θ (server clock − client clock) at client base reading `clientUs`, given the client's own
 * clockBase() `clientBaseUs`. The server's base clock reads clientUs + Δ at that instant, Δ = server base −
 * client base; its skewed clock then reads (clientUs + Δ) + offset(clientUs + Δ).
 */
export function trueOffset (s: ServerInfo, clientBaseUs: number, clientUs: number): number {
  const delta = s.baseUs - clientBaseUs
  const b = clientUs + delta
  return delta + s.offsetAtRefUs + (b - s.refBaseUs) * s.driftPpm * 1e-6
}

/** The same, inverted: the client base reading at which the server's skewed clock read `serverUs`. */
export function serverToClient (s: ServerInfo, clientBaseUs: number, serverUs: number): number {
  const delta = s.baseUs - clientBaseUs
  // serverUs = b + offsetAtRef + (b − ref)·r  ⇒  b = (serverUs − offsetAtRef + ref·r) / (1 + r)
  const r = s.driftPpm * 1e-6
  const b = (serverUs - s.offsetAtRefUs + s.refBaseUs * r) / (1 + r)
  return b - delta
}

export function cpuSeconds (): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

/** A child process running this file, driven by JSON-line commands. */
export class PeerProcess extends ChildRpc {
  constructor (timeoutMs: number) {
    super(fileURLToPath(import.meta.url), timeoutMs)
  }
}

/** The TCP port of a node's first loopback address. */
function tcpPort (node: SpikewireNode): number {
  for (const a of node.multiaddrs) {
    const m = /^\/ip4\/127\.0\.0\.1\/tcp\/(\d+)\//.exec(a)
    if (m !== null) return Number(m[1])
  }
  throw new Error(`no loopback TCP address: ${node.multiaddrs.join(', ')}`)
}

export interface TrainResult {
  /** Event times, server (skewed) clock, µs, integers, increasing. */
  times: number[]
  seconds: number
  cpuSeconds: number
  /** The publisher's longest event-loop stall during the train, ms (10 ms resolution). */
  loopDelayMaxMs: number
}

interface Command {
  id: number
  cmd: string
  offsetUs?: number
  driftPpm?: number
  spikes?: boolean
  target?: number
  up?: LinkParams
  down?: LinkParams
  seed?: number
  spinMs?: number
  nice?: number
  seconds?: number
  minGapMs?: number
  maxGapMs?: number
}

async function serve (): Promise<void> {
  let node: SpikewireNode | undefined
  let proxy: DelayProxy | undefined
  let proxyCpu0 = 0
  const stalls = new StallWatch()
  const handlers: Record<string, (c: Command) => Promise<unknown>> = {
    clock: async () => ({ baseUs: clockBase() }),
    'stalls.start': async () => { stalls.start(); return {} },
    'stalls.stop': async () => stalls.stop(),
    /** Set this process's nice value (its main thread, where the node or the proxy runs). */
    nice: async c => {
      setPriority(process.pid, c.nice!)
      return { nice: getPriority(process.pid) }
    },
    'server.start': async c => {
      const base = new SystemClock()
      const clock = new SkewedClock(base, { offsetUs: c.offsetUs, driftPpm: c.driftPpm })
      node = await createNode({
        name: 'bench-server',
        listen: ['/ip4/127.0.0.1/tcp/0'],
        ports: c.spikes === true ? [{ name: 'spikes', direction: 'out', channels: 1 }] : []
      }, { clock })
      const refBaseUs = base.nowUs()
      const info: ServerInfo = {
        addr: node.multiaddrs[0],
        peerId: node.peerId,
        port: tcpPort(node),
        baseUs: clockBase(),
        refBaseUs,
        offsetAtRefUs: clock.trueOffsetAt(refBaseUs),
        driftPpm: clock.driftPpm
      }
      return info
    },
    /** Emit spikes on 'spikes' for `seconds`, gaps uniform in [minGapMs, maxGapMs) (real timers). */
    'server.train': async c => {
      const n = node!
      const out = n.outPort('spikes')
      const random = prng(c.seed ?? 1)
      const times: number[] = []
      const cpu0 = cpuSeconds()
      const loop = monitorEventLoopDelay({ resolution: 10 })
      loop.enable()
      const start = performance.now()
      const endMs = start + c.seconds! * 1000
      let last = -Infinity
      while (performance.now() < endMs) {
        let t = Math.round(n.clock.nowUs())
        if (t <= last) t = last + 1
        if (!out.emit(0, t)) throw new Error(`emit refused at ${t}`)
        times.push(t)
        last = t
        const gap = c.minGapMs! + (c.maxGapMs! - c.minGapMs!) * random.next()
        await new Promise(resolve => setTimeout(resolve, gap))
      }
      loop.disable()
      const r: TrainResult = { times, seconds: (performance.now() - start) / 1000, cpuSeconds: cpuSeconds() - cpu0, loopDelayMaxMs: loop.max / 1e6 - 10 }
      return r
    },
    'server.stop': async () => { await node?.stop(); node = undefined },
    'proxy.start': async c => {
      proxy = await createDelayProxy({
        listen: { host: '127.0.0.1', port: 0 },
        target: { host: '127.0.0.1', port: c.target! },
        up: c.up,
        down: c.down,
        seed: c.seed ?? 1,
        spinMs: c.spinMs
      })
      proxyCpu0 = cpuSeconds()
      return { port: proxy.port }
    },
    'proxy.stats': async () => ({ ...proxy!.stats(), cpuSeconds: cpuSeconds() - proxyCpu0 }),
    'proxy.stop': async () => { await proxy?.close(); proxy = undefined },
    exit: async () => { setImmediate(() => process.exit(0)) }
  }
  await serveCommands(handlers)
}

if (import.meta.main) await serve()
