/**
 * The event-sending side of one events stream (spec §9.2): it numbers events, frames batches, keeps a
 * bounded queue while the stream is congested, and turns overflow into counted losses that it reports
 * to the receiver in a loss notice before the next batch. It never blocks the producer.
 */
import { logger } from '@libp2p/logger'
import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_SEQ_END, SharedBatch, SpikewireError, encodeFrame, encodePackedBatch } from '../codec/index.ts'
import type { ErrorCodeName, PackedColumns } from '../codec/index.ts'
import { InvalidArgumentError } from '../base/errors.ts'
import type { FramedStream } from './framed.ts'
import { LIMITS } from './defaults.ts'

const log = logger('spikewire:sender')

/** The largest loss notice frame (seq and count at 2^53 - 1, reason queue-overflow): 26 bytes, rounded up. */
const LOSS_NOTICE_MAX_BYTES = 32

export interface EventSenderInit {
  framed: FramedStream
  /** PeerId of the receiver (for stats and logs). */
  peer?: string
  /** The receiver's per-batch limit (from open for subscribe, from accept for push). */
  maxEvents: number
  /** Channel filter of this stream (sorted, unique), or undefined for all channels. */
  filter?: readonly number[]
  /** Most events held in the queue while the stream is congested (default 262,144). */
  queueEvents?: number
  /** Most bytes held in the queue while the stream is congested (default 8 MiB); whichever bound comes first. */
  queueBytes?: number
  /** Fail the stream with slow-consumer when it has not drained for this long (default 10,000 ms). */
  slowConsumerMs?: number
  /** Most bytes written in one send when the queue drains (default 256 KiB). */
  maxWriteBytes?: number
  /**
   * The sequence number of the stream's first event (default 0, as spec §9.2.4 requires). Only tests set
   * it, to reach the end of the sequence numbers (2^53 − 1) without sending 2^53 events; the receiver
   * counts the numbers skipped as a gap.
   */
  firstSeq?: number
}

export interface SenderStats {
  /** Events handed to the stream (sent or queued). */
  events: number
  batches: number
  watermarks: number
  /** Events dropped because the queue was full, and reported to the receiver in loss notices. */
  dropped: number
  lossNotices: number
  /**
   * Events never sent: still queued when the stream ended, or offered after the stream ran out of sequence
   * numbers (2^53 − 1, spec §9.2.4) and was being closed.
   */
  undelivered: number
  queuedEvents: number
  /** Bytes of frames in the queue now (bounded by queueBytes, beyond one batch). */
  queuedBytes: number
}

interface Queued {
  /** Whole frames: one array, or a batch's own head and the tail it shares with other streams. */
  bytes: Uint8Array | Uint8ArrayList
  events: number
}

/** The counts of SenderStats that only grow (the rest are queue depths), summed across a link's streams. */
export const SENDER_COUNTS = ['events', 'batches', 'watermarks', 'dropped', 'lossNotices', 'undelivered'] as const

export class EventSender {
  readonly framed: FramedStream
  readonly peer: string
  readonly maxEvents: number
  readonly filter: readonly number[] | undefined
  readonly stats: SenderStats = { events: 0, batches: 0, watermarks: 0, dropped: 0, lossNotices: 0, undelivered: 0, queuedEvents: 0, queuedBytes: 0 }
  readonly #filterSet: Set<number> | undefined
  readonly #queueEvents: number
  readonly #queueBytes: number
  readonly #slowConsumerMs: number
  readonly #maxWriteBytes: number
  readonly #queue: Queued[] = []
  #nextSeq: number
  /** The stream has run out of sequence numbers and is closing (spec §9.2.4). */
  #exhausted = false
  #lossSeq = -1
  #lossCount = 0
  #stuckTimer: ReturnType<typeof setTimeout> | undefined
  #ended = false
  readonly #onEnd: Array<() => void> = []
  #filterKey: string | undefined

