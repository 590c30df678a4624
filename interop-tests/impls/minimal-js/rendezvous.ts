/**
 * The rendezvous client (interop-tests/README.md, "Rendezvous"): JSON lines over TCP, one request at a
 * time per connection.
 */
import { createConnection } from 'node:net'
import type { Socket } from 'node:net'

export class Rendezvous {
  readonly #socket: Socket
  readonly #answers: Array<(a: Record<string, unknown>) => void> = []
  #buffer = ''

  constructor (address: string) {
    const i = address.lastIndexOf(':')
    this.#socket = createConnection({ host: address.slice(0, i), port: Number(address.slice(i + 1)) })
    this.#socket.setEncoding('utf8')
    this.#socket.on('data', (chunk: string) => {
      this.#buffer += chunk
      for (let nl = this.#buffer.indexOf('\n'); nl >= 0; nl = this.#buffer.indexOf('\n')) {
        const line = this.#buffer.slice(0, nl)
        this.#buffer = this.#buffer.slice(nl + 1)
        this.#answers.shift()?.(JSON.parse(line))
      }
    })
    this.#socket.on('error', () => {
      for (const a of this.#answers.splice(0)) a({ ok: false, error: 'rendezvous connection failed' })
    })
  }

  async #ask (req: Record<string, unknown>): Promise<Record<string, unknown>> {
    return await new Promise(resolve => {
      this.#answers.push(resolve)
      this.#socket.write(JSON.stringify(req) + '\n')
    })
  }

  async put (key: string, value: unknown): Promise<void> {
    const a = await this.#ask({ op: 'put', key, value })
    if (a.ok !== true) throw new Error(`rendezvous put ${key}: ${String(a.error)}`)
  }

  async get (key: string, timeoutMs: number): Promise<unknown> {
    const a = await this.#ask({ op: 'get', key, timeout_ms: timeoutMs })
    if (a.ok !== true) throw new Error(`rendezvous get ${key}: ${String(a.error)}`)
    return a.value
  }

  close (): void {
    this.#socket.end()
  }
}
