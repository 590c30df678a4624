/**
 * A subscription to a remote `out` port (spec §9.2, subscribe mode) that survives the remote restarting
 * or the connection dropping: it reconnects with backoff, resubscribes, and reports the gap.
 *
 * Events: 'status' (LinkStatus), 'gap' (GapDetail), 'loss' (Loss notice from the sender),
 * 'watermark' ({ time }), 'close' (CloseDetail: each close the publisher sent, normal included, before or
 * after accept). Batches arrive through `onBatch` listeners or `for await`. A publisher's close{code} other
 * than normal ends the stream with a RemoteCloseError carrying that code.
 */
import type { Libp2p } from '@libp2p/interface'
import { DEFAULT_MAX_EVENTS, RemoteCloseError, errorCodeName, remoteCloseError } from '../../codec/index.ts'
import type { Loss, Open, WireErrorCode } from '../../codec/index.ts'
import { Inbox } from '../../wire/inbox.ts'
import type { Delivery } from '../../wire/inbox.ts'
import { ReconnectingLink } from '../../wire/link.ts'
import { EventReceiver } from '../../wire/receiver.ts'
import { StreamTotals } from '../../wire/totals.ts'
import type { LinkStatus, ReconnectOptions, Session } from '../../wire/reconnect.ts'
import { isPermanentRefusal, openEventsStream } from './events-client.ts'
import type { Target } from '../../wire/target.ts'
import { LatencyTracker } from '../clock/latency.ts'
import type { PeerClock } from '../clock/peer-clock.ts'
import type { PeerTime } from '../clock/peer-time.ts'

/** The counts a subscription takes from its receivers. */
const EVENT_COUNTS = ['batches', 'events', 'gapEvents', 'lostEvents', 'lossNotices', 'watermarks'] as const

/** The latency of a subscription that has no peer time (yet): always empty. */
const NO_LATENCY = new LatencyTracker({ window: 1 })

export interface SubscribeOptions {
  /** Only these channels (strictly ascending). */
  channels?: number[]
  /** Requested delivery delay, µs (informative to the publisher). */
  delay?: number
  /** Our per-batch receive limit (default 65,536). */
  maxEvents?: number
  /** Name of the local port the events go to (informative). */
  source?: string
  /** Reconnect policy; false to end with the first stream. */
  reconnect?: ReconnectOptions | false
  /** Batches held for a slow `for await` consumer before the stream is paused (default 1024). */
  inboxCapacity?: number
  /** Bytes of batches held likewise (default 16 MiB). */
  inboxBytes?: number
  maxFrameBytes?: number
  signal?: AbortSignal
}

export interface GapDetail {
  /** 'sequence': events missing within a stream; 'reconnect': the link was down. */
  reason: 'sequence' | 'reconnect'
  /** Missing events, when known (sequence gaps). */
  missing?: number
  /** The span without data, µs in the sender's clock (reconnect gaps). */
  fromUs?: number
  toUs?: number
}

/** A close the publisher sent: its code (the registry name, or the number when unregistered) and reason. */
export interface CloseDetail {
  code: WireErrorCode
  reason?: string
}

export interface SubscriptionStats {
  connects: number
  batches: number
  events: number
  /** Events missing from a stream's sequence without a loss notice. */
  gapEvents: number
  /** Events the publisher reported dropped (loss notices). */
  lostEvents: number
  lossNotices: number
  /** Times the link was lost and came back. */
  reconnectGaps: number
  /** Total time without data across reconnects, µs. */
  reconnectGapUs: number
  watermarks: number
}

export interface SubscriptionEvents {
  status: CustomEvent<LinkStatus>
  gap: CustomEvent<GapDetail>
  loss: CustomEvent<Loss>
  watermark: CustomEvent<{ time: number }>
  close: CustomEvent<CloseDetail>
}

export class Subscription extends ReconnectingLink<SubscriptionEvents> implements AsyncIterable<Delivery> {
  readonly port: string
  readonly inbox: Inbox
  /** PeerId of the publisher, once connected. */
  peer = ''
  /**
   * The publisher's time (clock sync, mapping, latency of this subscription's stream), handed over by the
   * node's clock service when the stream opens; undefined before, or when the node runs without clock sync.
   */
  time: PeerTime | undefined
  readonly #libp2p: Libp2p
  readonly #target: Target
  readonly #open: Open
  readonly #options: SubscribeOptions

  /** The clock sync with the publisher. */
  get clock (): PeerClock | undefined {
    return this.time?.sync
  }

  /** One-way latency of received events, recorded once the publisher's clock is estimated. */
  get latency (): LatencyTracker {
    return this.time?.latency(`sub/${this.port}`) ?? NO_LATENCY
  }
  #progress = 0
  #gapOpen = false
  /** The link's own counts; event counts live in the receivers (one per stream, see `stats`). */
  readonly #link = { connects: 0, reconnectGaps: 0, reconnectGapUs: 0 }
  /** Each stream's receiver keeps its event counts; the subscription sums them over its streams. */
  readonly #totals = new StreamTotals(EVENT_COUNTS)