  constructor (init: EventSenderInit) {
    this.framed = init.framed
    this.peer = init.peer ?? ''
    this.maxEvents = init.maxEvents
    this.filter = init.filter
    this.#filterSet = init.filter === undefined ? undefined : new Set(init.filter)
    this.#queueEvents = init.queueEvents ?? 262_144
    this.#queueBytes = init.queueBytes ?? LIMITS.queueBytes.default
    this.#slowConsumerMs = init.slowConsumerMs ?? 10_000
    this.#maxWriteBytes = init.maxWriteBytes ?? 256 * 1024
    this.#nextSeq = init.firstSeq ?? 0
    if (!Number.isSafeInteger(this.#nextSeq) || this.#nextSeq < 0) throw new InvalidArgumentError(`firstSeq must be a uint ≤ 2^53 − 1 (got ${this.#nextSeq})`)
    this.framed.stream.addEventListener('drain', () => { this.#pump() })
  }

  /** The next sequence number this stream will use. */
  get nextSeq (): number {
    return this.#nextSeq
  }

  get open (): boolean {
    return !this.#ended && this.framed.open
  }

  /** True when the stream wants only some channels. */
  get filtered (): boolean {
    return this.#filterSet !== undefined
  }

  /** The channel filter as a key: streams with equal keys want the same events ('' without a filter). */
  get filterKey (): string {
    this.#filterKey ??= this.filter === undefined ? '' : this.filter.join(',')
    return this.#filterKey
  }

  wants (channel: number): boolean {
    return this.#filterSet === undefined || this.#filterSet.has(channel)
  }

  /**
   * Offer one batch of packed events (count ≤ maxEvents). Queues or drops it when congested. A batch whose
   * numbers would pass 2^53 − 1 is not numbered: the stream has run out of sequence numbers and ends with
   * close{normal} after what is queued (spec §9.2.4); its events, and any offered until the stream is gone,
   * count as undelivered.
   */
  offer (p: PackedColumns | SharedBatch): void {
    if (!this.open) return
    const seq = this.#nextSeq
    if (this.#exhausted || seq + p.count > MAX_SEQ_END) {
      this.stats.undelivered += p.count
      if (!this.#exhausted) this.#exhaust()
      return
    }
    this.#nextSeq += p.count
    if (this.stats.queuedEvents + p.count > this.#queueEvents || this.#overBytes(p, seq)) {
      this.#drop(seq, p.count)
      return
    }
    this.stats.events += p.count
    this.stats.batches++
    // A shared batch: only this stream's head is written, its tail is the same bytes for every stream.
    this.#enqueue(p instanceof SharedBatch ? p.frame(seq) : encodePackedBatch(seq, p, true), p.count)
  }

  /** No event can be numbered any more: send what is queued, then close{normal} (spec §9.2.4). */
  #exhaust (): void {
    this.#exhausted = true
    log('the stream to %s reached the last sequence number (%d): closing it', this.peer, this.#nextSeq)
    void this.close({ code: 'normal' }).catch(err => {
      log('closing an exhausted stream failed: %s', (err as Error).message)
      this.framed.abort(err as Error)
    })
  }

  /** True once the stream has run out of sequence numbers (it is closing or closed). */
  get exhausted (): boolean {
    return this.#exhausted
  }

  /** Queuing this batch would pass the byte bound (an empty queue takes any one batch). */
  #overBytes (p: PackedColumns | SharedBatch, seq: number): boolean {
    if (this.#queue.length === 0) return false
    const bytes = p instanceof SharedBatch ? p.frameLength(seq) : 32 + p.ch.byteLength + p.dt.byteLength + (p.val?.byteLength ?? 0)
    // Room is kept for the one loss notice that may follow (it is queued without this check).
    return this.stats.queuedBytes + bytes + LOSS_NOTICE_MAX_BYTES > this.#queueBytes
  }

  /** Tell the receiver that no event before `time` will follow. Skipped while data is queued. */
  watermark (time: number): void {
    if (!this.open || this.#queue.length > 0) return
    this.#flushLoss()
    this.stats.watermarks++
    this.#enqueue(encodeFrame({ type: 'watermark', seq: this.#nextSeq, time }), 0)
  }

  /**
   * Close gracefully: send what is queued, then close{code} ('normal' unless the node is shutting down,
   * spec §9.2.10), so the receiver gets every event numbered before the close. `signal` bounds the wait: a
   * stream that has not drained when it aborts is sent close{code} if it can still take it and is reset
   * (§9.2.10: a node MAY reset streams that do not drain in time); what was still queued counts as
   * undelivered.
   */
  async close (options: { signal?: AbortSignal, code?: ErrorCodeName } = {}): Promise<void> {
    if (!this.open) return
    const code = options.code ?? 'normal'
    this.#flushLoss()
    try {
      while (this.#queue.length > 0 && this.framed.open) {
        this.#pump()
        if (this.#queue.length > 0) await this.framed.drain(options)
      }
    } catch (err) {
      if (!this.framed.open) return
      log('the stream to %s did not drain before its close (%s): resetting it', this.peer, (err as Error).message)
      this.#end()
      this.framed.fail(new SpikewireError(code, `the stream did not drain in time (${this.stats.undelivered} events undelivered)`))
      return
    }
    this.#end()
    await this.framed.close(code, undefined, options)
  }

  /** Stop using the stream (it is gone): count what was still queued as undelivered. */
  ended (): void {
    this.#end()
  }

  /** Call `fn` once the stream has ended and its final counts are set (at once when it has ended already). */
  onEnd (fn: () => void): void {
    if (this.#ended) fn()
    else this.#onEnd.push(fn)
  }

  #end (): void {
    if (this.#ended) return
    this.#ended = true
    clearTimeout(this.#stuckTimer)
    this.stats.undelivered += this.stats.queuedEvents + this.#lossCount
    this.#queue.length = 0
    this.stats.queuedEvents = 0
    this.stats.queuedBytes = 0
    for (const fn of this.#onEnd.splice(0)) fn()
  }

  #drop (seq: number, count: number): void {
    if (this.#lossCount === 0) this.#lossSeq = seq
    this.#lossCount += count
    this.stats.dropped += count
    log.trace('dropped %d events for a congested stream', count)
  }

  #flushLoss (): void {
    if (this.#lossCount === 0) return
    const frame = encodeFrame({ type: 'loss', seq: this.#lossSeq, count: this.#lossCount, reason: 'queue-overflow' })
    this.#lossCount = 0
    this.stats.lossNotices++
    this.#enqueue(frame, 0)
  }

  #enqueue (bytes: Uint8Array | Uint8ArrayList, events: number): void {
    if (this.#lossCount > 0) this.#flushLoss()
    if (this.#queue.length === 0 && !this.framed.needsDrain) {
      if (!this.framed.sendBytes(bytes)) this.#congested()
      return
    }
    this.#queue.push({ bytes, events })
    this.stats.queuedEvents += events
    this.stats.queuedBytes += bytes.byteLength
    this.#congested()
  }

  /** Send queued frames, many per write, while the stream takes them. */
  #pump (): void {
    if (this.#ended) return
    let progressed = false
    while (this.#queue.length > 0 && !this.framed.needsDrain && this.framed.open) {
      progressed = true
      const list = new Uint8ArrayList()
      let events = 0
      while (this.#queue.length > 0 && list.byteLength < this.#maxWriteBytes) {
        const q = this.#queue.shift()!
        list.append(q.bytes)
        events += q.events
      }
      this.stats.queuedEvents -= events
      this.stats.queuedBytes -= list.byteLength
      this.framed.sendBytes(list)
    }
    if (progressed || !this.framed.needsDrain) {
      clearTimeout(this.#stuckTimer)
      this.#stuckTimer = undefined
    }
    if (this.#queue.length === 0 && !this.framed.needsDrain) {
      if (this.#lossCount > 0) this.#flushLoss()
    } else {
      this.#congested()
    }
  }

  #congested (): void {
    if (this.#stuckTimer !== undefined || this.#ended) return
    this.#stuckTimer = setTimeout(() => {
      this.#stuckTimer = undefined
      if (this.#queue.length > 0 || this.framed.needsDrain) {
        this.framed.fail(new SpikewireError('slow-consumer', `the stream did not drain for ${this.#slowConsumerMs} ms`))
        this.#end()
      }
    }, this.#slowConsumerMs)
    this.#stuckTimer.unref?.()
  }
}
