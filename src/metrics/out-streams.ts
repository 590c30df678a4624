/**
 * Counts of the streams leaving a node's out ports (subscribers and push links), per port and peer. Each
 * stream's sender keeps its own counts and forgets them when the stream ends, so a sum over the streams
 * open now would fall whenever one ends (a false counter reset for Prometheus). Here each port's streams
 * are added, as they attach, to a per (port, peer) StreamTotals (the wire layer's sum over ended and live
 * streams), which keeps an ended stream's final counts: the totals only grow. Streams are many and short
 * lived (a tap, a reconnect), so they are aggregated by peer rather than labelled one by one; peers are
 * bounded by PeerLabels.
 */
import type { OutPort } from '../ports/out-port.ts'
import { SENDER_COUNTS } from '../wire/sender.ts'
import type { EventSender, SenderStats } from '../wire/sender.ts'
import { StreamTotals } from '../wire/totals.ts'
import type { PeerLabels } from './peers.ts'

export type SenderCount = typeof SENDER_COUNTS[number]

interface PeerStreams {
  port: string
  peer: string
  totals: StreamTotals<SenderCount>
  live: Set<EventSender>
}

export class OutStreams {
  readonly #peers: PeerLabels
  readonly #watched = new WeakSet<OutPort>()
  readonly #byKey = new Map<string, PeerStreams>()
  readonly #tracked = new WeakSet<EventSender>()

  constructor (peers: PeerLabels) {
    this.#peers = peers
  }

  /** Follow a port's streams: those attached now, and every one attached from now on. */
  watch (port: OutPort): void {
    if (this.#watched.has(port)) return
    this.#watched.add(port)
    port.onAttach(sender => { this.#track(port.name, sender) })
    for (const s of port.senders) this.#track(port.name, s)
  }

  /** Follow the streams of every port given (ports added since are watched from now on). */
  sync (ports: Iterable<OutPort>): void {
    for (const p of ports) this.watch(p)
  }

  /** Per (port, peer): the count `key` over every stream so far. */
  * counts (key: SenderCount): Iterable<readonly [{ port: string, peer: string }, number]> {
    for (const e of this.#byKey.values()) yield [{ port: e.port, peer: e.peer }, e.totals.totals()[key]]
  }

  /** Per (port, peer): streams open now and their queues. */
  * live (): Iterable<readonly [{ port: string, peer: string }, { streams: number, queuedEvents: number, queuedBytes: number }]> {
    for (const e of this.#byKey.values()) {
      let queuedEvents = 0
      let queuedBytes = 0
      for (const s of e.live) {
        queuedEvents += s.stats.queuedEvents
        queuedBytes += s.stats.queuedBytes
      }
      yield [{ port: e.port, peer: e.peer }, { streams: e.live.size, queuedEvents, queuedBytes }]
    }
  }

  #track (port: string, sender: EventSender): void {
    if (this.#tracked.has(sender)) return
    const peer = this.#peers.label(sender.peer)
    const key = `${port}\n${peer}`
    let e = this.#byKey.get(key)
    if (e === undefined) {
      e = { port, peer, totals: new StreamTotals(SENDER_COUNTS), live: new Set() }
      this.#byKey.set(key, e)
    }
    const entry = e
    const endCounting = entry.totals.add(sender as { stats: SenderStats })
    entry.live.add(sender)
    this.#tracked.add(sender)
    // Its counts stay in the totals once final: after a drain's undelivered events are counted, too.
    sender.onEnd(() => {
      entry.live.delete(sender)
      endCounting()
    })
  }
}
