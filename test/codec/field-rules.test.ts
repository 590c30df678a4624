/**
 * Field rules settled by spec revision 3, on the decoder alone: a reject's code is never 0, an open's delay
 * is at most 2^32 − 1 µs, max-events is range-checked in both modes, codes and loss reasons are 53-bit, and
 * seq + count ≤ 2^53 − 1 is a field rule checked before too-many-events and the batch columns (§7.5 step 4).
 */
import test from 'ava'
import { SpikewireError, decodeMessage, encodeMessage } from '../../src/codec/index.ts'
import type { DecodeOptions, Message } from '../../src/codec/index.ts'

const T0 = 1_764_000_000_000_000
const MAX = Number.MAX_SAFE_INTEGER

function codeOf (msg: Message, options: DecodeOptions = {}): string | undefined {
  try {
    decodeMessage(encodeMessage(msg), options)
    return undefined
  } catch (err) {
    return err instanceof SpikewireError ? err.code : `not a SpikewireError: ${String(err)}`
  }
}

function spikes (seq: number, n: number): Message {
  return {
    type: 'batch',
    seq,
    base: T0,
    count: n,
    channels: new Uint32Array(n),
    times: new Float64Array(n).fill(T0)
  }
}

test('a reject with code 0 is invalid-message; a close with code 0 is the normal close', t => {
  t.is(codeOf({ type: 'reject', code: 'normal' }), 'invalid-message')
  t.is(codeOf({ type: 'reject', code: 0 }), 'invalid-message')
  t.is(codeOf({ type: 'close', code: 'normal' }), undefined)
  t.is(codeOf({ type: 'reject', code: 'unauthorized' }), undefined)
})

test('codes and loss reasons are 53-bit: above 2^32 they are unregistered, not invalid', t => {
  t.deepEqual(decodeMessage(encodeMessage({ type: 'close', code: MAX })), { type: 'close', code: MAX })
  t.deepEqual(decodeMessage(encodeMessage({ type: 'reject', code: 2 ** 32 })), { type: 'reject', code: 2 ** 32 })
  t.deepEqual(decodeMessage(encodeMessage({ type: 'loss', seq: 0, count: 1, reason: 2 ** 40 })),
    { type: 'loss', seq: 0, count: 1, reason: 2 ** 40 })
})

test('an open\'s delay is 0 to 2^32 − 1 µs', t => {
  t.is(codeOf({ type: 'open', mode: 'push', port: 'stim', delay: 0xffff_ffff }), undefined)
  t.is(codeOf({ type: 'open', mode: 'push', port: 'stim', delay: 2 ** 32 }), 'invalid-message')
  t.is(codeOf({ type: 'open', mode: 'push', port: 'stim', delay: MAX }), 'invalid-message')
})

test('max-events below 4096 is invalid in both modes (its value is ignored only in push mode)', t => {
  t.is(codeOf({ type: 'open', mode: 'push', port: 'stim', maxEvents: 10 }), 'invalid-message')
  t.is(codeOf({ type: 'open', mode: 'subscribe', port: 'spikes', maxEvents: 10 }), 'invalid-message')
  t.is(codeOf({ type: 'open', mode: 'push', port: 'stim', maxEvents: 4096 }), undefined)
  t.is(codeOf({ type: 'accept', port: 'spikes', kind: 'spike', channels: 1, time: T0, maxEvents: 4095 }), 'invalid-message')
})

test('seq + count above 2^53 − 1 is invalid-message, before too-many-events and kind-mismatch', t => {
  t.is(codeOf(spikes(MAX - 2, 2)), undefined, 'ends exactly at 2^53 − 1')
  t.is(codeOf(spikes(MAX - 1, 2)), 'invalid-message')
  t.is(codeOf(spikes(MAX, 1)), 'invalid-message')
  t.is(codeOf(spikes(MAX - 1, 5), { maxEvents: 4 }), 'invalid-message', 'the field rule wins over too-many-events')
  t.is(codeOf(spikes(0, 5), { maxEvents: 4 }), 'too-many-events', 'the limit still applies otherwise')
  t.is(codeOf(spikes(MAX, 1), { kind: 'weighted' }), 'invalid-message', 'and over kind-mismatch')
  t.is(codeOf({ type: 'loss', seq: MAX - 4, count: 4, reason: 'late' }), undefined)
  t.is(codeOf({ type: 'loss', seq: MAX - 4, count: 5, reason: 'late' }), 'invalid-message')
  t.is(codeOf({ type: 'loss', seq: MAX, count: MAX, reason: 'late' }), 'invalid-message', 'a sum that rounds in doubles')
})
