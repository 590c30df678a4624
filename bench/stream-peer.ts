/**
 * The roles of the stream benchmark (bench/stream.ts), usable in-process or in a child process.
 *
 * Run directly (`node bench/stream-peer.ts`) it is the benchmark's child: it reads one JSON command per
 * line on stdin ({ id, cmd, ...args }) and answers one JSON line per command on stdout
 * ({ id, result } or { id, error }). Nothing else is written to stdout.
 *
 * Roles: a spikewire publisher node (producer as fast as backpressure allows, or timer-driven at a fixed
 * rate), spikewire subscriber nodes, and the raw-TCP baseline (the same framed batches over node:net).
 */
import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { setImmediate as immediate } from 'node:timers/promises'
import { FrameDecoder, createNode, decodeMessage, encodePackedBatch, packColumns } from '../src/index.ts'
import type { Batch, DecodeOptions, SpikewireNode, Subscription } from '../src/index.ts'

export const CHANNELS = 1024
/** Events a sender may hold queued before it drops (the node's limits.queueEvents). */
export const QUEUE_EVENTS = 262_144
/** Bytes the raw-TCP sender lets node:net buffer before it waits for 'drain'. */
const RAW_WRITE_BUFFER = Number(process.env.RAW_WRITE_BUFFER ?? 1024 * 1024)

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
function channelSource (seed: number): () => number {
  let x = seed >>> 0
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    return x >>> 22
  }
}

