/**
 * A push link: a local `out` port feeding a remote `in` port (spec §9.2, push mode), kept up across
 * restarts and disconnects like a subscription. Events emitted while the link is down are not queued
 * for it (it is a live link); the time without a link is reported in the stats.
 *
 * Events: 'status' (LinkStatus).
 */
import { TypedEventEmitter } from 'main-event'
import type { Libp2p } from '@libp2p/interface'
import { MIN_MAX_EVENTS, StreamError } from '../../codec/index.ts'
import type { Open } from '../../codec/index.ts'
import type { OutPort } from '../../ports/out-port.ts'
import { PERMANENT_REJECTS, RejectedError, openEventsStream } from './events-client.ts'
import { reconnectLoop } from '../../wire/reconnect.ts'
import type { LinkState, LinkStatus, ReconnectOptions, Session } from '../../wire/reconnect.ts'
import { EventSender } from '../../wire/sender.ts'
import type { SenderStats } from '../../wire/sender.ts'
import type { Target } from '../../wire/target.ts'

export interface PushOptions {
  /** Only these channels of the local port are sent (strictly ascending). */
  channels?: number[]
  /** Requested synaptic delay at the receiver, µs. */
  delay?: number
  reconnect?: ReconnectOptions | false
  queueEvents?: number
  slowConsumerMs?: number
  maxFrameBytes?: number
  signal?: AbortSignal
}

export interface PushLinkStats extends SenderStats {
  connects: number
}

export interface PushLinkEvents {
  status: CustomEvent<LinkStatus>
}

export class PushLink extends TypedEventEmitter<PushLinkEvents> {
  readonly port: OutPort
  readonly remotePort: string
  readonly stats: PushLinkStats = { connects: 0, events: 0, batches: 0, watermarks: 0, dropped: 0, lossNotices: 0, undelivered: 0, queuedEvents: 0 }
  peer = ''
  state: LinkState = 'connecting'
  error: Error | undefined
  readonly #controller = new AbortController()
  readonly #done: Promise<void>
  readonly #firstOpen = Promise.withResolvers<void>()
  #current: { close: () => Promise<void> } | undefined

  constructor (libp2p: Libp2p, port: OutPort, target: Target, remotePort: string, options: PushOptions = {}) {
    super()
    this.port = port
    this.remotePort = remotePort
    this.#firstOpen.promise.catch(() => {})
    options.signal?.addEventListener('abort', () => { void this.close() }, { once: true })
    const open: Open = { type: 'open', mode: 'push', port: remotePort, source: port.name }
    if (options.channels !== undefined) open.channels = options.channels
    if (options.delay !== undefined) open.delay = options.delay
    this.#done = reconnectLoop({
      signal: this.#controller.signal,
      options: options.reconnect,
      isPermanent: err => (err instanceof RejectedError && PERMANENT_REJECTS.has(err.code)) ||
        (err instanceof StreamError && (err.code === 'kind-mismatch' || err.code === 'channel-out-of-range')),
      onStatus: s => {
        this.state = s.state
        this.safeDispatchEvent('status', { detail: s })
      },
      connect: async (signal) => await this.#connect(libp2p, target, open, options, signal)
    }).then(err => {
      this.error = err
      this.state = 'closed'
      this.safeDispatchEvent('status', { detail: err === undefined ? { state: 'closed', attempt: 0 } : { state: 'closed', attempt: 0, error: err } })
      this.#firstOpen.reject(err ?? new Error('push link closed'))
    })
  }

  async ready (): Promise<void> {
    await this.#firstOpen.promise
  }

  async done (): Promise<void> {
    await this.#done
  }

  /** Close the link: send what is queued, close{normal}, stop reconnecting. */
  async close (): Promise<void> {
    this.#controller.abort()
    await this.#current?.close()
    await this.#done
  }

  async #connect (libp2p: Libp2p, target: Target, open: Open, options: PushOptions, signal: AbortSignal): Promise<Session> {
    const ended = Promise.withResolvers<Error | undefined>()
    let sender: EventSender | undefined
    const attached: { detach?: () => void } = {}
    const finish = (err?: Error): void => {
      attached.detach?.()
      if (sender !== undefined) {
        sender.ended()
        this.#addStats(sender.stats)
        sender = undefined
      }
      ended.resolve(err)
    }
    const opened = await openEventsStream(libp2p, target, open, { signal, maxFrameBytes: options.maxFrameBytes, onClose: err => { finish(err) } })
    const { framed, accept } = opened
    if (accept.kind !== this.port.kind) {
      const err = new StreamError('kind-mismatch', `remote port ${accept.port} is ${accept.kind}, local port ${this.port.name} is ${this.port.kind}`)
      framed.fail(err)
      throw err
    }
    const highest = open.channels === undefined ? this.port.channels - 1 : open.channels[open.channels.length - 1]
    if (highest >= accept.channels) {
      const err = new StreamError('channel-out-of-range', `remote port ${accept.port} has ${accept.channels} channels; channel ${highest} would not fit (give a channel filter)`)
      framed.fail(err)
      throw err
    }
    this.peer = opened.peer
    this.stats.connects++
    sender = new EventSender({
      framed,
      peer: opened.peer,
      maxEvents: accept.maxEvents ?? MIN_MAX_EVENTS,
      filter: open.channels,
      queueEvents: options.queueEvents,
      slowConsumerMs: options.slowConsumerMs
    })
    attached.detach = this.port.attach(sender)
    opened.setHandler(msg => {
      if (msg.type !== 'close') throw new StreamError('unexpected-message', `${msg.type} is not allowed from the receiver of a push`)
      finish(msg.code === 'normal' ? undefined : new Error(`receiver closed the stream: ${String(msg.code)}`))
      void framed.stream.close().catch(() => {})
    })
    const s = sender
    this.#current = {
      close: async () => {
        attached.detach?.()
        await s.close()
      }
    }
    this.#firstOpen.resolve()
    return { ended: ended.promise }
  }

  #addStats (s: SenderStats): void {
    this.stats.events += s.events
    this.stats.batches += s.batches
    this.stats.watermarks += s.watermarks
    this.stats.dropped += s.dropped
    this.stats.lossNotices += s.lossNotices
    this.stats.undelivered += s.undelivered
  }
}
