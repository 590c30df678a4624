/**
 * Latency compensation for received events (spec §9.2.8): events of a subscription or an `in` port are
 * mapped from their sender's clock to the local clock with that peer's clock estimate, then either played
 * out in real time (PlayoutBuffer: mapped time + D) or merged across inputs in timestamp order
 * (TimeMerge, driven by each input's watermarks). One object per event is made here, so these modes are
 * for the rates that drive devices and models, not for bulk transfer.
 */
import type { Inbox } from '../wire/inbox.ts'
import { PlayoutBuffer } from './playout.ts'
import type { LatePolicy, PlayoutDelay, PlayoutStats } from './playout.ts'
import { TimeMerge } from './merge.ts'
import type { MergeStats, StallInfo } from './merge.ts'
import type { Scheduler } from './scheduler.ts'
import type { DeliveryThread } from './delivery-thread.ts'
import { TimingErrors } from './timing-errors.ts'
import type { TimingErrorStats } from './timing-errors.ts'

/** A received event, delivered by playout or merge. */
export interface TimedEvent {
  peer: string
  port: string
  channel: number
  /** Event time in the sender's clock, µs. */
  timeUs: number
  /** Event time mapped to the local clock, µs. */
  localUs: number
  value: number | undefined
  /** Playout: arrived after its slot; merge: older than an event already released. */
  late: boolean
  /** Playout in synaptic mode: arrived after time + d. */
  violation: boolean
  /** Local time the event was due (playout: mapped time + D; merge: mapped time), µs. */
  dueUs: number
  /** Local time of delivery, µs. */
  atUs: number
}

/** Anything that delivers batches: a Subscription or an InPort. */
export interface EventSource {
  inbox: Inbox
}

/** Maps a peer's timestamps to local time. */
export type ClockMap = (peer: string) => (remoteUs: number) => number

interface Item { peer: string, port: string, channel: number, value: number | undefined }

export interface PlayoutInit {
  delay: PlayoutDelay
  late?: LatePolicy
  scheduler: Scheduler
  clockMap: ClockMap
  /**
   * Without a thread: called at the due time on the event loop. With a thread: called once the thread
   * has delivered the event (atUs is the thread's delivery time).
   */
  onEvent: (e: TimedEvent) => void
  maxQueue?: number
  /**
   * Deliver from this DeliveryThread instead of the event loop: events are handed over `leadUs` before
   * their due time and delivered by the thread's driver at that time.
   */
  thread?: DeliveryThread
  /** With a thread: how long before its due time an event is handed over, µs. Default 10 ms. */
  leadUs?: number
}

/** Deliveries of one playout through a DeliveryThread. */
export interface PlayoutThreadStats {
  /** Handed to the thread (the buffer's `delivered`). */
  handedOff: number
  /** Delivered by the thread and reported back. */
  delivered: number
  /** Not taken by the thread (too many in flight, or the thread failed; its stats tell which). */
  refused: number
  /** Delivery time − due time over events neither late nor violations, µs. */
  timing: TimingErrorStats
}

/** Real-time playout of one source. One sender per source is expected (one peer's clock maps it). */
export class Playout {
  readonly buffer: PlayoutBuffer<Item>
  readonly thread: DeliveryThread | undefined
  readonly #off: Array<() => void> = []
  readonly #t = { delivered: 0, refused: 0 }
  readonly #timing = new TimingErrors()