function cpuSeconds (): number {
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
      limits: { queueEvents: QUEUE_EVENTS }
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
    const nextChannel = channelSource(1)
    const cpu0 = cpuSeconds()
    const start = performance.now()
    const end = start + seconds * 1000
    let t = Math.ceil(this.node.clock.nowUs())
    let waits = 0
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
      for (let i = 0; i < chunk; i++) port.emit(nextChannel(), t + (i >>> 6))
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
class Tally {
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

  async start (addr: string, count: number, maxEvents: number, latency: boolean): Promise<void> {
    for (let i = 0; i < count; i++) {
      const node = await createNode({ name: `bench-sub-${i}`, listen: [] })
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

/** Raw-TCP baseline sender: the same framed batches (packColumns + encodePackedBatch) over node:net. */
export class TcpPublisher {
  server!: Server
  #socket: Promise<Socket> | undefined

  async start (): Promise<number> {
    const socket = Promise.withResolvers<Socket>()
    this.#socket = socket.promise
    this.server = createServer(s => {
      s.setNoDelay(true)
      socket.resolve(s)
    })
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve))
    const a = this.server.address()
    if (a === null || typeof a === 'string') throw new Error('no TCP port')
    return a.port
  }

  /** As NodePublisher.runMax: chunks of events, batches of at most `batchEvents`, waiting on 'drain'. */
  async runMax (seconds: number, chunk: number, batchEvents: number): Promise<ProduceResult> {
    const socket = await this.#socket!
    const nextChannel = channelSource(1)
    const ch = new Uint32Array(chunk)
    const ts = new Float64Array(chunk)
    const cpu0 = cpuSeconds()
    const start = performance.now()
    const end = start + seconds * 1000
    let t = Math.ceil(nowUs())
    let seq = 0
    let batches = 0
    let waits = 0
    while (performance.now() < end) {
      if (socket.writableLength > RAW_WRITE_BUFFER) {
        waits++
        await new Promise(resolve => socket.once('drain', resolve))
      }
      const now = Math.ceil(nowUs())
      if (now > t) t = now
      for (let i = 0; i < chunk; i++) {
        ch[i] = nextChannel()
        ts[i] = t + (i >>> 6)
      }
      t += chunk >>> 6
      for (let from = 0; from < chunk; from += batchEvents) {
        const to = Math.min(chunk, from + batchEvents)
        socket.write(encodePackedBatch(seq, packColumns(ch, ts, undefined, from, to), true))
        seq += to - from
        batches++
      }
      await immediate()
    }
    while (socket.writableLength > 0) await new Promise(resolve => setTimeout(resolve, 1))
    return { emitted: seq, refused: 0, dropped: 0, undelivered: 0, lossNotices: 0, batches, waits, seconds: (performance.now() - start) / 1000, cpuSeconds: cpuSeconds() - cpu0 }
  }

  /** One event per framed batch, written at once, every 1e6/rateHz µs (timer-driven). */
  async runPaced (seconds: number, rateHz: number): Promise<ProduceResult> {
    const socket = await this.#socket!
    const nextChannel = channelSource(2)
    const ch = new Uint32Array(1)
    const ts = new Float64Array(1)
    const cpu0 = cpuSeconds()
    const start = performance.now()
    const periodMs = 1000 / rateHz
    let n = 0
    await new Promise<void>(resolve => {
      const tick = (): void => {
        const elapsed = performance.now() - start
        if (elapsed >= seconds * 1000) return resolve()
        while (elapsed >= n * periodMs) {
          ch[0] = nextChannel()
          ts[0] = Math.round(nowUs())
          socket.write(encodePackedBatch(n, packColumns(ch, ts, undefined, 0, 1), true))
          n++
        }
        setTimeout(tick, Math.max(0, n * periodMs - (performance.now() - start)))
      }
      tick()
    })
    return { emitted: n, refused: 0, dropped: 0, undelivered: 0, lossNotices: 0, batches: n, waits: 0, seconds: (performance.now() - start) / 1000, cpuSeconds: cpuSeconds() - cpu0 }
  }

  async stop (): Promise<void> {
    if (this.#socket !== undefined) (await this.#socket).destroy()
    await new Promise(resolve => this.server.close(resolve))
  }
}

/** Raw-TCP baseline receiver: FrameDecoder + decodeMessage, counting events and sequence gaps. */
export class TcpSubscriber {
  socket!: Socket
  #tally!: Tally
  #gapEvents = 0
  #error: Error | undefined

  async start (port: number, maxEvents: number, latency: boolean): Promise<void> {
    const decoder = new FrameDecoder()
    const options: DecodeOptions = { kind: 'spike', channels: CHANNELS, maxEvents }
    this.#tally = new Tally(latency)
    let expected = 0
    this.socket = connect(port, '127.0.0.1')
    this.socket.setNoDelay(true)
    this.socket.on('data', (chunk: Uint8Array) => {
      try {
        for (const body of decoder.push(chunk)) {
          const msg = decodeMessage(body, options)
          if (msg.type !== 'batch') throw new Error(`unexpected ${msg.type}`)
          if (msg.seq !== expected) this.#gapEvents += msg.seq - expected
          expected = msg.seq + msg.count
          this.#tally.add(msg)
        }
      } catch (err) {
        this.#error = err as Error
        this.socket.destroy()
      }
    })
    await new Promise<void>((resolve, reject) => {
      this.socket.once('connect', resolve)
      this.socket.once('error', reject)
    })
  }

  async collect (expect: number): Promise<ReceiveResult[]> {
    let last = -1
    let since = performance.now()
    while (this.#tally.events + this.#gapEvents < expect && this.#error === undefined) {
      if (this.#tally.events !== last) {
        last = this.#tally.events
        since = performance.now()
      } else if (performance.now() - since > 3000) break
      await new Promise(resolve => setTimeout(resolve, 2))
    }
    if (this.#error !== undefined) throw this.#error
    return [this.#tally.result(this.#gapEvents, 0)]
  }

  async stop (): Promise<void> {
    this.socket.destroy()
  }
}

type Command = { id: number, cmd: string } & Record<string, any>

/** The child's command loop: roles live in this process until 'exit'. */
async function serve (): Promise<void> {
  let pub: NodePublisher | TcpPublisher | undefined
  let sub: NodeSubscribers | TcpSubscriber | undefined
  const handlers: Record<string, (c: Command) => Promise<unknown>> = {
    clock: async () => ({ baseUs: clockBase() }),
    'pub.start': async c => {
      pub = c.tcp === true ? new TcpPublisher() : new NodePublisher(c.maxBatchEvents)
      return { addr: await pub.start() }
    },
    'pub.wait': async c => { if (pub instanceof NodePublisher) await pub.waitSubscribers(c.subscribers) },
    'pub.runMax': async c => pub instanceof TcpPublisher
      ? await pub.runMax(c.seconds, c.chunk, c.batchEvents)
      : await pub!.runMax(c.seconds, c.chunk, c.queueLimit),
    'pub.runPaced': async c => await pub!.runPaced(c.seconds, c.rateHz),
    'pub.stop': async () => { await pub?.stop(); pub = undefined },
    'sub.start': async c => {
      if (c.tcp === true) {
        const s = new TcpSubscriber()
        sub = s
        await s.start(c.addr, c.maxEvents, c.latency === true)
      } else {
        const s = new NodeSubscribers()
        sub = s
        await s.start(c.addr, c.count, c.maxEvents, c.latency === true)
      }
    },
    'sub.collect': async c => await sub!.collect(c.expect),
    'sub.stop': async () => { await sub?.stop(); sub = undefined },
    exit: async () => { setImmediate(() => process.exit(0)) }
  }
  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) {
    if (line.trim() === '') continue
    const c = JSON.parse(line) as Command
    const h = handlers[c.cmd]
    // Commands run concurrently: a collect may wait while nothing else is asked.
    void (async () => {
      try {
        if (h === undefined) throw new Error(`unknown command ${c.cmd}`)
        process.stdout.write(JSON.stringify({ id: c.id, result: await h(c) ?? null }) + '\n')
      } catch (err) {
        process.stdout.write(JSON.stringify({ id: c.id, error: String((err as Error).stack ?? err) }) + '\n')
      }
    })()
  }
}

if (import.meta.main) await serve()
