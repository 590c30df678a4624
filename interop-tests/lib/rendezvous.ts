/**
 * The rendezvous: a tiny key-value service on 127.0.0.1 that the harness runs for each test run, like the
 * Redis instance of libp2p/test-plans. One JSON object per line in each direction, answers in request
 * order:
 *
 *   {"op":"put","key":"k","value":<any JSON>}       → {"ok":true}
 *   {"op":"get","key":"k","timeout_ms":5000}         → {"ok":true,"value":<JSON>} once the key exists,
 *                                                      or {"ok":false,"error":"timeout"}
 *
 * A get blocks until the key is put (or its timeout passes); a put overwrites. Nothing else.
 */
import { createConnection, createServer } from 'node:net'
import type { AddressInfo, Server, Socket } from 'node:net'

const MAX_LINE = 1024 * 1024

export class RendezvousServer {
  readonly #values = new Map<string, unknown>()
  readonly #waiters = new Map<string, Array<(v: unknown) => void>>()
  readonly #sockets = new Set<Socket>()
  #server: Server | undefined

  /** Start listening on 127.0.0.1 (random port); returns "127.0.0.1:<port>". */
  async start (): Promise<string> {
    const server = createServer(socket => { this.#serve(socket) })
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => { resolve() })
    })
    const a = server.address() as AddressInfo
    return `127.0.0.1:${a.port}`
  }

  put (key: string, value: unknown): void {
    this.#values.set(key, value)
    const ws = this.#waiters.get(key) ?? []
    this.#waiters.delete(key)
    for (const w of ws) w(value)
  }

  get (key: string): unknown {
    return this.#values.get(key)
  }

  /** Everything put so far (for the run's record). */
  snapshot (): Record<string, unknown> {
    return Object.fromEntries(this.#values)
  }

  async stop (): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    const server = this.#server
    if (server === undefined) return
    await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  }

  #serve (socket: Socket): void {
    this.#sockets.add(socket)
    socket.setEncoding('utf8')
    let buffer = ''
    // Answers go out in request order even when a get waits: chain them.
    let chain = Promise.resolve()
    socket.on('data', (chunk: string) => {
      buffer += chunk
      if (buffer.length > MAX_LINE) {
        socket.destroy()
        return
      }
      let nl: number
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim()
        buffer = buffer.slice(nl + 1)
        if (line === '') continue
        const answer = this.#answer(line)
        chain = chain.then(async () => {
          const a = await answer
          if (!socket.destroyed) socket.write(JSON.stringify(a) + '\n')
        })
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => { this.#sockets.delete(socket) })
  }

  async #answer (line: string): Promise<Record<string, unknown>> {
    let req: { op?: unknown, key?: unknown, value?: unknown, timeout_ms?: unknown }
    try {
      req = JSON.parse(line)
    } catch {
      return { ok: false, error: 'not JSON' }
    }
    if (typeof req.key !== 'string' || req.key === '') return { ok: false, error: 'key must be a non-empty string' }
    const key = req.key
    if (req.op === 'put') {
      this.put(key, req.value ?? null)
      return { ok: true }
    }
    if (req.op !== 'get') return { ok: false, error: 'op must be "put" or "get"' }
    if (this.#values.has(key)) return { ok: true, value: this.#values.get(key) }
    const timeoutMs = typeof req.timeout_ms === 'number' && req.timeout_ms >= 0 ? req.timeout_ms : 10_000
    return await new Promise(resolve => {
      const timer = setTimeout(() => {
        const ws = this.#waiters.get(key)
        if (ws !== undefined) this.#waiters.set(key, ws.filter(w => w !== waiter))
        resolve({ ok: false, error: 'timeout' })
      }, timeoutMs)
      // A get still waiting when the run ends must not keep the harness alive.
      timer.unref()
      const waiter = (value: unknown): void => {
        clearTimeout(timer)
        resolve({ ok: true, value })
      }
      const ws = this.#waiters.get(key) ?? []
      ws.push(waiter)
      this.#waiters.set(key, ws)
    })
  }
}

/** A client of the rendezvous: one connection, requests answered in order. */
export class RendezvousClient {
  readonly #socket: Socket
  readonly #pending: Array<(answer: Record<string, unknown>) => void> = []
  #buffer = ''
  #error: Error | undefined

  constructor (address: string) {
    const i = address.lastIndexOf(':')
    if (i < 0) throw new RangeError(`rendezvous address must be host:port, got "${address}"`)
    this.#socket = createConnection({ host: address.slice(0, i), port: Number(address.slice(i + 1)) })
    this.#socket.setEncoding('utf8')
    this.#socket.on('data', (chunk: string) => {
      this.#buffer += chunk
      let nl: number
      while ((nl = this.#buffer.indexOf('\n')) >= 0) {
        const line = this.#buffer.slice(0, nl)
        this.#buffer = this.#buffer.slice(nl + 1)
        this.#pending.shift()?.(JSON.parse(line))
      }
    })
    this.#socket.on('error', err => { this.#fail(err) })
    this.#socket.on('close', () => { this.#fail(new Error('the rendezvous closed the connection')) })
  }

  async put (key: string, value: unknown): Promise<void> {
    const a = await this.#request({ op: 'put', key, value })
    if (a.ok !== true) throw new Error(`rendezvous put ${key}: ${String(a.error)}`)
  }

  /** Wait for `key` and return its value; throws after `timeoutMs`. */
  async get<T = unknown> (key: string, timeoutMs = 10_000): Promise<T> {
    const a = await this.#request({ op: 'get', key, timeout_ms: timeoutMs })
    if (a.ok !== true) throw new Error(`rendezvous get ${key}: ${String(a.error)}`)
    return a.value as T
  }

  close (): void {
    this.#socket.end()
  }

  async #request (req: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.#error !== undefined) throw this.#error
    return await new Promise((resolve, reject) => {
      this.#pending.push(resolve)
      this.#socket.write(JSON.stringify(req) + '\n', err => { if (err != null) reject(err) })
    })
  }

  #fail (err: Error): void {
    this.#error ??= err
    for (const p of this.#pending.splice(0)) p({ ok: false, error: err.message })
  }
}
