/**
 * XdfReader: reads an XDF 1.0 file chunk by chunk, strictly and within bounds (a file is hostile input).
 * A file that ends inside a chunk (a killed writer, a copy cut short) is read up to its last complete chunk
 * and the cut is reported in `truncated`; anything malformed before that is an XdfError with a code.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { BOUNDARY_UUID, FORMAT_BYTES, MAGIC, Tag, XDF_LIMITS } from './constants.ts'
import type { ChannelFormat } from './constants.ts'
import { XdfError } from './errors.ts'
import { child, parseXml, textAt } from './xml.ts'
import type { XmlElement } from './xml.ts'
import type { ClockOffset } from './writer.ts'

export interface XdfStreamHeader {
  name: string
  type: string
  channelCount: number
  channelFormat: ChannelFormat
  nominalSrate: number
  sourceId: string
  createdAt: number
  /** The whole <info> element. */
  xml: XmlElement
  /** Its <desc> element, if any. */
  desc: XmlElement | undefined
}

export interface XdfStream {
  id: number
  header: XdfStreamHeader
  /** Number of samples read. */
  count: number
  /** Time stamp of each sample, seconds (NaN where an irregular stream's sample carries none). */
  times: Float64Array
  /** One column per channel (numeric streams): `columns[c][i]`. */
  columns: Float64Array[]
  /** The values of a string stream. */
  strings: string[]
  clockOffsets: ClockOffset[]
  /** The footer's <info>, when the file has it. */
  footer: XmlElement | undefined
}

export interface XdfFile {
  /** The file header's <info>. */
  header: XmlElement | undefined
  streams: XdfStream[]
  chunks: number
  boundaries: number
  /** Chunks with a tag XDF 1.0 does not define, skipped. */
  unknownChunks: number
  /** Bytes up to the end of the last complete chunk. */
  completeBytes: number
  fileBytes: number
  /** Where and why the file ends inside a chunk; undefined for a file that ends cleanly. */
  truncated: { offset: number, reason: string } | undefined
}

/** Random access to the bytes of a file or a buffer. */
interface Source {
  size: number
  /** Up to `n` bytes at `pos` (fewer at the end). */
  read: (pos: number, n: number) => Uint8Array
}

function bufferSource (bytes: Uint8Array): Source {
  return { size: bytes.length, read: (pos, n) => bytes.subarray(pos, Math.min(bytes.length, pos + n)) }
}

/** Read an XDF file from disk, chunk by chunk. */
export function readXdfFile (path: string): XdfFile {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (e) {
    throw new XdfError('xdf-io', `cannot open ${path}: ${(e as Error).message}`, undefined, { cause: e })
  }
  try {
    const size = fstatSync(fd).size
    return readXdfSource({
      size,
      read: (pos, n) => {
        const buf = new Uint8Array(Math.max(0, Math.min(n, size - pos)))
        let got = 0
        while (got < buf.length) {
          const k = readSync(fd, buf, got, buf.length - got, pos + got)
          if (k === 0) break
          got += k
        }
        return buf.subarray(0, got)
      }
    })
  } finally {
    closeSync(fd)
  }
}

/** Read an XDF file held in memory. */
export function readXdf (bytes: Uint8Array): XdfFile {
  return readXdfSource(bufferSource(bytes))
}

const FORMATS = new Set<string>([...Object.keys(FORMAT_BYTES), 'string'])
const decoder = new TextDecoder('utf-8', { fatal: true })

class Growable {
  data = new Float64Array(64)
  length = 0
  push (x: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[this.length++] = x
  }

  done (): Float64Array {
    return this.data.slice(0, this.length)
  }
}

interface Building {
  id: number
  header: XdfStreamHeader
  times: Growable
  columns: Growable[]
  strings: string[]
  clockOffsets: ClockOffset[]
  footer: XmlElement | undefined
}

/** Read a variable-length number at `at` of `v`, within `end`; returns [value, next offset]. */
function readVarLen (v: DataView, at: number, end: number, offset: number): [number, number] {
  if (at >= end) throw new XdfError('xdf-bad-chunk', 'a count runs past the end of its chunk', offset)
  const n = v.getUint8(at)
  if (n !== 1 && n !== 4 && n !== 8) throw new XdfError('xdf-bad-length', `NumLengthBytes ${n} (must be 1, 4 or 8)`, offset)
  if (at + 1 + n > end) throw new XdfError('xdf-bad-chunk', 'a count runs past the end of its chunk', offset)
  const value = n === 1 ? v.getUint8(at + 1) : n === 4 ? v.getUint32(at + 1, true) : Number(v.getBigUint64(at + 1, true))
  return [value, at + 1 + n]
}

