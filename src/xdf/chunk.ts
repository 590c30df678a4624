/**
 * Encoding of XDF chunks into bytes: the variable-length lengths and counts (NumLengthBytes 1, 4 or 8,
 * little-endian) and the chunk frame. Pure functions over a growable scratch buffer.
 */
import { BOUNDARY_UUID, FORMAT_BYTES, MAGIC, Tag } from './constants.ts'
import type { NumericFormat } from './constants.ts'

/** Bytes of a variable-length number: the NumLengthBytes byte plus 1, 4 or 8 bytes. */
export function varLenBytes (n: number): number {
  return n < 0x100 ? 2 : n < 0x1_0000_0000 ? 5 : 9
}

/** Write a variable-length number at `at`; returns the offset after it. */
export function writeVarLen (view: DataView, at: number, n: number): number {
  if (n < 0x100) {
    view.setUint8(at, 1)
    view.setUint8(at + 1, n)
    return at + 2
  }
  if (n < 0x1_0000_0000) {
    view.setUint8(at, 4)
    view.setUint32(at + 1, n, true)
    return at + 5
  }
  view.setUint8(at, 8)
  view.setBigUint64(at + 1, BigInt(n), true)
  return at + 9
}

/** A growable buffer that chunks are encoded into, reused from chunk to chunk. */
export class ChunkBuffer {
  #buf = new Uint8Array(64 * 1024)
  #view = new DataView(this.#buf.buffer)

  /** Room for `n` bytes; the returned view is valid until the next call. */
  reserve (n: number): { bytes: Uint8Array, view: DataView } {
    if (this.#buf.length < n) {
      let size = this.#buf.length
      while (size < n) size *= 2
      this.#buf = new Uint8Array(size)
      this.#view = new DataView(this.#buf.buffer)
    }
    return { bytes: this.#buf, view: this.#view }
  }
}

/** Frame `content` (already written at `contentAt` of `bytes`) as a chunk with `tag`; returns the chunk's bytes. */
function frame (cb: ChunkBuffer, tag: number, contentBytes: number, fill: (view: DataView, bytes: Uint8Array, at: number) => void): Uint8Array {
  const length = 2 + contentBytes
  const head = varLenBytes(length)
  const { bytes, view } = cb.reserve(head + length)
  let at = writeVarLen(view, 0, length)
  view.setUint16(at, tag, true)
  at += 2
  fill(view, bytes, at)
  return bytes.subarray(0, head + length)
}

const encoder = new TextEncoder()

export function magicBytes (): Uint8Array {
  return MAGIC.slice()
}

/** A FileHeader chunk (tag 1) with its XML. */
export function fileHeaderChunk (cb: ChunkBuffer, xml: string): Uint8Array {
  const text = encoder.encode(xml)
  return frame(cb, Tag.FileHeader, text.length, (_v, b, at) => { b.set(text, at) })
}

/** A StreamHeader (tag 2) or StreamFooter (tag 6) chunk: the stream id, then XML. */
export function streamXmlChunk (cb: ChunkBuffer, tag: typeof Tag.StreamHeader | typeof Tag.StreamFooter, streamId: number, xml: string): Uint8Array {
  const text = encoder.encode(xml)
  return frame(cb, tag, 4 + text.length, (v, b, at) => {
    v.setUint32(at, streamId, true)
    b.set(text, at + 4)
  })
}

/** A ClockOffset chunk (tag 4): stream id, collection time and offset value, both seconds. */
export function clockOffsetChunk (cb: ChunkBuffer, streamId: number, collectionTimeS: number, offsetS: number): Uint8Array {
  return frame(cb, Tag.ClockOffset, 20, (v, _b, at) => {
    v.setUint32(at, streamId, true)
    v.setFloat64(at + 4, collectionTimeS, true)
    v.setFloat64(at + 12, offsetS, true)
  })
}

/** A Boundary chunk (tag 5): the fixed 16-byte UUID. */
export function boundaryChunk (cb: ChunkBuffer): Uint8Array {
  return frame(cb, Tag.Boundary, 16, (_v, b, at) => { b.set(BOUNDARY_UUID, at) })
}

function setValue (v: DataView, at: number, format: NumericFormat, x: number): void {
  switch (format) {
    case 'int8': v.setInt8(at, x); break
    case 'int16': v.setInt16(at, x, true); break
    case 'int32': v.setInt32(at, x, true); break
    case 'int64': v.setBigInt64(at, BigInt(x), true); break
    case 'float32': v.setFloat32(at, x, true); break
    case 'double64': v.setFloat64(at, x, true); break
  }
}

/**
 * A Samples chunk (tag 3) of a numeric stream: stream id, the sample count, then per sample a time stamp
 * (TimeStampBytes 8 and the double, seconds) and one value per channel (`columns[c][i]`).
 */
export function numericSamplesChunk (cb: ChunkBuffer, streamId: number, format: NumericFormat, count: number, timesS: ArrayLike<number>, columns: Array<ArrayLike<number>>): Uint8Array {
  const per = 1 + 8 + FORMAT_BYTES[format] * columns.length
  const content = 4 + varLenBytes(count) + count * per
  return frame(cb, Tag.Samples, content, (v, _b, start) => {
    v.setUint32(start, streamId, true)
    let at = writeVarLen(v, start + 4, count)
    const width = FORMAT_BYTES[format]
    for (let i = 0; i < count; i++) {
      v.setUint8(at, 8)
      v.setFloat64(at + 1, timesS[i], true)
      at += 9
      for (const col of columns) {
        setValue(v, at, format, col[i])
        at += width
      }
    }
  })
}

/** A Samples chunk of a one-channel string stream: per sample a time stamp and a variable-length UTF-8 string. */
export function stringSamplesChunk (cb: ChunkBuffer, streamId: number, timesS: ArrayLike<number>, strings: string[]): Uint8Array {
  const texts = strings.map(s => encoder.encode(s))
  const content = 4 + varLenBytes(texts.length) + texts.reduce((n, t) => n + 9 + varLenBytes(t.length) + t.length, 0)
  return frame(cb, Tag.Samples, content, (v, b, start) => {
    v.setUint32(start, streamId, true)
    let at = writeVarLen(v, start + 4, texts.length)
    for (let i = 0; i < texts.length; i++) {
      v.setUint8(at, 8)
      v.setFloat64(at + 1, timesS[i], true)
      at = writeVarLen(v, at + 9, texts[i].length)
      b.set(texts[i], at)
      at += texts[i].length
    }
  })
}
