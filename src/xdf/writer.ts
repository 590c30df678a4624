/**
 * XdfWriter: writes an XDF 1.0 file as it goes. Every chunk is encoded whole and handed to the kernel in one
 * write, in order, so a writer that is killed leaves a file whose chunks are complete up to the last write
 * (at most the chunk being written is cut). Memory is bounded: one reused encoding buffer, and per stream the
 * counts of its footer and at most `maxFooterOffsets` clock offsets.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs'
import { ClosedError, InvalidArgumentError } from '../base/errors.ts'
import { FORMAT_BYTES, Tag, XDF_LIMITS } from './constants.ts'
import type { ChannelFormat } from './constants.ts'
import { ChunkBuffer, boundaryChunk, clockOffsetChunk, fileHeaderChunk, magicBytes, numericSamplesChunk, streamXmlChunk, stringSamplesChunk } from './chunk.ts'
import { XML_DECLARATION, xmlString } from './xml.ts'
import type { XmlNode } from './xml.ts'

export interface StreamInfo {
  name: string
  type: string
  channelCount: number
  channelFormat: ChannelFormat
  /** Samples per second; 0 for an irregular stream (one sample per event). */
  nominalSrate: number
  sourceId: string
  /** Seconds in the writer's clock. */
  createdAt: number
  /** Children of <desc>. */
  desc?: XmlNode[]
}

export interface ClockOffset {
  /** Collection time, seconds in the writer's clock. */
  time: number
  /** Seconds to add to the stream's time stamps to map them into the writer's clock. */
  value: number
}

interface StreamState {
  info: StreamInfo
  first: number
  last: number
  count: number
  offsets: ClockOffset[]
  offsetsDropped: number
  footer: boolean
}

export interface XdfWriterInit {
  /** Extra children of the file header's <info> (after <version>). */
  header?: XmlNode[]
  /** Clock offsets kept for each footer (older ones stay in the ClockOffset chunks). Default 10,000. */
  maxFooterOffsets?: number
}

/** Format a number for XML so that it reads back as the same double. */
export function xmlNumber (x: number): string {
  return Number.isFinite(x) ? String(x) : 'NaN'
}

export class XdfWriter {
  readonly path: string
  readonly #fd: number
  readonly #cb = new ChunkBuffer()
  readonly #streams = new Map<number, StreamState>()
  readonly #maxOffsets: number
  #nextId = 1
  #bytes = 0
  #chunks = 0
  #closed = false

  constructor (path: string, init: XdfWriterInit = {}) {
    this.path = path
    this.#maxOffsets = init.maxFooterOffsets ?? 10_000
    this.#fd = openSync(path, 'w')
    this.#write(magicBytes(), false)
    const info: XmlNode = { name: 'info', children: [{ name: 'version', text: '1.0' }, ...(init.header ?? [])] }
    this.#write(fileHeaderChunk(this.#cb, XML_DECLARATION + xmlString(info)))
  }

  /** Bytes written so far. */
  get bytes (): number {
    return this.#bytes
  }

  /** Chunks written so far. */
  get chunks (): number {
    return this.#chunks
  }

  /** Add a stream: writes its StreamHeader chunk and returns its stream id (1, 2, …). */
  addStream (info: StreamInfo): number {
    this.#open()
    if (!(Number.isInteger(info.channelCount) && info.channelCount >= 1 && info.channelCount <= XDF_LIMITS.maxChannels)) throw new InvalidArgumentError(`channel count ${info.channelCount}`)
    if (info.channelFormat === 'string' && info.channelCount !== 1) throw new InvalidArgumentError('a string stream has one channel here')
    const id = this.#nextId++
    const xml: XmlNode = {
      name: 'info',
      children: [
        { name: 'name', text: info.name },
        { name: 'type', text: info.type },
        { name: 'channel_count', text: info.channelCount },
        { name: 'channel_format', text: info.channelFormat },
        { name: 'nominal_srate', text: xmlNumber(info.nominalSrate) },
        { name: 'source_id', text: info.sourceId },
        { name: 'created_at', text: xmlNumber(info.createdAt) },
        { name: 'desc', children: info.desc ?? [] }
      ]
    }
    this.#write(streamXmlChunk(this.#cb, Tag.StreamHeader, id, XML_DECLARATION + xmlString(xml)))
    this.#streams.set(id, { info, first: NaN, last: NaN, count: 0, offsets: [], offsetsDropped: 0, footer: false })
    return id
  }

