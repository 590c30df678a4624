/**
 * An `in` port: remote peers push events into it (spec §9.2, push mode). Every batch reaches the
 * application with its source (peer, port) through the port's inbox: listeners or an async iterator.
 * An `in` port is closed by default: only peers in its `push` list may open a stream to it.
 *
 * A port may have no application reading it (a node run from a config without a hosted model). Its inbox
 * then keeps the batches that fit within its bounds (`inboxCapacity` batches, `inboxBytes` bytes) and drops
 * the ones that arrive while it is full, counted in `stats.droppedEvents` — checked like any other, but
 * decoded into buffers reused from batch to batch, so a flood costs no memory per batch; its pushers are
 * never paused, so a reader attached later gets what is queued, then every push from then on. With a reader that falls behind, the inbox pauses the pushers' streams
 * instead and their senders drop and report the losses (`stats.lostEvents`).
 */
import { Inbox } from '../wire/inbox.ts'
import type { Delivery } from '../wire/inbox.ts'
import type { KindName, ModelInfo, PortInfo } from '../codec/index.ts'
import type { PeerList } from './acl.ts'
import type { ReceiverStats } from '../wire/receiver.ts'
import { DEFAULTS, LIMITS } from '../wire/defaults.ts'
import { StreamTotals } from '../wire/totals.ts'

export interface InPortInit {
  name: string
  channels: number
  kind?: KindName
  model?: ModelInfo
  /** Peers allowed to push (default: nobody). */
  push?: PeerList
  /** Batches held for a slow async iterator before the streams are paused (default 1024). */
  inboxCapacity?: number
  /** Bytes of batches held likewise (default 16 MiB, LIMITS.inboxBytes). */
  inboxBytes?: number
}

export interface InPortStats {
  streams: number
  batches: number
  events: number
  gapEvents: number
  lostEvents: number
  refused: number
  /** Events dropped by the inbox: full while no application read it. */
  droppedEvents: number
  /** Batches and bytes waiting in the inbox for the application now. */
  queuedBatches: number
  queuedBytes: number
}

export class InPort implements AsyncIterable<Delivery> {
  readonly name: string
  readonly channels: number
  readonly kind: KindName
  readonly model: ModelInfo | undefined
  readonly push: PeerList
  readonly inbox: Inbox
  /** Each push stream's receiver keeps its counts; the port sums them over its streams. */
  readonly #totals = new StreamTotals(['batches', 'events', 'gapEvents', 'lostEvents'] as const)
  #refused = 0

  constructor (init: InPortInit) {
    this.name = init.name
    this.channels = init.channels
    this.kind = init.kind ?? 'spike'
    this.model = init.model
    this.push = init.push ?? []
    this.inbox = new Inbox({ capacity: init.inboxCapacity ?? DEFAULTS.inboxCapacity, maxBytes: init.inboxBytes ?? LIMITS.inboxBytes.default, whenUnread: 'drop' })
  }

  get info (): PortInfo {
    const p: PortInfo = { name: this.name, direction: 'in', kind: this.kind, channels: this.channels }
    if (this.model !== undefined) p.model = this.model
    return p
  }

  /** Counts over every stream that has pushed into this port (the receivers' own counts, summed). */
  get stats (): InPortStats {
    const inbox = this.inbox.stats
    return { streams: this.#totals.live, ...this.#totals.totals(), refused: this.#refused, droppedEvents: inbox.droppedEvents, queuedBatches: inbox.queued, queuedBytes: inbox.queuedBytes }
  }

  /** A push stream's receiver starts feeding this port; returns the function that detaches it. */
  attach (receiver: { stats: ReceiverStats }): () => void {
    return this.#totals.add(receiver)
  }

  /** An open on this port was refused (count only). */
  noteRefused (): void {
    this.#refused++
  }

  /** Call `fn` for every batch pushed into this port; returns a function that removes it. */
  onBatch (fn: (d: Delivery) => void): () => void {
    return this.inbox.onDelivery(fn)
  }

  [Symbol.asyncIterator] (): AsyncIterator<Delivery> {
    return this.inbox[Symbol.asyncIterator]()
  }
}