  constructor (libp2p: Libp2p, target: Target, port: string, options: SubscribeOptions = {}) {
    super({ name: 'subscription', reconnect: options.reconnect, signal: options.signal, isPermanent: isPermanentRefusal })
    this.port = port
    this.inbox = new Inbox({ capacity: options.inboxCapacity, maxBytes: options.inboxBytes })
    this.#libp2p = libp2p
    this.#target = target
    this.#options = options
    this.#open = { type: 'open', mode: 'subscribe', port, maxEvents: options.maxEvents ?? DEFAULT_MAX_EVENTS }
    if (options.channels !== undefined) this.#open.channels = options.channels
    if (options.delay !== undefined) this.#open.delay = options.delay
    if (options.source !== undefined) this.#open.source = options.source
    this.start()
  }

  /**
   * Counts across every stream of this subscription: the event counts are those of each stream's receiver
   * (the one place they are kept), summed over the streams that ended and the current one.
   */
  get stats (): SubscriptionStats {
    return { ...this.#link, ...this.#totals.totals() }
  }

  onBatch (fn: (d: Delivery) => void): () => void {
    return this.inbox.onDelivery(fn)
  }

  [Symbol.asyncIterator] (): AsyncIterator<Delivery> {
    return this.inbox[Symbol.asyncIterator]()
  }

  /** Unsubscribe: close the stream with close{normal} and stop reconnecting. */
  override async close (): Promise<void> {
    await super.close()
  }

  protected override onStatus (s: LinkStatus): void {
    if (s.state === 'retrying' || s.state === 'closed') this.#gapOpen = this.#link.connects > 0
  }

  protected override onEnd (): void {
    this.inbox.end()
  }

  protected override async openSession (signal: AbortSignal): Promise<Session> {
    const open = this.#open
    const ended = Promise.withResolvers<Error | undefined>()
    let opened: Awaited<ReturnType<typeof openEventsStream>>
    try {
      opened = await openEventsStream(this.#libp2p, this.#target, open, {
        signal,
        maxFrameBytes: this.#options.maxFrameBytes,
        onClose: err => { ended.resolve(err) }
      })
    } catch (err) {
      // A close instead of accept (spec §9.2.2) is a close the publisher sent, too.
      if (err instanceof RemoteCloseError) this.#closed(errorCodeName(err.wireCode) ?? err.wireCode, err.reason)
      throw err
    }
    const { framed, accept } = opened
    this.peer = opened.peer
    this.#link.connects++
    const receiver = new EventReceiver({
      kind: accept.kind,
      channels: accept.channels,
      filter: open.channels,
      maxEvents: open.maxEvents ?? DEFAULT_MAX_EVENTS,
      onBatch: batch => {
        this.#resumeAfterGap(batch.times[0])
        this.#progress = batch.times[batch.count - 1]
        this.inbox.push({ peer: this.peer, port: this.port, to: open.source ?? this.port, batch })
      },
      onWatermark: time => {
        this.#resumeAfterGap(time)
        this.#progress = time
        this.inbox.watermark({ peer: this.peer, port: this.port, time })
        this.safeDispatchEvent('watermark', { detail: { time } })
      },
      onLoss: loss => {
        this.safeDispatchEvent('loss', { detail: loss })
      },
      onGap: missing => {
        this.safeDispatchEvent('gap', { detail: { reason: 'sequence', missing } })
      }
    })
    const endCounting = this.#totals.add(receiver)
    const removeSource = this.inbox.addSource(framed)
    opened.setHandler(msg => {
      if (msg.type === 'close') {
        this.#closed(msg.code, msg.reason)
        ended.resolve(remoteCloseError(msg))
        void framed.stream.close().catch(() => {})
        return
      }
      receiver.handle(msg)
    })
    this.markReady()
    void ended.promise.then(() => {
      removeSource()
      endCounting()
    })
    return { ended: ended.promise, close: async code => { await framed.close(code) } }
  }

  #closed (code: WireErrorCode, reason: string | undefined): void {
    this.safeDispatchEvent('close', { detail: reason === undefined ? { code } : { code, reason } })
  }

  #resumeAfterGap (timeUs: number): void {
    if (!this.#gapOpen) return
    this.#gapOpen = false
    this.#link.reconnectGaps++
    const fromUs = this.#progress
    const toUs = Math.max(timeUs, fromUs)
    this.#link.reconnectGapUs += toUs - fromUs
    this.safeDispatchEvent('gap', { detail: { reason: 'reconnect', fromUs, toUs } })
  }
}
