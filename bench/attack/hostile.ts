/**
 * The attacker's tools: plain libp2p peers (optionally dialling from another loopback address, so that
 * per-address limits see a different host than the legitimate peers on 127.0.0.1), streams that write
 * whatever the case wants and record what came back and how they ended, and raw TCP sockets.
 */
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { FrameDecoder, decodeMessage } from '../../src/codec/index.ts'
import type { Message, WireErrorCode } from '../../src/codec/index.ts'

export interface HostileInit {
  /** Local address the peer's TCP dials bind to (default: the system's choice, 127.0.0.1 on loopback). */
  localAddress?: string
  /** Listen for the target's own dials (the clock-reply case). */
  listen?: boolean
}

/** A libp2p peer with a fresh identity and no limits of its own worth speaking of. */
export async function hostilePeer (init: HostileInit = {}): Promise<Libp2p> {
  // @libp2p/tcp passes dialOpts on to net.connect; localAddress is one of net.connect's options.
  const dialOpts = (init.localAddress === undefined ? {} : { localAddress: init.localAddress }) as Record<string, unknown>
  return await createLibp2p({
    addresses: { listen: init.listen === true ? ['/ip4/127.0.0.1/tcp/0'] : [] },
    transports: [tcp({ dialOpts })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxInboundStreams: 4096, maxOutboundStreams: 4096 })],
    connectionManager: { inboundConnectionThreshold: 100_000, maxConnections: 10_000, maxIncomingPendingConnections: 1000 }
  })
}

/** A stream of the attacker's: the messages the target sent (unless paused) and how the stream ended. */
export class HostileStream {
  readonly stream: Stream
  readonly messages: Message[] = []
  /** Resolves when the stream has ended: 'reset' (with an error) or 'closed'. */
  readonly ended: Promise<'reset' | 'closed'>
  /** When the stream ended, ms (performance.now()). */
  endedAt = 0
  readonly openedAt = performance.now()
  received = 0
  readonly #decoder = new FrameDecoder({ maxFrameBytes: 4 * 1024 * 1024 })
  #onMessage: ((m: Message) => void) | undefined

  constructor (stream: Stream, options: { decode?: boolean, onMessage?: (m: Message) => void } = {}) {
    this.stream = stream
    this.#onMessage = options.onMessage
    const decode = options.decode ?? true
    stream.addEventListener('message', e => {
      this.received += e.data.byteLength
      if (!decode) return
      try {
        for (const f of this.#decoder.push(e.data)) {
          const m = decodeMessage(f)
          if (this.messages.length < 64) this.messages.push(m)
          this.#onMessage?.(m)
        }
      } catch {
        // garbage from the target would show as missing answers
      }
    })
    this.ended = new Promise(resolve => {
      stream.addEventListener('close', e => {
        this.endedAt = performance.now()
        resolve(e.error === undefined ? 'closed' : 'reset')
      }, { once: true })
    })
    stream.addEventListener('remoteCloseWrite', () => { void stream.close().catch(() => {}) })
  }

  /** A stand-in for a stream that could not be opened: ended, with nothing received. */
  static failed (): HostileStream {
    const target = new EventTarget() as unknown as Stream
    const s = new HostileStream(target)
    s.endedAt = performance.now()
    return s
  }

  get open (): boolean {
    return this.endedAt === 0
  }

  /** The first message of one of these types, waiting at most `ms`. */
  async first (types: Array<Message['type']>, ms: number): Promise<Message | undefined> {
    const end = performance.now() + ms
    while (performance.now() < end) {
      const m = this.messages.find(x => types.includes(x.type))
      if (m !== undefined) return m
      if (!this.open) break
      await sleep(10)
    }
    return this.messages.find(x => types.includes(x.type))
  }

  /** The code of the target's reject or close, if it sent one. */
  get code (): WireErrorCode | undefined {
    const m = this.messages.find(x => x.type === 'reject' || x.type === 'close')
    return m !== undefined && (m.type === 'reject' || m.type === 'close') ? m.code : undefined
  }

  /** Send, waiting for the stream to drain when it asks to (at most until `deadline`, performance.now() ms). */
  async send (bytes: Uint8Array, deadline: number): Promise<boolean> {
    if (!this.open) return false
    if (this.stream.send(bytes)) return true
    const left = deadline - performance.now()
    if (left <= 0) return false
    try {
      await this.stream.onDrain({ signal: AbortSignal.timeout(Math.ceil(left)) })
      return this.open
    } catch {
      return false
    }
  }

  abort (): void {
    if (this.open) this.stream.abort(new Error('attack over'))
  }
}

export async function openStream (peer: Libp2p, addr: string, protocol: string, options: { decode?: boolean, onMessage?: (m: Message) => void } = {}): Promise<HostileStream> {
  const stream = await peer.dialProtocol(multiaddr(addr), protocol, { signal: AbortSignal.timeout(10_000), maxOutboundStreams: 4096 })
  return new HostileStream(stream, options)
}

/** A raw TCP socket that connects and then says nothing; `closedAt` is set when the target closes it. */
export class SilentSocket {
  readonly socket: Socket
  readonly openedAt = performance.now()
  connectedAt = 0
  closedAt = 0
  readonly closed: Promise<void>

  constructor (host: string, port: number, localAddress?: string) {
    this.socket = connect({ host, port, localAddress })
    this.socket.on('connect', () => { this.connectedAt = performance.now() })
    this.socket.on('error', () => {})
    this.closed = new Promise(resolve => {
      this.socket.on('close', () => {
        this.closedAt = performance.now()
        resolve()
      })
    })
  }

  destroy (): void {
    this.socket.destroy()
  }
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Stop peers, a few at a time, each bounded. */
export async function stopAll (peers: Iterable<Libp2p>): Promise<void> {
  const list = [...peers]
  for (let i = 0; i < list.length; i += 32) {
    await Promise.allSettled(list.slice(i, i + 32).map(async p => {
      await Promise.race([p.stop(), sleep(5000)])
    }))
  }
}
