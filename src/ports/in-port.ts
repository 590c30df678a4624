/**
 * An `in` port: remote peers push events into it (spec §9.2, push mode). Every batch reaches the
 * application with its source (peer, port) through the port's inbox: listeners or an async iterator.
 * An `in` port is closed by default: only peers in its `push` list may open a stream to it.
 */
import { Inbox } from '../wire/inbox.ts'
import type { Delivery } from '../wire/inbox.ts'
import type { KindName, ModelInfo, PortInfo } from '../codec/index.ts'
import type { PeerList } from './acl.ts'
import type { LatencyTracker } from '../protocols/clock/latency.ts'

export interface InPortInit {
  name: string
  channels: number
  kind?: KindName
  model?: ModelInfo
  /** Peers allowed to push (default: nobody). */
  push?: PeerList
  /** Batches held for a slow async iterator before the streams are paused (default 1024). */
  inboxCapacity?: number
}

export interface InPortStats {
  streams: number
  batches: number
  events: number
  gapEvents: number
  lostEvents: number
  refused: number
}

export class InPort implements AsyncIterable<Delivery> {
  readonly name: string
  readonly channels: number
  readonly kind: KindName
  readonly model: ModelInfo | undefined
  readonly push: PeerList
  readonly inbox: Inbox
  readonly stats: InPortStats = { streams: 0, batches: 0, events: 0, gapEvents: 0, lostEvents: 0, refused: 0 }
  /**
   * One-way latency per sender ("peer/port"): arrival minus the event's time mapped to the local clock,
   * filled by the node once it has a clock estimate for the sender.
   */
  readonly latency = new Map<string, LatencyTracker>()

  constructor (init: InPortInit) {
    this.name = init.name
    this.channels = init.channels
    this.kind = init.kind ?? 'spike'
    this.model = init.model
    this.push = init.push ?? []
    this.inbox = new Inbox(init.inboxCapacity)
  }

  get info (): PortInfo {
    const p: PortInfo = { name: this.name, direction: 'in', kind: this.kind, channels: this.channels }
    if (this.model !== undefined) p.model = this.model
    return p
  }

  /** Call `fn` for every batch pushed into this port; returns a function that removes it. */
  onBatch (fn: (d: Delivery) => void): () => void {
    return this.inbox.onDelivery(fn)
  }

  [Symbol.asyncIterator] (): AsyncIterator<Delivery> {
    return this.inbox[Symbol.asyncIterator]()
  }
}
