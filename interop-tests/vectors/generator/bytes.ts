/**
 * Byte helpers of the vector generator: hex, unsigned LEB128 and CBOR through cborg directly.
 * Nothing here comes from src/codec.
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg'

export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export function fromHex (hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '').toLowerCase()
  if (!/^([0-9a-f]{2})*$/.test(clean)) throw new Error(`not hex: ${hex}`)
  return new Uint8Array(Buffer.from(clean, 'hex'))
}

/** Concatenate hex strings (spaces allowed) and byte arrays into one lowercase hex string. */
export function h (...parts: Array<string | Uint8Array>): string {
  return parts.map((p) => typeof p === 'string' ? toHex(fromHex(p)) : toHex(p)).join('')
}

/** Unsigned LEB128 in minimal form, exact for any non-negative integer. */
export function uleb (value: number | bigint): Uint8Array {
  let v = BigInt(value)
  if (v < 0n) throw new Error('uleb: negative value')
  const out: number[] = []
  do {
    const low = Number(v & 0x7fn)
    v >>= 7n
    out.push(v === 0n ? low : low | 0x80)
  } while (v !== 0n)
  return Uint8Array.from(out)
}

export function ulebs (values: ReadonlyArray<number | bigint>): Uint8Array {
  return concat(values.map((v) => uleb(v)))
}

/**
 * Read a byte string of minimal unsigned LEB128 varints, each at most maxBytes long. Throws on anything
 * else: the generator uses it only to check the columns of its own valid vectors.
 */
export function readUlebs (bytes: Uint8Array, maxBytes: number): number[] {
  const values: number[] = []
  let i = 0
  while (i < bytes.length) {
    let v = 0n
    let shift = 0n
    let n = 0
    for (;;) {
      if (i >= bytes.length) throw new Error('varint cut off')
      const b = bytes[i++]
      n++
      if (n > maxBytes) throw new Error('varint too long')
      v |= BigInt(b & 0x7f) << shift
      shift += 7n
      if ((b & 0x80) === 0) {
        if (b === 0 && n > 1) throw new Error('varint not minimal')
        break
      }
    }
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('varint over 2^53 - 1')
    values.push(Number(v))
  }
  return values
}

export function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** IEEE 754 binary32 values, little-endian. */
export function float32le (values: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length)
  const view = new DataView(out.buffer)
  values.forEach((v, i) => view.setFloat32(4 * i, v, true))
  return out
}

export function readFloat32le (bytes: Uint8Array): number[] {
  if (bytes.length % 4 !== 0) throw new Error('float32 column length not a multiple of 4')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: number[] = []
  for (let i = 0; i < bytes.length; i += 4) out.push(view.getFloat32(i, true))
  return out
}

/** Deterministic CBOR (RFC 8949 §4.2.1 key order, shortest integers, lengths and floats) via cborg. */
export function enc (value: unknown): Uint8Array {
  return encode(value, rfc8949EncodeOptions)
}

/**
 * Deterministic CBOR of a decoded value whose maps may have keys of any type. cborg's encoder sorts the keys
 * of a map only when they are scalars, so maps (and the arrays that hold them) are assembled here, each map's
 * entries in the bytewise order of their encoded keys (RFC 8949 §4.2.1); every other item is encoded by cborg.
 */
export function encAnyKeys (value: unknown): Uint8Array {
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => [encAnyKeys(k), encAnyKeys(v)])
    entries.sort(([a], [b]) => Buffer.compare(a, b))
    return concat([fromHex(head(5, value.size)), ...entries.flat()])
  }
  if (Array.isArray(value)) return concat([fromHex(head(4, value.length)), ...value.map(encAnyKeys)])
  return enc(value)
}

/** Deterministic CBOR of a value, as hex. */
export function ench (value: unknown): string {
  return toHex(enc(value))
}

/** A CBOR map with integer (or other) keys: cborg needs a Map for non-string keys. */
export function m (...entries: Array<[unknown, unknown]>): Map<unknown, unknown> {
  return new Map(entries)
}

/** CBOR initial byte(s) for a major type and argument, in the shortest form. */
export function head (major: number, arg: number): string {
  const mt = major << 5
  if (arg < 24) return h(byte(mt | arg))
  if (arg < 0x100) return h(byte(mt | 24), byte(arg))
  if (arg < 0x10000) return h(byte(mt | 25), be(arg, 2))
  if (arg < 0x1_0000_0000) return h(byte(mt | 26), be(arg, 4))
  return h(byte(mt | 27), be(arg, 8))
}

function byte (b: number): string {
  return b.toString(16).padStart(2, '0')
}

function be (value: number, width: number): string {
  return BigInt(value).toString(16).padStart(2 * width, '0')
}

/** cborg's default decoder (maps kept as Map, since spikewire keys are integers). */
export function decodeDefault (bytes: Uint8Array): unknown {
  return decode(bytes, { useMaps: true })
}

/** cborg with the strict options a wire protocol uses. */
export function decodeStrict (bytes: Uint8Array): unknown {
  return decode(bytes, {
    useMaps: true,
    strict: true,
    allowIndefinite: false,
    allowUndefined: false,
    rejectDuplicateMapKeys: true
  })
}

/**
 * cborg decodes the bytes (leniently and strictly) and they re-encode to the same bytes (maps assembled by
 * encAnyKeys, since cborg cannot sort keys that are arrays or maps).
 */
export function deterministic (bytes: Uint8Array): boolean {
  try {
    decodeDefault(bytes)
    return toHex(encAnyKeys(decodeStrict(bytes))) === toHex(bytes)
  } catch {
    return false
  }
}
