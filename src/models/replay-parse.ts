/**
 * Strict parser of recorded spike trains (CSV or NDJSON), as specified in REPLAY-FORMAT.md.
 * Bounded before allocation: the byte size is checked before decoding, every line's length before parsing,
 * the event count while reading. Every broken rule throws ReplayFormatError with a code and a line number.
 */
import { Buffer } from 'node:buffer'
import { readFile, stat } from 'node:fs/promises'
import { extname } from 'node:path'
import { ReplayFormatError } from './errors.ts'

/** A parsed spike train: parallel columns in non-decreasing time order. */
export interface SpikeTrain {
  channel: Uint32Array
  /** Times as written in the file, µs. */
  timeUs: Float64Array
  /** Highest channel id present. */
  maxChannel: number
}

export type ReplayFormat = 'csv' | 'ndjson'

export interface ReplayParseOptions {
  /** File format; by default detected from the first non-blank line ('{' → NDJSON, otherwise CSV). */
  format?: ReplayFormat
  /** Largest file accepted, bytes (default 64 MiB). */
  maxBytes?: number
  /** Longest line accepted, characters excluding the line break (default 1024). */
  maxLineChars?: number
  /** Most events accepted (default 10 000 000). */
  maxEvents?: number
  /** When set, every channel id must be below this count. */
  channels?: number
}

/** Largest channel id: the wire allows channel counts up to 2^32 − 1, so ids up to 2^32 − 2. */
export const MAX_CHANNEL_ID = 0xffff_fffe
export const CSV_HEADER = 'channel,time_us'
const DIGITS = /^[0-9]{1,10}$/
const BLANK = /^[ \t]*$/

/** Remove spaces and tabs (only) at both ends. */
function trimSpaces (s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '')
}
const DECIMAL = /^[0-9]{1,16}(\.[0-9]{1,9})?$/

/** Parse a spike train from text or bytes (UTF-8). */
export function parseSpikeTrain (input: string | Uint8Array, opts: ReplayParseOptions = {}): SpikeTrain {
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength
  if (size > maxBytes) throw new ReplayFormatError('file-too-large', 0, `${size} bytes exceed the limit of ${maxBytes}`)
  let text: string
  if (typeof input === 'string') {
    text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input)
    } catch {
      throw new ReplayFormatError('bad-encoding', 0, 'the file is not valid UTF-8')
    }
  }
  return new Parser(text, opts).run()
}

/**
 * Read and parse a spike-train file. The format comes from `opts.format`, else from the extension
 * (.csv; .ndjson or .jsonl), else from the content. The size is checked with stat before reading.
 */
export async function readSpikeTrainFile (path: string, opts: ReplayParseOptions = {}, options: { signal?: AbortSignal } = {}): Promise<SpikeTrain> {
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024
  const info = await stat(path)
  if (info.size > maxBytes) throw new ReplayFormatError('file-too-large', 0, `${info.size} bytes exceed the limit of ${maxBytes}`)
  const bytes = await readFile(path, { signal: options.signal })
  const ext = extname(path).toLowerCase()
  const format = opts.format ?? (ext === '.csv' ? 'csv' : ext === '.ndjson' || ext === '.jsonl' ? 'ndjson' : undefined)
  return parseSpikeTrain(bytes, { ...opts, format })
}

class Parser {
  readonly #text: string
  readonly #maxLine: number
  readonly #maxEvents: number
  readonly #channels: number
  #format: ReplayFormat | undefined
  #headerSeen = false
  #channel: number[] = []
  #time: number[] = []
  #last = -Infinity
  #maxChannel = 0

  constructor (text: string, opts: ReplayParseOptions) {
    this.#text = text
    this.#format = opts.format
    this.#maxLine = opts.maxLineChars ?? 1024
    this.#maxEvents = opts.maxEvents ?? 10_000_000
    this.#channels = opts.channels ?? MAX_CHANNEL_ID + 1
  }

