/**
 * Unsigned LEB128 varints (spec §5 length prefix, §8.6 batch columns). Only the minimal form is valid:
 * a multi-byte varint never ends in a 0x00 byte.
 */
import { FrameError, SpikewireError } from './errors.ts'

const TWO_POW_28 = 2 ** 28

/** Bytes needed for `v` (0 ≤ v ≤ 2^53 − 1). */
export function varintLength (v: number): number {
  let n = 1
  while (v >= 128) {
    v = Math.floor(v / 128)
    n++
  }
  return n
}

/** Write `v` at `offset` and return the offset after it. The caller guarantees room. */
export function writeVarint (out: Uint8Array, offset: number, v: number): number {
  if (v < TWO_POW_28) {
    while (v >= 0x80) {
      out[offset++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    out[offset++] = v
    return offset
  }
  while (v >= 0x80) {
    out[offset++] = (v % 128) | 0x80
    v = Math.floor(v / 128)
  }
  out[offset++] = v
  return offset
}

export interface PrefixRead {
  /** The length the prefix announces. */
  value: number
  /** How many bytes the prefix took. */
  bytes: number
}

/**
 * Read a frame length prefix from `buf` at `offset`. Returns undefined when the prefix is not complete yet.
 * Throws FrameError(malformed-frame) for a non-minimal prefix or one longer than `maxBytes`.
 */
export function readLengthPrefix (buf: { byteLength: number, get(i: number): number }, offset: number, maxBytes: number): PrefixRead | undefined {
  let value = 0
  let scale = 1
  for (let i = 0; i < maxBytes; i++) {
    if (offset + i >= buf.byteLength) return undefined
    const b = buf.get(offset + i)
    value += (b & 0x7f) * scale
    if ((b & 0x80) === 0) {
      if (b === 0 && i > 0) throw new FrameError('malformed-frame', 'length prefix is not in minimal form')
      return { value, bytes: i + 1 }
    }
    scale *= 128
  }
  throw new FrameError('malformed-frame', `length prefix longer than ${maxBytes} bytes`)
}

/**
 * Read `count` varints from a column byte string into `out`, each at most `maxBytes` long and at most
 * `maxValue`. Errors: invalid-varint (non-minimal, too long, over bound, cut off), column-mismatch (the
 * string holds a different number of varints).
 */
export function readVarintColumn (bytes: Uint8Array, count: number, out: Uint32Array | Float64Array, maxBytes: number, maxValue: number, column: string): void {
  let pos = 0
  const end = bytes.length
  for (let i = 0; i < count; i++) {
    if (pos >= end) {
      throw new SpikewireError('column-mismatch', `${column} holds ${i} varints, count is ${count}`)
    }
    let b = bytes[pos++]
    if (b < 0x80) {
      out[i] = b
      continue
    }
    let value = b & 0x7f
    let scale = 128
    let len = 1
    for (;;) {
      if (pos >= end) throw new SpikewireError('invalid-varint', `${column} varint ${i} is cut off at the end of the byte string`)
      b = bytes[pos++]
      len++
      if (len > maxBytes) throw new SpikewireError('invalid-varint', `${column} varint ${i} is longer than ${maxBytes} bytes`)
      value += (b & 0x7f) * scale
      if (b < 0x80) break
      scale *= 128
    }
    if (b === 0) throw new SpikewireError('invalid-varint', `${column} varint ${i} is not in minimal form`)
    if (value > maxValue) throw new SpikewireError('invalid-varint', `${column} varint ${i} (${value}) exceeds ${maxValue}`)
    out[i] = value
  }
  if (pos !== end) {
    // §8.6 steps 3 and 4: the whole column is decoded first; only when every varint in it is valid does
    // its number of varints matter. A bad varint after the first `count` is invalid-varint.
    checkVarints(bytes, pos, count, maxBytes, maxValue, column)
    throw new SpikewireError('column-mismatch', `${column} has ${end - pos} byte(s) after ${count} varints`)
  }
}

/**
 * Check the varints of `bytes` from `pos` to the end (the part of a column past its announced count) and
 * throw invalid-varint at the first one that is not minimal, too long, over `maxValue` or cut off.
 * `index` is the number of the first one, for the message.
 */
function checkVarints (bytes: Uint8Array, pos: number, index: number, maxBytes: number, maxValue: number, column: string): void {
  const end = bytes.length
  for (let i = index; pos < end; i++) {
    let value = 0
    let scale = 1
    let len = 0
    let b: number
    do {
      if (pos >= end) throw new SpikewireError('invalid-varint', `${column} varint ${i} is cut off at the end of the byte string`)
      if (len === maxBytes) throw new SpikewireError('invalid-varint', `${column} varint ${i} is longer than ${maxBytes} bytes`)
      b = bytes[pos++]
      len++
      value += (b & 0x7f) * scale
      scale *= 128
    } while (b >= 0x80)
    if (b === 0 && len > 1) throw new SpikewireError('invalid-varint', `${column} varint ${i} is not in minimal form`)
    if (value > maxValue) throw new SpikewireError('invalid-varint', `${column} varint ${i} (${value}) exceeds ${maxValue}`)
  }
}
