/**
 * A push link: a local `out` port feeding a remote `in` port (spec §9.2, push mode), kept up across
 * restarts and disconnects like a subscription. Events emitted while the link is down are not queued
 * for it (it is a live link); the time without a link is reported in the stats.
 *
 * Events: 'status' (LinkStatus). A receiver's close{code} other than normal ends the stream with a
 * RemoteCloseError carrying that code.
 */
import type { Libp2p } from '@libp2p/interface'
import { MIN_MAX_EVENTS, RemoteCloseError, StreamError, remoteCloseError } from '../../codec/index.ts'
import type { Open } from '../../codec/index.ts'
import type { OutPort } from '../../ports/out-port.ts'
import { DEFAULTS } from '../../wire/defaults.ts'
import { ReconnectingLink } from '../../wire/link.ts'
import type { LinkStatus, ReconnectOptions, Session } from '../../wire/reconnect.ts'
import { isPermanentRefusal, openEventsStream } from './events-client.ts'
import { EventSender, SENDER_COUNTS } from '../../wire/sender.ts'
import { StreamTotals } from '../../wire/totals.ts'
import type { SenderStats } from '../../wire/sender.ts'
import type { Target } from '../../wire/target.ts'

export interface PushOptions {
  /** Only these channels of the local port are sent (strictly ascending). */
  channels?: number[]
  /** Requested synaptic delay at the receiver, µs. */
  delay?: number
  reconnect?: ReconnectOptions | false
  queueEvents?: number
  queueBytes?: number
  slowConsumerMs?: number
  maxFrameBytes?: number
  signal?: AbortSignal
  /** The first sequence number of each stream (tests of the 2^53 − 1 bound; default 0, spec §9.2.4). */
  firstSeq?: number
}

/** The sender counts a push link sums over its streams (the queue is the current stream's). */

export interface PushLinkStats extends SenderStats {
  connects: number
}

/**
 * Errors after which pushing again cannot help: a permanent refusal, or ports that do not fit (found here,
 * or reported by the receiver's close before accept).
 */
function isPermanentPushError (err: Error): boolean {
  return isPermanentRefusal(err) || ((err instanceof StreamError || err instanceof RemoteCloseError) &&
    (err.code === 'kind-mismatch' || err.code === 'channel-out-of-range'))
}

export interface PushLinkEvents {
  status: CustomEvent<LinkStatus>
}

export class PushLink extends ReconnectingLink<PushLinkEvents> {
  readonly port: OutPort
  readonly remotePort: string
  peer = ''
  readonly #libp2p: Libp2p
  readonly #target: Target
  readonly #open: Open
  readonly #options: PushOptions
  #connects = 0
  /** Each stream's sender keeps its counts; the link sums them over its streams (see `stats`). */
  readonly #totals = new StreamTotals(SENDER_COUNTS)
  /** The current stream's sender, for its queue. */
  #sender: EventSender | undefined

  constructor (libp2p: Libp2p, port: OutPort, target: Target, remotePort: string, options: PushOptions = {}) {
    super({ name: 'push link', reconnect: options.reconnect, signal: options.signal, isPermanent: isPermanentPushError })
    this.port = port
    this.remotePort = remotePort
    this.#libp2p = libp2p
    this.#target = target
    this.#options = options
    this.#open = { type: 'open', mode: 'push', port: remotePort, source: port.name }
    if (options.channels !== undefined) this.#open.channels = options.channels
    if (options.delay !== undefined) this.#open.delay = options.delay
    this.start()
  }

  /**
   * Counts across every stream of this link: each stream's sender keeps its counts (the one place they are
   * kept); these are the sums over the streams that ended and the current one. `queuedEvents` is the
   * current stream's queue.
   */
  get stats (): PushLinkStats {
    const c = this.#sender?.stats
    return { connects: this.#connects, ...this.#totals.totals(), queuedEvents: c?.queuedEvents ?? 0, queuedBytes: c?.queuedBytes ?? 0 }
  }

  /** Close the link: send what is queued, close{normal}, stop reconnecting (the node's stop uses close{shutdown}). */
  override async close (): Promise<void> {
    await super.close()
  }

  protected override async openSession (signal: AbortSignal): Promise<Session> {
    const open = this.#open
    const options = this.#options
    const ended = Promise.withResolvers<Error | undefined>()
    let sender: EventSender | undefined
    let finished = false
    const attached: { detach?: () => void, endCounting?: () => void } = {}
    const finish = (err?: Error): void => {
      finished = true
      attached.detach?.()
      if (sender !== undefined) {
        sender.ended()
        attached.endCounting?.()
        if (this.#sender === sender) this.#sender = undefined
        sender = undefined
      }
      ended.resolve(err)
    }
    const opened = await openEventsStream(this.#libp2p, this.#target, open, { signal, maxFrameBytes: options.maxFrameBytes, onClose: err => { finish(err) } })
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
    this.#connects++
    const s = new EventSender({
      framed,
      peer: opened.peer,
      maxEvents: accept.maxEvents ?? MIN_MAX_EVENTS,
      filter: open.channels,
      queueEvents: options.queueEvents,
      queueBytes: options.queueBytes,
      slowConsumerMs: options.slowConsumerMs,
      firstSeq: options.firstSeq
    })
    sender = s
    this.#sender = s
    attached.endCounting = this.#totals.add(s)
    attached.detach = this.port.attach(s)
    // The stream may have ended between accept and here (e.g. the receiver ended its write side).
    if (finished) finish()
    opened.setHandler(msg => {
      if (msg.type !== 'close') throw new StreamError('unexpected-message', `${msg.type} is not allowed from the receiver of a push`)
      finish(remoteCloseError(msg))
      void framed.stream.close().catch(() => {})
    })
    this.markReady()
    return {
      ended: ended.promise,
      close: async code => {
        // What is numbered and queued leaves before the close; on shutdown within DEFAULTS.stopFlushMs.
        attached.detach?.()
        await s.close({ code, signal: code === 'shutdown' ? AbortSignal.timeout(DEFAULTS.stopFlushMs) : undefined })
      }
    }
  }
}