  run (): SpikeTrain {
    const text = this.#text
    let start = 0
    let lineNo = 0
    while (start < text.length) {
      lineNo++
      let end = text.indexOf('\n', start)
      if (end < 0) end = text.length
      let stop = end
      if (stop > start && text.charCodeAt(stop - 1) === 13) stop--
      if (stop - start > this.#maxLine) {
        throw new ReplayFormatError('line-too-long', lineNo, `${stop - start} characters exceed the limit of ${this.#maxLine}`)
      }
      const line = text.slice(start, stop)
      start = end + 1
      if (BLANK.test(line)) continue
      this.#line(line, lineNo)
    }
    if (this.#time.length === 0) throw new ReplayFormatError('empty-file', 0, 'no events')
    return { channel: Uint32Array.from(this.#channel), timeUs: Float64Array.from(this.#time), maxChannel: this.#maxChannel }
  }

  #line (line: string, n: number): void {
    if (this.#format === undefined) {
      const head = trimSpaces(line)
      if (head.startsWith('{')) this.#format = 'ndjson'
      else if (head.startsWith('channel')) this.#format = 'csv'
      else throw new ReplayFormatError('unknown-format', n, 'expected a CSV header or a JSON object')
    }
    if (this.#format === 'csv') this.#csv(line, n)
    else this.#ndjson(line, n)
  }

  #csv (line: string, n: number): void {
    const fields = line.split(',').map(trimSpaces)
    if (!this.#headerSeen) {
      if (fields.join(',') !== CSV_HEADER) throw new ReplayFormatError('bad-header', n, `the first line must be "${CSV_HEADER}"`)
      this.#headerSeen = true
      return
    }
    if (fields.length !== 2) throw new ReplayFormatError('bad-field-count', n, `expected 2 fields, got ${fields.length}`)
    const [ch, t] = fields
    if (!DIGITS.test(ch)) throw new ReplayFormatError('bad-channel', n, `channel "${ch.slice(0, 32)}" is not an unsigned integer`)
    if (!DECIMAL.test(t)) throw new ReplayFormatError('bad-time', n, `time "${t.slice(0, 32)}" is not an unsigned decimal number`)
    this.#event(Number(ch), Number(t), n)
  }

  #ndjson (line: string, n: number): void {
    let rec: unknown
    try {
      rec = JSON.parse(line)
    } catch {
      throw new ReplayFormatError('bad-json', n, 'not a JSON value')
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw new ReplayFormatError('bad-record', n, 'not a JSON object')
    const keys = Object.keys(rec).sort().join(',')
    const r = rec as Record<string, unknown>
    let ch: unknown
    let t: unknown
    if (keys === 'channel,time_us') {
      ch = r.channel
      t = r.time_us
    } else if (keys === 'ch,t') {
      ch = r.ch
      t = r.t
    } else {
      throw new ReplayFormatError('bad-record', n, 'expected exactly the keys {channel, time_us} or {ch, t}')
    }
    if (typeof ch !== 'number' || !Number.isInteger(ch) || ch < 0) throw new ReplayFormatError('bad-channel', n, 'channel is not an unsigned integer')
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new ReplayFormatError('bad-time', n, 'time is not a finite non-negative number')
    this.#event(ch, t, n)
  }

  #event (ch: number, t: number, n: number): void {
    if (ch > MAX_CHANNEL_ID || ch >= this.#channels) throw new ReplayFormatError('bad-channel', n, `channel ${ch} is out of range`)
    if (t > Number.MAX_SAFE_INTEGER) throw new ReplayFormatError('bad-time', n, `time ${t} exceeds 2^53 − 1`)
    if (t < this.#last) throw new ReplayFormatError('time-regression', n, `time ${t} is earlier than the previous event (${this.#last})`)
    if (this.#time.length >= this.#maxEvents) throw new ReplayFormatError('too-many-events', n, `more than ${this.#maxEvents} events`)
    this.#last = t
    if (ch > this.#maxChannel) this.#maxChannel = ch
    this.#channel.push(ch)
    this.#time.push(t)
  }
}