  constructor (source: EventSource, init: PlayoutInit) {
    let map: ((t: number) => number) | undefined
    let mappedPeer = ''
    const thread = this.thread = init.thread
    const done = (e: TimedEvent): void => {
      this.#t.delivered++
      if (!e.late && !e.violation) this.#timing.record(e.atUs - e.dueUs)
      init.onEvent(e)
    }
    this.buffer = new PlayoutBuffer<Item>({
      scheduler: init.scheduler,
      delay: init.delay,
      late: init.late,
      maxQueue: init.maxQueue,
      leadUs: thread === undefined ? 0 : init.leadUs ?? 10_000,
      toLocal: t => map === undefined ? t : map(t),
      onDeliver: d => {
        const e: TimedEvent = { ...d.item, timeUs: d.timeUs, localUs: d.mappedUs, late: d.late, violation: d.violation, dueUs: d.dueUs, atUs: d.atUs }
        if (thread === undefined) init.onEvent(e)
        else if (!thread.post(e, done)) this.#t.refused++
      }
    })
    this.#off.push(source.inbox.onDelivery(({ peer, port, batch }) => {
      if (peer !== mappedPeer) {
        map = init.clockMap(peer)
        mappedPeer = peer
      }
      const { channels, times, values } = batch
      for (let i = 0; i < batch.count; i++) {
        this.buffer.push(times[i], { peer, port, channel: channels[i], value: values?.[i] })
      }
    }))
  }

  /** The buffer's statistics, and with a thread, its deliveries (`thread`). */
  stats (): PlayoutStats & { thread?: PlayoutThreadStats } {
    const s = this.buffer.stats()
    if (this.thread === undefined) return s
    const t = this.#t
    return {
      ...s,
      thread: {
        handedOff: s.delivered,
        delivered: t.delivered,
        refused: t.refused,
        timing: this.#timing.stats()
      }
    }
  }

  /** Stop taking events; queued ones are discarded (counted). A thread is not closed: it may be shared. */
  close (): void {
    for (const off of this.#off) off()
    this.buffer.close()
  }
}

export interface MergeInit {
  scheduler: Scheduler
  clockMap: ClockMap
  onEvent: (e: TimedEvent & { input: string }) => void
  /** Local time without event or watermark after which an input stops holding the others back, µs. */
  stallAfterUs?: number
  late?: LatePolicy
  maxQueue?: number
  onStall?: (info: StallInfo) => void
  onResume?: (info: StallInfo) => void
}

/** Time-ordered merge of named sources, each one input (one sender per source is expected). */
export class Merge {
  readonly merge: TimeMerge<Item & { timeUs: number }>
  readonly #off: Array<() => void> = []

  constructor (sources: Array<{ name: string, source: EventSource }>, init: MergeInit) {
    this.merge = new TimeMerge<Item & { timeUs: number }>({
      scheduler: init.scheduler,
      stallAfterUs: init.stallAfterUs,
      late: init.late,
      maxQueue: init.maxQueue,
      onDeliver: d => {
        init.onEvent({ ...d.item, localUs: d.timeUs, input: d.name, late: d.late, violation: false, dueUs: d.timeUs, atUs: init.scheduler.nowUs() })
      }
    })
    if (init.onStall !== undefined) this.#off.push(this.merge.onStall(init.onStall))
    if (init.onResume !== undefined) this.#off.push(this.merge.onResume(init.onResume))
    for (const { name, source } of sources) {
      const input = this.merge.addInput(name)
      let map: ((t: number) => number) | undefined
      let mappedPeer = ''
      const mapper = (peer: string): ((t: number) => number) => {
        if (peer !== mappedPeer || map === undefined) {
          map = init.clockMap(peer)
          mappedPeer = peer
        }
        return map
      }
      this.#off.push(source.inbox.onDelivery(({ peer, port, batch }) => {
        const m = mapper(peer)
        const { channels, times, values } = batch
        for (let i = 0; i < batch.count; i++) {
          this.merge.push(input, m(times[i]), { peer, port, channel: channels[i], value: values?.[i], timeUs: times[i] })
        }
      }))
      this.#off.push(source.inbox.onWatermark(w => { this.merge.watermark(input, mapper(w.peer)(w.time)) }))
    }
  }

  stats (): MergeStats {
    return this.merge.stats()
  }

  close (): void {
    for (const off of this.#off) off()
    this.merge.close()
  }
}
