import { createConnection, createServer } from 'node:net'
import { logger } from '@libp2p/logger'
import { SystemClock } from '../base/clock.ts'
import { assertLoopback } from './address.ts'
import { ProxiedConnection, resetSocket } from './connection.ts'
import { NetemAddressError, NetemClosedError, NetemParamsError } from './errors.ts'
import { DEFAULT_LINK, resolveLink } from './link.ts'
import { PreciseTimer } from './precise-timer.ts'
import { prng } from '../base/prng.ts'
import type { Prng } from '../base/prng.ts'
import { DirectionCounters } from './stats.ts'
import type { Clock } from '../base/clock.ts'
import type { Pipe, PipeHost } from './connection.ts'
import type { CutOptions, DelayProxy, DelayProxyInit, DelayProxyStats, Direction, HostPort } from './index.ts'
import type { LinkParams, ResolvedLinkParams } from './link.ts'
import type { Server, Socket } from 'node:net'

const log = logger('spikewire:netem')

/**
 * Start a delay proxy listening on `init.listen` and forwarding to `init.target` (both loopback only,
 * otherwise NetemAddressError). Resolves once it is listening.
 */
export async function createDelayProxy (init: DelayProxyInit, options: { signal?: AbortSignal } = {}): Promise<DelayProxy> {
  assertLoopback('listen', init.listen.host, init.listen.port)
  assertLoopback('target', init.target.host, init.target.port)
  const up = resolveLink(DEFAULT_LINK, init.up)
  const down = resolveLink(DEFAULT_LINK, init.down)
  options.signal?.throwIfAborted()
  const proxy = new DelayProxyImpl(init, up, down)
  try {
    await proxy.listen(init.listen, options.signal)
  } catch (err) {
    await proxy.close()
    throw err
  }
  return proxy
}

class DelayProxyImpl implements DelayProxy, PipeHost {
  readonly clock: Clock
  readonly #server: Server
  readonly #target: HostPort
  /** The generator whose sub-streams 2·id and 2·id + 1 jitter connection id's two directions. */
  readonly #random: Prng
  readonly #timer: PreciseTimer
  readonly #params: Record<Direction, ResolvedLinkParams>
  readonly #counters = { up: new DirectionCounters(), down: new DirectionCounters() }
  readonly #connections = new Set<ProxiedConnection>()
  readonly #active = new Set<Pipe>()
  #address = ''
  #port = 0
  #nextId = 0
  #refusing = false
  #refused = 0
  #cut = 0
  #closing: Promise<void> | undefined

  constructor (init: DelayProxyInit, up: ResolvedLinkParams, down: ResolvedLinkParams) {
    this.clock = init.clock ?? new SystemClock()
    this.#target = { ...init.target }
    const seed = init.seed ?? 0
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 53) throw new NetemParamsError(`seed must be an integer in [0, 2^53), got ${seed}`)
    this.#random = prng(seed)
    this.#params = { up, down }
    this.#timer = new PreciseTimer(this.clock, nowUs => { this.#fire(nowUs) }, init.spinMs ?? 1)
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, socket => { this.#accept(socket) })
    this.#server.on('error', err => { log.error('listener error: %e', err) })
  }

  get address (): string { return this.#address }
  get port (): number { return this.#port }

  async listen (at: HostPort, signal?: AbortSignal): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => { cleanup(); reject(err) }
      const onAbort = (): void => {
        cleanup()
        // The bind may still complete: close the listener as soon as it does.
        this.#server.once('listening', () => { this.#server.close() })
        reject(signal?.reason)
      }
      const cleanup = (): void => {
        this.#server.off('error', onError)
        signal?.removeEventListener('abort', onAbort)
      }
      this.#server.once('error', onError)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#server.listen({ host: at.host, port: at.port, exclusive: true }, () => { cleanup(); resolve() })
    })
    const bound = this.#server.address()
    if (bound == null || typeof bound === 'string') throw new NetemAddressError(`the listener at ${at.host}:${at.port} has no TCP address`)
    this.#address = bound.address
    this.#port = bound.port
    log('listening on %s:%d, forwarding to %s:%d', this.#address, this.#port, this.#target.host, this.#target.port)
  }