function parseHeader (xml: XmlElement, offset: number): XdfStreamHeader {
  const need = (name: string): string => {
    const t = textAt(xml, name)
    if (t === undefined) throw new XdfError('xdf-bad-xml', `stream header without <${name}>`, offset)
    return t
  }
  const channelCount = Number(need('channel_count'))
  if (!(Number.isInteger(channelCount) && channelCount >= 1 && channelCount <= XDF_LIMITS.maxChannels)) throw new XdfError('xdf-bad-format', `channel_count ${need('channel_count')}`, offset)
  let channelFormat = need('channel_format')
  if (channelFormat === 'float') channelFormat = 'float32'
  if (channelFormat === 'double') channelFormat = 'double64'
  if (!FORMATS.has(channelFormat)) throw new XdfError('xdf-bad-format', `channel_format ${channelFormat}`, offset)
  const srate = Number(textAt(xml, 'nominal_srate') ?? '0')
  return {
    name: textAt(xml, 'name') ?? '',
    type: textAt(xml, 'type') ?? '',
    channelCount,
    channelFormat: channelFormat as ChannelFormat,
    nominalSrate: Number.isFinite(srate) && srate >= 0 ? srate : 0,
    sourceId: textAt(xml, 'source_id') ?? '',
    createdAt: Number(textAt(xml, 'created_at') ?? 'NaN'),
    xml,
    desc: child(xml, 'desc')
  }
}

function readSamples (s: Building, v: DataView, bytes: Uint8Array, start: number, end: number, offset: number): void {
  const [count, first] = readVarLen(v, start, end, offset)
  const { channelFormat: f, channelCount: cc, nominalSrate } = s.header
  const minPer = 1 + (f === 'string' ? 2 : FORMAT_BYTES[f] * cc)
  if (count > (end - first) / minPer) throw new XdfError('xdf-bad-chunk', `${count} samples cannot fit in ${end - first} bytes`, offset)
  let at = first
  for (let i = 0; i < count; i++) {
    const tsBytes = v.getUint8(at++)
    if (tsBytes !== 0 && tsBytes !== 8) throw new XdfError('xdf-bad-chunk', `TimeStampBytes ${tsBytes} (must be 0 or 8)`, offset)
    if (tsBytes === 8) {
      if (at + 8 > end) throw new XdfError('xdf-bad-chunk', 'samples run past the end of their chunk', offset)
      s.times.push(v.getFloat64(at, true))
      at += 8
    } else {
      const prev = s.times.length > 0 ? s.times.data[s.times.length - 1] : NaN
      s.times.push(nominalSrate > 0 ? prev + 1 / nominalSrate : NaN)
    }
    if (f === 'string') {
      for (let c = 0; c < cc; c++) {
        const [n, after] = readVarLen(v, at, end, offset)
        if (n > XDF_LIMITS.maxStringBytes) throw new XdfError('xdf-too-large', `a string of ${n} bytes`, offset)
        if (after + n > end) throw new XdfError('xdf-bad-chunk', 'a string runs past the end of its chunk', offset)
        let text: string
        try {
          text = decoder.decode(bytes.subarray(after, after + n))
        } catch {
          throw new XdfError('xdf-bad-chunk', 'a string value is not UTF-8', offset)
        }
        if (c === 0) s.strings.push(text)
        at = after + n
      }
    } else {
      const w = FORMAT_BYTES[f]
      if (at + w * cc > end) throw new XdfError('xdf-bad-chunk', 'samples run past the end of their chunk', offset)
      for (let c = 0; c < cc; c++) {
        let x: number
        switch (f) {
          case 'int8': x = v.getInt8(at); break
          case 'int16': x = v.getInt16(at, true); break
          case 'int32': x = v.getInt32(at, true); break
          case 'int64': x = Number(v.getBigInt64(at, true)); break
          case 'float32': x = v.getFloat32(at, true); break
          case 'double64': x = v.getFloat64(at, true); break
        }
        s.columns[c].push(x)
        at += w
      }
    }
  }
  if (at !== end) throw new XdfError('xdf-bad-chunk', `${end - at} bytes after the last sample of the chunk`, offset)
}

