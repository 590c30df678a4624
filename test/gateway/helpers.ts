/** A legacy 2020-format program for tests: a UDP socket on loopback that sends datagrams and collects replies. */
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import type { ExecutionContext } from 'ava'
import { decodeDatagram } from '../../src/gateway/udp2020/datagram.ts'
import type { Datagram } from '../../src/gateway/udp2020/datagram.ts'

export class Legacy {
  readonly socket: Socket
  readonly received: Array<Datagram & { atUs: number }> = []
  #to: { host: string, port: number }

  private constructor (socket: Socket, to: string) {
    this.socket = socket
    const i = to.lastIndexOf(':')
    this.#to = { host: to.slice(0, i), port: Number(to.slice(i + 1)) }
    socket.on('message', msg => {
      const d = decodeDatagram(msg)
      if (d !== undefined) this.received.push({ ...d, atUs: (performance.timeOrigin + performance.now()) * 1000 })
    })
  }

  /** A socket bound to 127.0.0.1 (any port, or `port`), sending to `to` ("host:port"); closed when the test ends. */
  static async open (t: ExecutionContext, to: string, port = 0): Promise<Legacy> {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve, reject) => { socket.once('error', reject); socket.bind(port, '127.0.0.1', () => { resolve() }) })
    t.teardown(() => { try { socket.close() } catch { /* closed by the test already */ } })
    return new Legacy(socket, to)
  }

  get address (): string {
    const a = this.socket.address()
    return `${a.address}:${a.port}`
  }

  async send (bytes: Uint8Array): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.socket.send(bytes, this.#to.port, this.#to.host, err => { if (err != null) reject(err); else resolve() })
    })
  }

  close (): void {
    this.socket.close()
  }
}

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