  /** Write `count` samples of a numeric stream: time stamps in seconds, one column per channel. */
  writeSamples (id: number, count: number, timesS: ArrayLike<number>, columns: Array<ArrayLike<number>>): void {
    const s = this.#stream(id)
    if (count === 0) return
    const f = s.info.channelFormat
    if (f === 'string') throw new InvalidArgumentError(`stream ${id} is a string stream`)
    if (columns.length !== s.info.channelCount) throw new InvalidArgumentError(`stream ${id} has ${s.info.channelCount} channels, not ${columns.length}`)
    // One chunk stays well below a reader's chunk limit: split very large batches.
    const per = Math.max(1, Math.floor((4 * 1024 * 1024) / (9 + FORMAT_BYTES[f] * columns.length)))
    for (let from = 0; from < count; from += per) {
      const n = Math.min(per, count - from)
      const t = from === 0 && n === count ? timesS : Array.prototype.slice.call(timesS, from, from + n) as number[]
      const cols = from === 0 && n === count ? columns : columns.map(c => Array.prototype.slice.call(c, from, from + n) as number[])
      this.#write(numericSamplesChunk(this.#cb, id, f, n, t, cols))
    }
    this.#seen(s, count, timesS[0], timesS[count - 1])
  }

  /** Write samples of a string stream. */
  writeStrings (id: number, timesS: ArrayLike<number>, strings: string[]): void {
    const s = this.#stream(id)
    if (strings.length === 0) return
    if (s.info.channelFormat !== 'string') throw new InvalidArgumentError(`stream ${id} is not a string stream`)
    this.#write(stringSamplesChunk(this.#cb, id, timesS, strings))
    this.#seen(s, strings.length, timesS[0], timesS[strings.length - 1])
  }

  /** Write a ClockOffset chunk for a stream. */
  writeClockOffset (id: number, offset: ClockOffset): void {
    const s = this.#stream(id)
    this.#write(clockOffsetChunk(this.#cb, id, offset.time, offset.value))
    if (s.offsets.length < this.#maxOffsets) s.offsets.push(offset)
    else s.offsetsDropped++
  }

  /** Write a Boundary chunk. */
  writeBoundary (): void {
    this.#open()
    this.#write(boundaryChunk(this.#cb))
  }

  /**
   * Write a stream's footer: first and last time stamp, sample count, the clock offsets (as XDF's footer
   * lists them), and `extra` children of <info>. Once per stream.
   */
  writeFooter (id: number, extra: XmlNode[] = []): void {
    const s = this.#stream(id)
    if (s.footer) throw new InvalidArgumentError(`stream ${id} already has a footer`)
    s.footer = true
    const xml: XmlNode = {
      name: 'info',
      children: [
        { name: 'first_timestamp', text: xmlNumber(s.first) },
        { name: 'last_timestamp', text: xmlNumber(s.last) },
        { name: 'sample_count', text: s.count },
        {
          name: 'clock_offsets',
          children: s.offsets.map(o => ({ name: 'offset', children: [{ name: 'time', text: xmlNumber(o.time) }, { name: 'value', text: xmlNumber(o.value) }] }))
        },
        ...extra
      ]
    }
    this.#write(streamXmlChunk(this.#cb, Tag.StreamFooter, id, XML_DECLARATION + xmlString(xml)))
  }

  /** Footer counts of a stream so far (also after close). */
  streamCounts (id: number): { first: number, last: number, count: number, offsetsDropped: number } {
    const s = this.#streams.get(id)
    if (s === undefined) throw new InvalidArgumentError(`no stream ${id}`)
    return { first: s.first, last: s.last, count: s.count, offsetsDropped: s.offsetsDropped }
  }

  /** Flush to the disk and close the file. Idempotent. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    try { fsyncSync(this.#fd) } catch { // a pipe or a full disk: the data was written, closing still matters
    }
    closeSync(this.#fd)
  }

  #seen (s: StreamState, n: number, first: number, last: number): void {
    if (s.count === 0) s.first = first
    s.last = last
    s.count += n
  }

  #stream (id: number): StreamState {
    this.#open()
    const s = this.#streams.get(id)
    if (s === undefined) throw new InvalidArgumentError(`no stream ${id}`)
    return s
  }

  #open (): void {
    if (this.#closed) throw new ClosedError(`XDF writer of ${this.path}`)
  }

  #write (bytes: Uint8Array, chunk = true): void {
    let done = 0
    while (done < bytes.length) done += writeSync(this.#fd, bytes, done, bytes.length - done)
    this.#bytes += bytes.length
    if (chunk) this.#chunks++
  }
}
