/**
 * A strict reader for deterministically encoded CBOR (RFC 8949 §4.2.1, spec §7). It accepts exactly the
 * encodings a spikewire sender produces and rejects everything else with CborError:
 * indefinite lengths, non-shortest heads, floats not in their shortest exact form, a NaN other than
 * f9 7e 00, tags, undefined and other simple values, map keys out of order or repeated, invalid UTF-8,
 * nesting deeper than the limit, and trailing bytes. A map key may be any data item (RFC 8949 §3.1): a key
 * that is not an unsigned integer is a message error, found by the message decoder, not a CBOR error
 * (spec Appendix B, revision 4 item 10). Byte strings are returned as views into the input (no copy).
 */
import { CborError } from './errors.ts'

/**
 * A floating-point item. Floats are kept apart from integers because a field whose type is an unsigned
 * integer must be major type 0 (spec §7.1): a float holding an integral value (1.0) is not one.
 */
export class CborFloat {
  readonly value: number

  constructor (value: number) {
    this.value = value
  }
}

export type CborValue =
  | number
  | CborFloat
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | CborValue[]
  | CborMap

/**
 * A decoded map; keys keep their wire order (which the reader has checked is ascending and free of
 * duplicates, comparing encodings). Keys that are byte strings, arrays or maps are distinct objects, so the
 * Map never merges two of them.
 */
export type CborMap = Map<CborValue, CborValue>

const utf8 = new TextDecoder('utf-8', { fatal: true })
const TWO_POW_32 = 2 ** 32
/** The one encoding of a NaN that §7.1 allows: binary16 0x7e00 (quiet, positive, no payload). */
const HALF_NAN = 0x7e00

export interface ReadOptions {
  /** Maximum nesting of arrays and maps (the top-level item counts as 1). */
  maxDepth: number
}

/** Decode exactly one CBOR data item that fills `bytes` completely. */
export function readCbor (bytes: Uint8Array, options: ReadOptions): CborValue {
  const reader = new Reader(bytes, options.maxDepth)
  const value = reader.item(1)
  if (reader.pos !== bytes.length) {
    throw new CborError(`${bytes.length - reader.pos} trailing byte(s) after the data item`)
  }
  return value
}

class Reader {
  pos = 0
  readonly bytes: Uint8Array
  readonly view: DataView
  readonly maxDepth: number

  constructor (bytes: Uint8Array, maxDepth: number) {
    this.bytes = bytes
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.maxDepth = maxDepth
  }

  need (n: number): void {
    if (this.pos + n > this.bytes.length) {
      throw new CborError(`data item cut off at byte ${this.bytes.length} (needs ${this.pos + n - this.bytes.length} more)`)
    }
  }

  /** Read the argument of a head whose additional info is `ai`; enforce the shortest form. */
  argument (ai: number): number | bigint {
    if (ai < 24) return ai
    switch (ai) {
      case 24: {
        this.need(1)
        const v = this.bytes[this.pos++]
        if (v < 24) throw new CborError(`value ${v} encoded in 1 extra byte (not shortest form)`)
        return v
      }
      case 25: {
        this.need(2)
        const v = this.view.getUint16(this.pos)
        this.pos += 2
        if (v < 0x100) throw new CborError(`value ${v} encoded in 2 bytes (not shortest form)`)
        return v
      }
      case 26: {
        this.need(4)
        const v = this.view.getUint32(this.pos)
        this.pos += 4
        if (v < 0x10000) throw new CborError(`value ${v} encoded in 4 bytes (not shortest form)`)
        return v
      }
      case 27: {
        this.need(8)
        const hi = this.view.getUint32(this.pos)
        const lo = this.view.getUint32(this.pos + 4)
        this.pos += 8
        if (hi === 0) throw new CborError(`value ${lo} encoded in 8 bytes (not shortest form)`)
        const v = hi * TWO_POW_32 + lo
        return Number.isSafeInteger(v) ? v : (BigInt(hi) << 32n) | BigInt(lo)
      }
      case 31:
        throw new CborError('indefinite-length item')
      default:
        throw new CborError(`reserved additional information ${ai}`)
    }
  }

  length (ai: number): number {
    const n = this.argument(ai)
    if (typeof n !== 'number' || n > this.bytes.length - this.pos) {
      throw new CborError(`length ${n} runs past the end of the data (${this.bytes.length - this.pos} bytes left)`)
    }
    return n
  }

