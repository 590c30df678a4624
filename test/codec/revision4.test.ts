/**
 * Rules settled by spec Appendix B revision 4, where a second codec written from the spec (python/) and the
 * reference disagreed: map keys of any CBOR type, the message type before the keys, a varint column with a
 * bad varint after `count` good ones, t3 < t2 in a clock response, and the one NaN encoding. Hex fixtures,
 * decoded by the reference alone; the same cases are vectors in interop-tests/vectors.
 */
import test from 'ava'
import { SpikewireError, decodeMessage } from '../../src/codec/index.ts'
import type { DecodeOptions, Message } from '../../src/codec/index.ts'

function decodeHex (hex: string, options: DecodeOptions = {}): Message {
  return decodeMessage(Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex')), options)
}

function codeOf (hex: string, options: DecodeOptions = {}): string | undefined {
  try {
    decodeHex(hex, options)
    return undefined
  } catch (err) {
    return err instanceof SpikewireError ? err.code : `not a SpikewireError: ${String(err)}`
  }
}

const SPIKE: DecodeOptions = { kind: 'spike', channels: 16, maxEvents: 4096 }
const WATERMARK = { type: 'watermark', seq: 0, time: 5 }

test('a byte-string, array or map key is invalid-message in a defined map, not invalid-cbor', t => {
  t.is(codeOf('a4 0007 0100 0205 4100 00'), 'invalid-message') // {0: 7, 1: 0, 2: 5, h'00': 0}
  t.is(codeOf('a4 0007 0100 0205 8100 00'), 'invalid-message') // {…, [0]: 0}
  t.is(codeOf('a4 0007 0100 0205 a10000 00'), 'invalid-message') // {…, {0: 0}: 0}
  // A description's port map is a defined map too.
  t.is(codeOf('a5 0002 01616e 026172 0381a5 016170 0201 0301 0401 4100 00 046173'), 'invalid-message')
})

test('keys of any type inside the value of an unknown key are accepted (§7.4)', t => {
  t.deepEqual(decodeHex('a4 0007 0100 0205 1863 a1 4100 00'), WATERMARK) // {…, 99: {h'00': 0}}
  t.deepEqual(decodeHex('a4 0007 0100 0205 1863 a2 8100 00 a10000 01'), WATERMARK) // {…, 99: {[0]: 0, {0: 0}: 1}}
})

test('byte-string keys are still checked for order and duplicates by their encodings', t => {
  t.is(codeOf('a5 0007 0100 0205 1863 a2 4101 00 4100 00'), 'invalid-cbor') // h'01' before h'00'
  t.is(codeOf('a5 0007 0100 0205 1863 a2 4100 00 4100 01'), 'invalid-cbor') // h'00' twice
})

test('an unsigned key above 2^53 − 1 is an unknown key; a type above it is an unknown message type', t => {
  t.deepEqual(decodeHex('a4 0007 0100 0205 1bffffffffffffffff 00'), WATERMARK)
  t.is(codeOf('a1 00 1bffffffffffffffff'), 'unknown-message-type')
  t.is(codeOf('a2 0007 3bffffffffffffffff 00'), 'invalid-message') // key −2^64
})

test('the message type is decided before the keys: an unknown type with a text key is unknown-message-type', t => {
  t.is(codeOf('a2 0017 6161 01'), 'unknown-message-type') // {0: 23, "a": 1}
  t.is(codeOf('a2 0001 6161 01'), 'invalid-message') // {0: 1, "a": 1}: a known type checks its keys
  t.is(codeOf('a2 0017 4100 01'), 'unknown-message-type') // {0: 23, h'00': 1}
  t.is(codeOf('a1 6161 01'), 'invalid-message') // no key 0 at all
})

test('a varint column with a bad varint after count good ones is invalid-varint, not column-mismatch', t => {
  // count 2; dt = 00 00 ab: two good deltas, then a varint cut off by the end of the string.
  t.is(codeOf('a6 0006 0100 0201 0302 0442 0102 0543 0000ab', SPIKE), 'invalid-varint')
  // The same in ch, and with a non-minimal, an over-long and an over-bound varint after the count.
  t.is(codeOf('a6 0006 0100 0201 0302 0443 010280 0542 0000', SPIKE), 'invalid-varint')
  t.is(codeOf('a6 0006 0100 0201 0302 0444 01028000 0542 0000', SPIKE), 'invalid-varint')
  t.is(codeOf('a6 0006 0100 0201 0302 0448 0102 8080808080 00 0542 0000', SPIKE), 'invalid-varint')
  t.is(codeOf('a6 0006 0100 0201 0302 0447 0102 8080808010 0542 0000', SPIKE), 'invalid-varint')
  // Good varints after the count: column-mismatch, as before.
  t.is(codeOf('a6 0006 0100 0201 0302 0443 010203 0542 0000', SPIKE), 'column-mismatch')
  t.is(codeOf('a6 0006 0100 0201 0302 0442 0102 0545 0000ac0201', SPIKE), 'column-mismatch')
  // The ch column is decided before dt: ch's column-mismatch wins over dt's invalid-varint.
  t.is(codeOf('a6 0006 0100 0201 0302 0443 010203 0543 0000ab', SPIKE), 'column-mismatch')
})

test('a clock response with t3 < t2 is invalid-message; t3 = t2 is valid', t => {
  t.is(codeOf('a5 000b 0100 0201 030a 0409'), 'invalid-message')
  t.deepEqual(decodeHex('a5 000b 0100 0201 030a 040a'), { type: 'clock-response', id: 0, t1: 1, t2: 10, t3: 10 })
})

test('only f9 7e 00 encodes a NaN, under unknown keys too', t => {
  t.deepEqual(decodeHex('a2 0001 1863 f97e00'), { type: 'describe-request' })
  for (const nan of ['f97e01', 'f9fe00', 'f97c01', 'f97fff', 'f9ffff', 'fa7fc00000', 'fb7ff8000000000000']) {
    t.is(codeOf(`a2 0001 1863 ${nan}`), 'invalid-cbor', nan)
  }
  // Infinities are not NaNs: their binary16 forms stay valid.
  t.deepEqual(decodeHex('a2 0001 1863 f97c00'), { type: 'describe-request' })
  t.deepEqual(decodeHex('a2 0001 1863 f9fc00'), { type: 'describe-request' })
})
