/**
 * The raw-TCP baseline of the stream benchmark: the same framed batches as a spikewire stream
 * (packColumns + encodePackedBatch) over a plain node:net socket, no Noise, no Yamux, no OutPort, decoded
 * with the same FrameDecoder + decodeMessage.
 */
import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'
import { setImmediate as immediate } from 'node:timers/promises'
import { FrameDecoder, decodeMessage, encodePackedBatch, packColumns } from '../src/index.ts'
import type { DecodeOptions } from '../src/index.ts'
import { CHANNELS, CHANNEL_TABLE, Tally, channelSource, cpuSeconds, nowUs } from './stream-roles.ts'
import type { ProduceResult, ReceiveResult } from './stream-roles.ts'

/** Bytes the sender lets node:net buffer before it waits for 'drain'. */
const RAW_WRITE_BUFFER = 1024 * 1024

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
    const table = CHANNEL_TABLE
    let k = 0
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
        ch[i] = table[k++ & 0xffff]
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
