/**
 * The event-receiving side of one events stream (spec §9.2): checks sequence numbers and time order of
 * everything that arrives after accept (kind, channel range and filter are checked by the decoder with
 * `decodeOptions`), counts gaps and reported losses, and passes each batch on. A rule broken is a StreamError with the spec's code; the caller fails the stream with it.
 */
import { ColumnScratch, MAX_SEQ_END, MessageError, StreamError } from '../codec/index.ts'
import type { Batch, DecodeOptions, KindName, Loss, Message } from '../codec/index.ts'

export interface ReceiverStats {
  batches: number
  events: number
  /** Events missing from the sequence without a loss notice (unreported loss). */
  gapEvents: number
  gaps: number
  /** Events the sender reported as dropped, by loss notices. */
  lostEvents: number
  lossNotices: number
  watermarks: number
  /** Latest watermark or event time seen, µs in the sender's clock (0 before any). */
  progress: number
}

export interface EventReceiverInit {
  kind: KindName
  channels: number
  filter?: readonly number[]
  maxEvents: number
  onBatch: (batch: Batch) => void
  onWatermark?: (time: number) => void
  onLoss?: (loss: Loss) => void
  onGap?: (missing: number, atSeq: number) => void
  /**
   * True when the next batch will be dropped unread (its receiver's inbox is full and nobody reads it):
   * the batch is then decoded into reused buffers — checked all the same, passed to `onBatch` as always,
   * but its columns are valid only during that call.
   */
  discards?: () => boolean
}

export class EventReceiver {
  readonly stats: ReceiverStats = { batches: 0, events: 0, gapEvents: 0, gaps: 0, lostEvents: 0, lossNotices: 0, watermarks: 0, progress: 0 }
  readonly #init: EventReceiverInit
  readonly #decode: DecodeOptions
  #discard: DecodeOptions | undefined
  #expected = 0
  #lastTime = 0
  #watermark = 0

  constructor (init: EventReceiverInit) {
    this.#init = init
    this.#decode = { kind: init.kind, channels: init.channels, maxEvents: init.maxEvents }
    if (init.filter !== undefined) this.#decode.filter = new Set(init.filter)
  }

  /** The options to decode the next message with (read for each message). */
  get decodeOptions (): DecodeOptions {
    if (this.#init.discards?.() !== true) return this.#decode
    this.#discard ??= { ...this.#decode, scratch: new ColumnScratch() }
    return this.#discard
  }

  /** Handle one message from the event sender. Close is not handled here. */
  handle (msg: Message): void {
    switch (msg.type) {
      case 'batch': {
        this.#seqEnd(msg.seq, msg.count)
        this.#sequence(msg.seq)
        const first = msg.times[0]
        if (first < this.#lastTime || first < this.#watermark) {
          throw new StreamError('time-regression', `batch starts at ${first}, before ${Math.max(this.#lastTime, this.#watermark)}`)
        }
        this.#expected = msg.seq + msg.count
        this.#lastTime = msg.times[msg.count - 1]
        this.stats.batches++
        this.stats.events += msg.count
        this.stats.progress = Math.max(this.stats.progress, this.#lastTime)
        this.#init.onBatch(msg)
        return
      }
      case 'watermark':
        this.#sequence(msg.seq)
        if (msg.time < this.#watermark) {
          throw new StreamError('time-regression', `watermark ${msg.time} is before the previous one (${this.#watermark})`)
        }
        this.#watermark = msg.time
        this.stats.watermarks++
        this.stats.progress = Math.max(this.stats.progress, msg.time)
        this.#init.onWatermark?.(msg.time)
        return
      case 'loss':
        this.#seqEnd(msg.seq, msg.count)
        if (msg.seq !== this.#expected) throw new StreamError('invalid-sequence', `loss notice for sequence number ${msg.seq}, expected ${this.#expected}`)
        this.#expected = msg.seq + msg.count
        this.stats.lossNotices++
        this.stats.lostEvents += msg.count
        this.#init.onLoss?.(msg)
        return
      default:
        throw new StreamError('unexpected-message', `${msg.type} is not allowed from the event sender`)
    }
  }

  /**
   * §9.2.4: seq + count never exceeds 2^53 − 1. The decoder checks this already (§7.5 step 4); the check here
   * keeps E within range whatever builds the message.
   */
  #seqEnd (seq: number, count: number): void {
    if (seq + count > MAX_SEQ_END) throw new MessageError('invalid-message', `seq ${seq} + count ${count} exceeds 2^53 − 1`)
  }

  #sequence (seq: number): void {
    if (seq < this.#expected) throw new StreamError('invalid-sequence', `sequence number ${seq} is below the expected ${this.#expected}`)
    if (seq > this.#expected) {
      const missing = seq - this.#expected
      this.stats.gapEvents += missing
      this.stats.gaps++
      this.#init.onGap?.(missing, this.#expected)
      this.#expected = seq
    }
  }
}
