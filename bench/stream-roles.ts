/**
 * The spikewire roles of the stream benchmark (bench/stream.ts) and what all roles share: the clock both
 * processes read, the producers' channel table, the receive tally. A publisher node (producer as fast as
 * backpressure allows, or timer-driven at a fixed rate) and subscriber nodes.
 */
import { setImmediate as immediate } from 'node:timers/promises'
import { createNode } from '../src/index.ts'
import type { Batch, SpikewireNode, Subscription } from '../src/index.ts'

export const CHANNELS = 1024
/** Events a sender may hold queued before it drops (the node's limits.queueEvents). */
export const QUEUE_EVENTS = 262_144

/** Microseconds on the clock both sides use: performance.timeOrigin + performance.now(). */
export function nowUs (): number {
  return (performance.timeOrigin + performance.now()) * 1000
}

/**
 * This process's nowUs() minus the system-wide monotonic clock (process.hrtime), µs: the base of nowUs.
 * Two processes on one machine compare nowUs() readings exactly when their bases are equal.
 */
export function clockBase (): number {
  const samples: number[] = []
  for (let i = 0; i < 101; i++) {
    const a = Number(process.hrtime.bigint()) / 1000
    const n = nowUs()
    const b = Number(process.hrtime.bigint()) / 1000
    samples.push(n - (a + b) / 2)
  }
  samples.sort((x, y) => x - y)
  return samples[50]
}

/** A cheap deterministic channel sequence (32-bit LCG, high bits). */
export function channelSource (seed: number): () => number {
  let x = seed >>> 0
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    return x >>> 22
  }
}

/**
 * 65,536 pseudo-random channels for the fast producers, read in turn: generating a channel per event
 * would cost the producer about as much as emitting it.
 */
export const CHANNEL_TABLE = ((): Uint16Array => {
  const next = channelSource(1)
  const t = new Uint16Array(65536)
  for (let i = 0; i < t.length; i++) t[i] = next()
  return t
})()

export function cpuSeconds (): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

export interface ProduceResult {
  emitted: number
  refused: number
  /** Events the senders dropped (queue full) and reported in loss notices. */
  dropped: number
  /** Events still queued when a stream ended (never sent). */
  undelivered: number
  lossNotices: number
  batches: number
  /** Times the producer waited for a sender to drain. */
  waits: number
  seconds: number
  cpuSeconds: number
}

/** A spikewire node with one `out` port, 'spikes'. */
export class NodePublisher {
  node!: SpikewireNode
  readonly maxBatchEvents: number

  constructor (maxBatchEvents: number) {
    this.maxBatchEvents = maxBatchEvents
  }

  async start (): Promise<string> {
    this.node = await createNode({
      name: 'bench-pub',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      ports: [{ name: 'spikes', direction: 'out', channels: CHANNELS }],
      maxBatchEvents: this.maxBatchEvents,
      // Every subscriber of the fan-out dials from 127.0.0.1 at once: allow more handshakes in progress
      // from one address than the default 8 (a guard against lock-out attacks, spec §11.4).
      limits: { queueEvents: QUEUE_EVENTS, maxPendingPerAddress: 64 }
    })
    return this.node.multiaddrs[0]
  }

  async waitSubscribers (n: number): Promise<void> {
    const port = this.node.outPort('spikes')
    while (port.senders.size < n) await new Promise(resolve => setTimeout(resolve, 5))
  }

