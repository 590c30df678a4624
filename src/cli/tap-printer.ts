/**
 * Printing received events fast enough for 100k events/s: one string and one write per batch. When the
 * reader of stdout falls behind (more than `maxBuffered` bytes waiting), whole batches are not printed
 * and are counted instead, so the summary says exactly what was left out.
 */
import type { Delivery } from '../wire/inbox.ts'
import type { TimedEvent } from '../timing/compensate.ts'

/** One NDJSON line per event: {"peer","port","channel","time_us"[,"value"]}. */
export function batchJson (d: Delivery): string {
  const { channels, times, values, count } = d.batch
  const head = `{"peer":${JSON.stringify(d.peer)},"port":${JSON.stringify(d.port)},"channel":`
  let s = ''
  if (values === undefined) {
    for (let i = 0; i < count; i++) s += `${head}${channels[i]},"time_us":${times[i]}}\n`
  } else {
    for (let i = 0; i < count; i++) s += `${head}${channels[i]},"time_us":${times[i]},"value":${values[i]}}\n`
  }
  return s
}

/** One line per event for people: time in µs, channel, and the value on weighted ports. */
export function batchText (d: Delivery): string {
  const { channels, times, values, count } = d.batch
  let s = ''
  if (values === undefined) {
    for (let i = 0; i < count; i++) s += `${times[i]} us  ch ${channels[i]}\n`
  } else {
    for (let i = 0; i < count; i++) s += `${times[i]} us  ch ${channels[i]}  value ${values[i]}\n`
  }
  return s
}

/**
 * One NDJSON line per played-out event: the received fields, then local_us (event time on this machine's
 * clock), due_us (local_us + D), at_us (delivery), late, and violation in synaptic mode.
 */
export function playedJson (e: TimedEvent): string {
  return `{"peer":${JSON.stringify(e.peer)},"port":${JSON.stringify(e.port)},"channel":${e.channel},"time_us":${e.timeUs}` +
    (e.value === undefined ? '' : `,"value":${e.value}`) +
    `,"local_us":${Math.round(e.localUs)},"due_us":${Math.round(e.dueUs)},"at_us":${Math.round(e.atUs)},"late":${e.late},"violation":${e.violation}}\n`
}

/** One line per played-out event for people: sender time, channel, delivery time and lateness. */
export function playedText (e: TimedEvent): string {
  return `${e.timeUs} us  ch ${e.channel}` + (e.value === undefined ? '' : `  value ${e.value}`) +
    `  at ${Math.round(e.atUs)} us (due +${Math.round(e.atUs - e.dueUs)} us)` + (e.late ? '  LATE' : '') + (e.violation ? '  DELAY VIOLATION' : '') + '\n'
}

/** The part of a writable stream the printer needs. */
export interface Sink {
  readonly writableLength: number
  write: (s: string) => unknown
}

export interface TapPrinterInit {
  json: boolean
  /** Count only; print no events. */
  quiet?: boolean
  /** Bytes waiting in the sink above which batches are not printed (default 4 MiB). */
  maxBuffered?: number
  sink?: Sink
  /** Told when printing stops (true) or resumes (false) because of a slow reader. */
  onSkip?: (skipping: boolean) => void
  /** Printing is pointless (the reader is gone). */
  closed?: AbortSignal
}

export class TapPrinter {
  printedEvents = 0
  notPrintedEvents = 0
  notPrintedBatches = 0
  readonly #format: (d: Delivery) => string
  readonly #json: boolean
  readonly #quiet: boolean
  readonly #maxBuffered: number
  readonly #sink: Sink
  readonly #onSkip: (skipping: boolean) => void
  readonly #closed: AbortSignal | undefined
  #skipping = false

  constructor (init: TapPrinterInit) {
    this.#format = init.json ? batchJson : batchText
    this.#json = init.json
    this.#quiet = init.quiet ?? false
    this.#maxBuffered = init.maxBuffered ?? 4 * 1024 * 1024
    this.#sink = init.sink ?? process.stdout
    this.#onSkip = init.onSkip ?? (() => {})
    this.#closed = init.closed
  }

  batch (d: Delivery): void {
    if (this.#quiet || this.#closed?.aborted === true) return
    this.#write(() => this.#format(d), d.batch.count)
  }

  /** One event played out (tap --playout). */
  played (e: TimedEvent): void {
    if (this.#quiet || this.#closed?.aborted === true) return
    this.#write(() => this.#json ? playedJson(e) : playedText(e), 1)
  }

  #write (text: () => string, count: number): void {
    if (this.#sink.writableLength > this.#maxBuffered) {
      this.notPrintedEvents += count
      this.notPrintedBatches++
      if (!this.#skipping) {
        this.#skipping = true
        this.#onSkip(true)
      }
      return
    }
    if (this.#skipping) {
      this.#skipping = false
      this.#onSkip(false)
    }
    this.#sink.write(text())
    this.printedEvents += count
  }
}