  set (dir: Direction | 'both', patch: LinkParams): void {
    this.#assertOpen()
    const dirs: Direction[] = dir === 'both' ? ['up', 'down'] : [dir]
    const next = dirs.map(d => resolveLink(this.#params[d], patch))
    dirs.forEach((d, i) => { this.#params[d] = next[i] })
    for (const conn of this.#connections) {
      for (const d of dirs) conn[d].setParams(this.#params[d])
    }
    log('set %s %o', dir, patch)
  }

  params (dir: Direction): ResolvedLinkParams {
    return { ...this.#params[dir] }
  }

  cut (opts: CutOptions = {}): number {
    this.#assertOpen()
    this.#refusing = opts.refuseNew ?? false
    let n = 0
    for (const conn of this.#connections) {
      if (conn.ended) continue
      conn.reset()
      n++
    }
    this.#cut += n
    log('cut %d connections%s', n, this.#refusing ? ', refusing new ones' : '')
    return n
  }

  restore (): void {
    this.#assertOpen()
    this.#refusing = false
    log('restored')
  }

  stats (): DelayProxyStats {
    let upBytes = 0; let upChunks = 0; let downBytes = 0; let downChunks = 0
    for (const conn of this.#connections) {
      upBytes += conn.up.heldBytes
      upChunks += conn.up.line.queuedChunks
      downBytes += conn.down.heldBytes
      downChunks += conn.down.line.queuedChunks
    }
    return {
      up: this.#counters.up.snapshot(upBytes, upChunks),
      down: this.#counters.down.snapshot(downBytes, downChunks),
      connections: { open: this.#connections.size, accepted: this.#nextId, refused: this.#refused, cut: this.#cut }
    }
  }

  async close (options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.#closing ??= this.#shutdown()
    const signal = options.signal
    if (signal == null) return await this.#closing
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#closing?.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
    })
  }

  activate (pipe: Pipe): void {
    const due = pipe.line.nextDueUs()
    if (due === undefined) return
    this.#active.add(pipe)
    this.#timer.schedule(due)
  }

  forget (conn: ProxiedConnection): void {
    this.#connections.delete(conn)
    this.#active.delete(conn.up)
    this.#active.delete(conn.down)
    log.trace('connection %d closed', conn.id)
  }

  async #shutdown (): Promise<void> {
    this.#timer.stop()
    const closed = new Promise<void>(resolve => {
      if (!this.#server.listening) { resolve(); return }
      this.#server.close(() => { resolve() })
    })
    for (const conn of this.#connections) conn.destroy()
    this.#active.clear()
    await closed
    log('closed')
  }

  #assertOpen (): void {
    if (this.#closing != null) throw new NetemClosedError('the delay proxy is closed')
  }

  #fire (nowUs: number): void {
    let next = Infinity
    for (const pipe of this.#active) {
      pipe.release(nowUs)
      const due = pipe.line.nextDueUs()
      if (due === undefined) this.#active.delete(pipe)
      else if (due < next) next = due
    }
    if (next < Infinity) this.#timer.schedule(next)
  }

  #accept (client: Socket): void {
    if (this.#refusing || this.#closing != null) {
      this.#refused++
      client.on('error', () => {})
      resetSocket(client)
      return
    }
    const id = this.#nextId++
    const server = createConnection({ host: this.#target.host, port: this.#target.port, allowHalfOpen: true, noDelay: true })
    const conn = new ProxiedConnection(this, id, client, server, {
      up: this.#params.up,
      down: this.#params.down,
      upRandom: this.#random.fork((id * 2) % 2 ** 32),
      downRandom: this.#random.fork((id * 2 + 1) % 2 ** 32),
      upCounters: this.#counters.up,
      downCounters: this.#counters.down
    })
    this.#connections.add(conn)
    log.trace('connection %d accepted from %s:%d', id, client.remoteAddress, client.remotePort)
  }
}