  /**
   * Emit as fast as the streams take it for `seconds`: chunks of `chunk` events, then a yield so the port
   * flushes. Before each chunk it waits while any sender holds more than `queueLimit` queued events or
   * its stream asks to drain, so the senders' queues never overflow.
   */
  async runMax (seconds: number, chunk: number, queueLimit: number): Promise<ProduceResult> {
    const port = this.node.outPort('spikes')
    const table = CHANNEL_TABLE
    let k = 0
    const cpu0 = cpuSeconds()
    const start = performance.now()
    const end = start + seconds * 1000
    let t = Math.ceil(this.node.clock.nowUs())
    let waits = 0
    let chCol = new Uint32Array(0)
    let tCol = new Float64Array(0)
    while (performance.now() < end) {
      let busy = false
      for (const s of port.senders) {
        if (s.stats.queuedEvents > queueLimit) {
          busy = true
          if (s.framed.needsDrain) await s.framed.drain()
          break
        }
      }
      if (busy) {
        waits++
        await immediate()
        continue
      }
      const now = Math.ceil(this.node.clock.nowUs())
      if (now > t) t = now
      if (chCol.length < chunk) {
        chCol = new Uint32Array(chunk)
        tCol = new Float64Array(chunk)
      }
      for (let i = 0; i < chunk; i++) {
        chCol[i] = table[k++ & 0xffff]
        tCol[i] = t + (i >>> 6)
      }
      port.emitColumns(chCol, tCol, undefined, chunk)
      t += chunk >>> 6
      await immediate()
    }
    port.flush()
    await this.#settle()
    return { ...this.#totals(), waits, seconds: (performance.now() - start) / 1000, cpuSeconds: cpuSeconds() - cpu0 }
  }

  /** Emit one event every 1e6/rateHz µs (timer-driven) for `seconds`; each event's time is its emit time. */
  async runPaced (seconds: number, rateHz: number): Promise<ProduceResult> {
    const port = this.node.outPort('spikes')
    const nextChannel = channelSource(2)
    const cpu0 = cpuSeconds()
    const start = performance.now()
    const periodMs = 1000 / rateHz
    let n = 0
    await new Promise<void>(resolve => {
      const tick = (): void => {
        const elapsed = performance.now() - start
        if (elapsed >= seconds * 1000) return resolve()
        while (elapsed >= n * periodMs) {
          port.emit(nextChannel(), Math.round(this.node.clock.nowUs()))
          n++
        }
        setTimeout(tick, Math.max(0, n * periodMs - (performance.now() - start)))
      }
      tick()
    })
    await this.#settle()
    return { ...this.#totals(), waits: 0, seconds: (performance.now() - start) / 1000, cpuSeconds: cpuSeconds() - cpu0 }
  }

  async stop (): Promise<void> {
    await this.node.stop()
  }

  async #settle (): Promise<void> {
    const port = this.node.outPort('spikes')
    const deadline = performance.now() + 5000
    for (;;) {
      let queued = 0
      for (const s of port.senders) queued += s.stats.queuedEvents + (s.framed.needsDrain ? 1 : 0)
      if (queued === 0 || performance.now() > deadline) return
      await new Promise(resolve => setTimeout(resolve, 1))
    }
  }

  #totals (): Omit<ProduceResult, 'waits' | 'seconds' | 'cpuSeconds'> {
    const port = this.node.outPort('spikes')
    const r = { emitted: port.stats.emitted, refused: port.stats.refused, dropped: 0, undelivered: 0, lossNotices: 0, batches: 0 }
    for (const s of port.senders) {
      r.dropped += s.stats.dropped
      r.undelivered += s.stats.undelivered + s.stats.queuedEvents
      r.lossNotices += s.stats.lossNotices
      r.batches += s.stats.batches
    }
    return r
  }
}

export interface ReceiveResult {
  events: number
  batches: number
  gapEvents: number
  lostEvents: number
  /** Arrival of the first and last batch, nowUs(). */
  firstUs: number
  lastUs: number
  cpuSeconds: number
  /** One-way latencies (µs, on nowUs() of both sides, before any clock-base correction), when recorded. */
  latencies?: number[]
}

/** Counts what arrives; optionally records each event's latency (arrival nowUs() − event time). */
export class Tally {
  events = 0
  batches = 0
  firstUs = 0
  lastUs = 0
  readonly latencies: number[] | undefined
  #cpu0 = cpuSeconds()

  constructor (latency: boolean) {
    this.latencies = latency ? [] : undefined
  }

  add (b: Batch): void {
    const now = nowUs()
    if (this.batches === 0) {
      this.firstUs = now
      this.#cpu0 = cpuSeconds()
    }
    this.lastUs = now
    this.batches++
    this.events += b.count
    if (this.latencies !== undefined) for (let i = 0; i < b.count; i++) this.latencies.push(now - b.times[i])
  }

  result (gapEvents: number, lostEvents: number): ReceiveResult {
    const r: ReceiveResult = { events: this.events, batches: this.batches, gapEvents, lostEvents, firstUs: this.firstUs, lastUs: this.lastUs, cpuSeconds: cpuSeconds() - this.#cpu0 }
    if (this.latencies !== undefined) r.latencies = this.latencies
    return r
  }
}

/** `count` spikewire nodes, each subscribed to the publisher's 'spikes' port. */
export class NodeSubscribers {
  readonly nodes: SpikewireNode[] = []
  readonly subs: Subscription[] = []
  readonly tallies: Tally[] = []

  async start (addr: string, count: number, maxEvents: number, latency: boolean, clockSync = true): Promise<void> {
    for (let i = 0; i < count; i++) {
      const node = await createNode({ name: `bench-sub-${i}`, listen: [] }, clockSync ? {} : { clockSync: false })
      const sub = node.subscribe(addr, 'spikes', { maxEvents, reconnect: false })
      const tally = new Tally(latency)
      sub.onBatch(d => { tally.add(d.batch) })
      this.nodes.push(node)
      this.subs.push(sub)
      this.tallies.push(tally)
    }
    await Promise.all(this.subs.map(async s => { await s.ready() }))
  }

  /** Wait until every subscription has accounted for `expect` events (or 3 s without progress). */
  async collect (expect: number): Promise<ReceiveResult[]> {
    let last = -1
    let since = performance.now()
    for (;;) {
      let total = 0
      let done = true
      for (const s of this.subs) {
        const seen = s.stats.events + s.stats.lostEvents + s.stats.gapEvents
        total += seen
        if (seen < expect) done = false
      }
      if (done) break
      if (total !== last) {
        last = total
        since = performance.now()
      } else if (performance.now() - since > 3000) break
      await new Promise(resolve => setTimeout(resolve, 2))
    }
    return this.subs.map((s, i) => this.tallies[i].result(s.stats.gapEvents, s.stats.lostEvents))
  }

  async stop (): Promise<void> {
    await Promise.all(this.nodes.map(async n => { await n.stop() }))
  }
}
