/**
 * `GET /metrics` over HTTP (node:http): the Prometheus text format of a scrape function, with its content
 * type; 404 for any other path, 405 for other methods on /metrics. One scrape at a time: a scrape that
 * arrives while another runs shares its result (Prometheus scrapes seldom; a flood of requests does not
 * multiply the work).
 */
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { logger } from '@libp2p/logger'
import { InvalidArgumentError } from '../base/errors.ts'
import { splitHostPort, urlHost } from '../base/host-port.ts'
import type { HostPort } from '../base/host-port.ts'

const log = logger('spikewire:metrics')

export const METRICS_PATH = '/metrics'

export interface MetricsSource {
  scrape: () => Promise<string>
  contentType: string
}

export type { HostPort }

/**
 * Parse `HOST:PORT` (`127.0.0.1:9464`, `[::1]:9464`, `0.0.0.0:0`; port 0 picks a free one). Throws
 * InvalidArgumentError naming what is wrong.
 */
export function parseHostPort (s: string): HostPort {
  const hp = splitHostPort(s)
  if (hp === undefined) throw new InvalidArgumentError(`${JSON.stringify(s)} is not HOST:PORT with a port up to 65535 (e.g. 127.0.0.1:9464 or [::1]:9464)`)
  return hp
}

export class MetricsServer {
  readonly #server: Server
  readonly #source: MetricsSource
  #inflight: Promise<string> | undefined

  private constructor (source: MetricsSource) {
    this.#source = source
    this.#server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]
      if (path !== METRICS_PATH) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n')
        return
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n')
        return
      }
      this.#scrape().then(text => {
        res.writeHead(200, { 'content-type': this.#source.contentType, 'content-length': Buffer.byteLength(text) })
        res.end(req.method === 'HEAD' ? undefined : text)
      }, (err: Error) => {
        log.error('scrape failed: %e', err)
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`scrape failed: ${err.message}\n`)
      })
    })
    // Bounded: a client that sends nothing is dropped.
    this.#server.requestTimeout = 10_000
    this.#server.headersTimeout = 5_000
  }

  /** Listen on `host:port` (port 0: a free port); resolves once listening. */
  static async listen (source: MetricsSource, at: HostPort): Promise<MetricsServer> {
    const s = new MetricsServer(source)
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject)
      s.#server.listen(at.port, at.host, () => {
        s.#server.off('error', reject)
        resolve()
      })
    })
    log('serving metrics on %s', s.url)
    return s
  }

  get address (): HostPort {
    const a = this.#server.address() as AddressInfo
    return { host: a.address, port: a.port }
  }

  /** http://HOST:PORT/metrics */
  get url (): string {
    const { host, port } = this.address
    return `http://${urlHost(host)}:${port}${METRICS_PATH}`
  }

  async #scrape (): Promise<string> {
    this.#inflight ??= this.#source.scrape().finally(() => { this.#inflight = undefined })
    return await this.#inflight
  }

  /** Stop listening and close every connection. */
  async stop (): Promise<void> {
    await new Promise<void>(resolve => {
      this.#server.close(() => { resolve() })
      this.#server.closeAllConnections()
    })
  }
}
