import { connect, createServer } from 'node:net'
import type { Server, Socket } from 'node:net'

export interface TestServer {
  port: number
  server: Server
  sockets: Set<Socket>
  close(): Promise<void>
}

/** A TCP server on 127.0.0.1 that hands each connection to `onSocket`. */
export async function startServer (onSocket: (socket: Socket) => void): Promise<TestServer> {
  const sockets = new Set<Socket>()
  const server = createServer({ noDelay: true, allowHalfOpen: true }, socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    onSocket(socket)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  if (addr == null || typeof addr === 'string') throw new Error('no address')
  return {
    port: addr.port,
    server,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}

/** An echo server: writes back every byte it reads, ends when the client ends. */
export async function startEchoServer (): Promise<TestServer> {
  return await startServer(socket => { socket.pipe(socket) })
}

/** Connect to 127.0.0.1:port with Nagle off. */
export async function dial (port: number): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true, allowHalfOpen: true })
    socket.once('connect', () => { socket.off('error', reject); resolve(socket) })
    socket.once('error', reject)
  })
}

/** Reads fixed-size frames from a socket in order. */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0)
  #waiters: Array<(b: Buffer) => void> = []
  #frames: Buffer[] = []

  constructor (socket: Socket, size: number, onFrame?: (frame: Buffer) => void) {
    socket.on('data', (data: Buffer) => {
      this.#buf = this.#buf.length === 0 ? data : Buffer.concat([this.#buf, data])
      while (this.#buf.length >= size) {
        const frame = this.#buf.subarray(0, size)
        this.#buf = this.#buf.subarray(size)
        if (onFrame != null) onFrame(frame)
        else {
          const w = this.#waiters.shift()
          if (w != null) w(frame)
          else this.#frames.push(frame)
        }
      }
    })
  }

  async next (): Promise<Buffer> {
    const f = this.#frames.shift()
    if (f != null) return f
    return await new Promise(resolve => this.#waiters.push(resolve))
  }
}

/** Milliseconds on the process's monotonic clock. */
export function nowMs (): number {
  return performance.now()
}

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** The p-quantile (0 ≤ p ≤ 1) of `xs`, nearest rank. */
export function quantile (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]
}

export function std (xs: number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1))
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Resolve when `socket` closes; with the error it emitted, if any. */
export async function closed (socket: Socket): Promise<Error | undefined> {
  return await new Promise(resolve => {
    let error: Error | undefined
    socket.on('error', err => { error = err })
    if (socket.destroyed) { resolve(error); return }
    socket.once('close', () => { resolve(error) })
  })
}