function readXdfSource (src: Source): XdfFile {
  const file: XdfFile = { header: undefined, streams: [], chunks: 0, boundaries: 0, unknownChunks: 0, completeBytes: 0, fileBytes: src.size, truncated: undefined }
  const magic = src.read(0, 4)
  for (let i = 0; i < magic.length; i++) if (magic[i] !== MAGIC[i]) throw new XdfError('xdf-bad-magic', 'not an XDF file (it does not start with "XDF:")')
  if (magic.length < 4) {
    file.truncated = { offset: 0, reason: 'the file ends inside the magic code' }
    return file
  }
  const streams = new Map<number, Building>()
  const stream = (id: number, offset: number): Building => {
    const s = streams.get(id)
    if (s === undefined) throw new XdfError('xdf-unknown-stream', `stream ${id} has no header before this chunk`, offset)
    return s
  }
  let pos = 4
  file.completeBytes = 4
  while (pos < src.size) {
    const offset = pos
    const head = src.read(pos, 9)
    const nlb = head[0]
    if (nlb !== 1 && nlb !== 4 && nlb !== 8) throw new XdfError('xdf-bad-length', `NumLengthBytes ${nlb} (must be 1, 4 or 8)`, offset)
    if (head.length < 1 + nlb) {
      file.truncated = { offset, reason: 'the file ends inside a chunk length' }
      break
    }
    const hv = new DataView(head.buffer, head.byteOffset, head.byteLength)
    const length = nlb === 1 ? hv.getUint8(1) : nlb === 4 ? hv.getUint32(1, true) : Number(hv.getBigUint64(1, true))
    if (length < 2) throw new XdfError('xdf-bad-length', `chunk length ${length} (a chunk has at least its 2-byte tag)`, offset)
    if (length > XDF_LIMITS.maxChunkBytes) throw new XdfError('xdf-too-large', `chunk of ${length} bytes (limit ${XDF_LIMITS.maxChunkBytes})`, offset)
    const bodyAt = pos + 1 + nlb
    if (bodyAt + length > src.size) {
      file.truncated = { offset, reason: `the file ends inside a chunk (${src.size - bodyAt} of its ${length} bytes)` }
      break
    }
    const body = src.read(bodyAt, length)
    const v = new DataView(body.buffer, body.byteOffset, body.byteLength)
    const tag = v.getUint16(0, true)
    const end = length
    if (file.chunks === 0 && tag !== Tag.FileHeader) throw new XdfError('xdf-bad-chunk', `the first chunk has tag ${tag}, not FileHeader (1)`, offset)
    const streamId = (): number => {
      if (end < 6) throw new XdfError('xdf-bad-chunk', `a chunk with tag ${tag} shorter than its stream id`, offset)
      return v.getUint32(2, true)
    }
    const text = (from: number): string => {
      if (end - from > XDF_LIMITS.maxXmlBytes) throw new XdfError('xdf-too-large', `XML of ${end - from} bytes (limit ${XDF_LIMITS.maxXmlBytes})`, offset)
      try {
        return decoder.decode(body.subarray(from, end))
      } catch {
        throw new XdfError('xdf-bad-xml', 'XML that is not UTF-8', offset)
      }
    }
    switch (tag) {
      case Tag.FileHeader:
        if (file.header !== undefined) throw new XdfError('xdf-bad-chunk', 'a second FileHeader', offset)
        file.header = parseXml(text(2), offset)
        break
      case Tag.StreamHeader: {
        const id = streamId()
        if (streams.has(id)) throw new XdfError('xdf-unknown-stream', `a second header for stream ${id}`, offset)
        if (streams.size >= XDF_LIMITS.maxStreams) throw new XdfError('xdf-too-large', `more than ${XDF_LIMITS.maxStreams} streams`, offset)
        const header = parseHeader(parseXml(text(6), offset), offset)
        const cols = header.channelFormat === 'string' ? 0 : header.channelCount
        streams.set(id, { id, header, times: new Growable(), columns: Array.from({ length: cols }, () => new Growable()), strings: [], clockOffsets: [], footer: undefined })
        break
      }
      case Tag.Samples:
        readSamples(stream(streamId(), offset), v, body, 6, end, offset)
        break
      case Tag.ClockOffset: {
        if (end !== 22) throw new XdfError('xdf-bad-chunk', `a ClockOffset chunk of ${end} bytes (must be 22)`, offset)
        stream(streamId(), offset).clockOffsets.push({ time: v.getFloat64(6, true), value: v.getFloat64(14, true) })
        break
      }
      case Tag.Boundary:
        if (end !== 18 || BOUNDARY_UUID.some((b, i) => body[2 + i] !== b)) throw new XdfError('xdf-bad-chunk', 'a Boundary chunk without the boundary UUID', offset)
        file.boundaries++
        break
      case Tag.StreamFooter: {
        const s = stream(streamId(), offset)
        if (s.footer !== undefined) throw new XdfError('xdf-bad-chunk', `a second footer for stream ${s.id}`, offset)
        s.footer = parseXml(text(6), offset)
        break
      }
      default:
        file.unknownChunks++
    }
    file.chunks++
    pos = bodyAt + length
    file.completeBytes = pos
  }
  for (const s of streams.values()) {
    const times = s.times.done()
    file.streams.push({ id: s.id, header: s.header, count: times.length, times, columns: s.columns.map(c => c.done()), strings: s.strings, clockOffsets: s.clockOffsets, footer: s.footer })
  }
  return file
}
