/**
 * Strict CBOR for spikewire (spec §7.1, §7.2), built on cborg's tokenizer. cborg's own decode is lenient
 * about map key order, float width, UTF-8 and nesting, so the item is assembled here from tokens, and
 * every rule of §7.2 that the tokenizer does not enforce is checked on the way:
 * key order and duplicates (bytewise on the keys' encodings), shortest floats, valid UTF-8, depth ≤ 16,
 * no tags, no simple values but false/true/null, exactly one item.
 */
import { Tokenizer, Type, encode, rfc8949EncodeOptions } from 'cborg'
import type { Token } from 'cborg'
import { WireError } from './errors.ts'

/** A float from the wire: kept apart from integers so that "uint" fields can refuse it. */
export class CborFloat {
  readonly value: number
  constructor (value: number) {
    this.value = value
  }
}

export type CborValue = number | bigint | string | boolean | null | Uint8Array | CborFloat | CborValue[] | CborMap

/** A map in wire order; keys are the decoded keys. */
export class CborMap {
  readonly entries: Array<[CborValue, CborValue]> = []

  get (key: number): CborValue | undefined {
    for (const [k, v] of this.entries) if (k === key) return v
    return undefined
  }
}

const MAX_DEPTH = 16
const utf8 = new TextDecoder('utf-8', { fatal: true })

function bad (rule: string): never {
  throw new WireError('invalid-cbor', rule)
}

function shortestFloatBytes (v: number): number {
  if (Number.isNaN(v) || Math.f16round(v) === v) return 3
  if (Math.fround(v) === v) return 5
  return 9
}

function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

class Reader {
  readonly data: Uint8Array
  readonly tokens: InstanceType<typeof Tokenizer>

  constructor (data: Uint8Array) {
    this.data = data
    this.tokens = new Tokenizer(data, { strict: true, allowIndefinite: false, allowUndefined: false, allowBigInt: true, retainStringBytes: true })
  }

  next (): Token {
    if (this.tokens.done()) bad('the item ends early')
    try {
      return this.tokens.next()
    } catch (err) {
      return bad((err as Error).message)
    }
  }

  item (depth: number): CborValue {
    const start = this.tokens.pos()
    const t = this.next()
    switch (t.type) {
      case Type.uint:
      case Type.negint:
        return t.value as number | bigint
      case Type.bytes:
        return t.value as Uint8Array
      case Type.string:
        try {
          utf8.decode(t.byteValue)
        } catch {
          bad('a text string is not valid UTF-8')
        }
        return t.value as string
      case Type.float: {
        const v = t.value as number
        if (t.encodedLength !== shortestFloatBytes(v)) bad(`float ${v} is not in its shortest form`)
        if (Number.isNaN(v) && (this.data[start] !== 0xf9 || this.data[start + 1] !== 0x7e || this.data[start + 2] !== 0x00)) bad('NaN must be f9 7e 00')
        return new CborFloat(v)
      }
      case Type.false: return false
      case Type.true: return true
      case Type.null: return null
      case Type.array: {
        if (depth > MAX_DEPTH) bad(`nesting deeper than ${MAX_DEPTH}`)
        const out: CborValue[] = []
        for (let i = 0; i < (t.value as number); i++) out.push(this.item(depth + 1))
        return out
      }
      case Type.map: {
        if (depth > MAX_DEPTH) bad(`nesting deeper than ${MAX_DEPTH}`)
        const m = new CborMap()
        let previous: Uint8Array | undefined
        for (let i = 0; i < (t.value as number); i++) {
          const keyStart = this.tokens.pos()
          const key = this.item(depth + 1)
          const keyBytes = this.data.subarray(keyStart, this.tokens.pos())
          if (previous !== undefined) {
            const c = compareBytes(previous, keyBytes)
            if (c === 0) bad('duplicate map key')
            if (c > 0) bad('map keys out of order')
          }
          previous = keyBytes
          m.entries.push([key, this.item(depth + 1)])
        }
        return m
      }
      default:
        return bad(`${String(t.type)} is not allowed`)
    }
  }
}

/** Decode exactly one strict item; any failure is WireError('invalid-cbor'). */
export function decodeItem (data: Uint8Array): CborValue {
  const r = new Reader(data)
  const v = r.item(1)
  if (!r.tokens.done()) bad('bytes after the item')
  return v
}

/** Encode a message map (unsigned integer keys) deterministically. */
export function encodeMessage (fields: Map<number, unknown>): Uint8Array {
  return encode(fields, rfc8949EncodeOptions)
}
