import { logger } from '@libp2p/logger'
import { DelayLine } from './delay-line.ts'
import type { Clock } from '../base/clock.ts'
import type { ResolvedLinkParams } from './link.ts'
import type { Prng } from '../base/prng.ts'
import type { DirectionCounters } from './stats.ts'
import type { Socket } from 'node:net'

const log = logger('spikewire:netem')

/** What a connection needs from its proxy. */
export interface PipeHost {
  readonly clock: Clock
  /** Add a pipe with queued chunks to the set the shared timer serves, and wake at its next due time. */
  activate(pipe: Pipe): void
  /** Forget a connection whose two sockets have closed. */
  forget(conn: ProxiedConnection): void
}

/** Close a socket abruptly: RST when the runtime can send one, otherwise a plain destroy. */
export function resetSocket (socket: Socket): void {
  if (socket.destroyed) return
  if (typeof socket.resetAndDestroy === 'function') {
    try {
      socket.resetAndDestroy()
      return
    } catch (err) {
      log.trace('resetAndDestroy failed, destroying: %e', err)
    }
  }
  socket.destroy()
}

/** One direction of one connection: reads from `source`, delays, writes to `sink`, bounded. */
export class Pipe {
  readonly line: DelayLine
  readonly #host: PipeHost
  readonly #source: Socket
  readonly #sink: Socket
  readonly #counters: DirectionCounters
  #paused = false
  #sourceEnded = false
  #sinkGone = false

  constructor (host: PipeHost, source: Socket, sink: Socket, params: ResolvedLinkParams, rng: Prng, counters: DirectionCounters) {
    this.#host = host
    this.#source = source
    this.#sink = sink
    this.#counters = counters
    this.line = new DelayLine(params, rng)
    source.on('data', (data: Buffer) => { this.#onData(data) })
    source.on('end', () => { this.#sourceEnded = true; this.#maybeEnd() })
    sink.on('drain', () => { this.#maybeResume() })
  }

  /** Bytes held for this direction: delay queue plus the sink's unsent write buffer. */
  get heldBytes (): number {
    return this.line.queuedBytes + (this.#sinkGone ? 0 : this.#sink.writableLength)
  }

  setParams (params: ResolvedLinkParams): void {
    this.line.setParams(params)
    this.#maybeResume()
  }

  /** Write every chunk due at `nowUs` to the sink. */
  release (nowUs: number): void {
    const chunks = this.line.takeDue(nowUs)
    if (chunks.length === 0) return
    if (this.#sinkGone) {
      for (const c of chunks) this.#counters.droppedBytes += c.data.byteLength
      return
    }
    const writeUs = this.#host.clock.nowUs()
    this.#sink.cork()
    for (const c of chunks) {
      this.#sink.write(c.data)
      this.#counters.bytes += c.data.byteLength
      this.#counters.chunks++
      this.#counters.addedDelay.add(writeUs - c.arrivalUs)
      this.#counters.late.add(writeUs - c.releaseUs)
    }
    this.#sink.uncork()
    this.#maybeEnd()
    this.#maybeResume()
  }

  /** The sink closed: nothing more can be delivered, so queued and future bytes are dropped. */
  sinkClosed (): void {
    this.#sinkGone = true
    this.drop()
    this.#maybeResume()
  }

  /** Discard the queued bytes (counted as dropped). */
  drop (): void {
    this.#counters.droppedBytes += this.line.queuedBytes
    this.line.clear()
  }

  #onData (data: Buffer): void {
    const arrivalUs = this.#host.clock.nowUs()
    if (this.#sinkGone) {
      this.#counters.droppedBytes += data.byteLength
      return
    }
    this.line.push(data, arrivalUs)
    this.#host.activate(this)
    const held = this.heldBytes
    if (held > this.#counters.peakQueuedBytes) this.#counters.peakQueuedBytes = held
    if (!this.#paused && held > this.line.params.queueBytes) {
      this.#paused = true
      this.#counters.pauses++
      this.#source.pause()
    }
  }

  #maybeResume (): void {
    if (!this.#paused) return
    // Resume at half the bound, or when the delay queue is empty and the sink does not ask for a drain
    // (no 'drain' event would come to wake us up).
    const idleSink = this.line.queuedChunks === 0 && !this.#sink.writableNeedDrain
    if (this.#sinkGone || idleSink || this.heldBytes <= this.line.params.queueBytes / 2) {
      this.#paused = false
      this.#source.resume()
    }
  }

  #maybeEnd (): void {
    if (this.#sourceEnded && this.line.queuedChunks === 0 && !this.#sinkGone && !this.#sink.writableEnded) {
      this.#sink.end()
    }
  }
}

/** An accepted client socket joined to its own socket to the target, one Pipe per direction. */
export class ProxiedConnection {
  readonly id: number
  readonly up: Pipe
  readonly down: Pipe
  readonly #client: Socket
  readonly #server: Socket
  #open = 2
  #ended = false

  constructor (host: PipeHost, id: number, client: Socket, server: Socket, init: ConnectionInit) {
    this.id = id
    this.#client = client
    this.#server = server
    this.up = new Pipe(host, client, server, init.up, init.upRandom, init.upCounters)
    this.down = new Pipe(host, server, client, init.down, init.downRandom, init.downCounters)
    const onError = (side: string, other: Socket) => (err: Error) => {
      log('connection %d: %s socket error %s, resetting the other side', id, side, (err as NodeJS.ErrnoException).code ?? err.message)
      this.up.drop()
      this.down.drop()
      resetSocket(other)
    }
    client.on('error', onError('client', server))
    server.on('error', onError('target', client))
    const onClose = (pipeToIt: Pipe) => () => {
      pipeToIt.sinkClosed()
      if (--this.#open === 0) host.forget(this)
    }
    client.on('close', onClose(this.down))
    server.on('close', onClose(this.up))
  }

  /** True once reset() or destroy() was called. */
  get ended (): boolean {
    return this.#ended
  }

  /** Drop everything in flight and reset both sockets (RST where possible). */
  reset (): void {
    this.#ended = true
    this.up.drop()
    this.down.drop()
    resetSocket(this.#client)
    resetSocket(this.#server)
  }

  /** Drop everything in flight and close both sockets. */
  destroy (): void {
    this.#ended = true
    this.up.drop()
    this.down.drop()
    this.#client.destroy()
    this.#server.destroy()
  }
}

export interface ConnectionInit {
  up: ResolvedLinkParams
  down: ResolvedLinkParams
  upRandom: Prng
  downRandom: Prng
  upCounters: DirectionCounters
  downCounters: DirectionCounters
}