  item (depth: number): CborValue {
    this.need(1)
    const head = this.bytes[this.pos++]
    const major = head >> 5
    const ai = head & 0x1f
    switch (major) {
      case 0:
        return this.argument(ai)
      case 1: {
        const n = this.argument(ai)
        return typeof n === 'number' && n < Number.MAX_SAFE_INTEGER ? -1 - n : -1n - BigInt(n)
      }
      case 2: {
        const len = this.length(ai)
        const start = this.pos
        this.pos += len
        return this.bytes.subarray(start, this.pos)
      }
      case 3: {
        const len = this.length(ai)
        const start = this.pos
        this.pos += len
        try {
          return utf8.decode(this.bytes.subarray(start, this.pos))
        } catch {
          throw new CborError(`text string at byte ${start} is not valid UTF-8`)
        }
      }
      case 4:
        return this.array(ai, depth)
      case 5:
        return this.map(ai, depth)
      case 6:
        throw new CborError(`tag at byte ${this.pos - 1}: tags are not allowed`)
      default:
        return this.simple(ai)
    }
  }

  array (ai: number, depth: number): CborValue[] {
    if (depth > this.maxDepth) throw new CborError(`nesting deeper than ${this.maxDepth}`)
    const n = this.length(ai)
    const out: CborValue[] = new Array(n)
    for (let i = 0; i < n; i++) out[i] = this.item(depth + 1)
    return out
  }

  map (ai: number, depth: number): CborMap {
    if (depth > this.maxDepth) throw new CborError(`nesting deeper than ${this.maxDepth}`)
    const n = this.length(ai)
    const out: CborMap = new Map()
    let prevStart = -1
    let prevEnd = -1
    for (let i = 0; i < n; i++) {
      const keyStart = this.pos
      const key = this.item(depth + 1)
      const keyEnd = this.pos
      if (prevStart >= 0) {
        const order = compareBytes(this.bytes, prevStart, prevEnd, keyStart, keyEnd)
        if (order === 0) throw new CborError(`duplicate map key at byte ${keyStart}`)
        if (order > 0) throw new CborError(`map key at byte ${keyStart} is out of ascending order`)
      }
      prevStart = keyStart
      prevEnd = keyEnd
      out.set(key, this.item(depth + 1))
    }
    return out
  }

  simple (ai: number): CborValue {
    switch (ai) {
      case 20: return false
      case 21: return true
      case 22: return null
      case 25: {
        this.need(2)
        const bits = this.view.getUint16(this.pos)
        // §7.1: a NaN is encoded as f9 7e 00 only; another sign or payload is not deterministic.
        if ((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0 && bits !== HALF_NAN) {
          throw new CborError(`NaN at byte ${this.pos - 1} is not encoded as f9 7e 00`)
        }
        const v = decodeHalf(bits)
        this.pos += 2
        return new CborFloat(v)
      }
      case 26: {
        this.need(4)
        const v = this.view.getFloat32(this.pos)
        this.pos += 4
        if (fitsHalf(v)) throw new CborError(`float32 ${v} has a shorter exact form`)
        return new CborFloat(v)
      }
      case 27: {
        this.need(8)
        const v = this.view.getFloat64(this.pos)
        this.pos += 8
        if (Math.fround(v) === v || Number.isNaN(v)) throw new CborError(`float64 ${v} has a shorter exact form`)
        return new CborFloat(v)
      }
      case 23: throw new CborError('undefined is not allowed')
      case 31: throw new CborError('unexpected break code')
      default: throw new CborError(`simple value ${ai < 24 ? ai : 'extension'} is not allowed`)
    }
  }
}

function compareBytes (b: Uint8Array, aStart: number, aEnd: number, cStart: number, cEnd: number): number {
  const aLen = aEnd - aStart
  const cLen = cEnd - cStart
  const n = Math.min(aLen, cLen)
  for (let i = 0; i < n; i++) {
    const d = b[aStart + i] - b[cStart + i]
    if (d !== 0) return d
  }
  return aLen - cLen
}

function decodeHalf (h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >> 10) & 0x1f
  const frac = h & 0x3ff
  if (exp === 0) return sign * frac * 2 ** -24
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN
  return sign * (1 + frac / 1024) * 2 ** (exp - 15)
}

/** True when the finite or infinite value `v` is exactly representable as an IEEE 754 binary16. */
function fitsHalf (v: number): boolean {
  if (Number.isNaN(v)) return true
  if (!Number.isFinite(v) || v === 0) return true
  const a = Math.abs(v)
  if (a > 65504 || a < 2 ** -24) return false
  // The value must be a multiple of the half-precision spacing at its exponent, with ≤ 11 significant bits.
  let e = Math.floor(Math.log2(a))
  if (2 ** e > a) e--
  else if (2 ** (e + 1) <= a) e++
  const exp = Math.max(e, -14)
  const quantum = 2 ** (exp - 10)
  return Number.isInteger(a / quantum)
}
