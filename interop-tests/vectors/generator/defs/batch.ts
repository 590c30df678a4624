import { ench, float32le, fromHex, h, m, uleb, ulebs } from '../bytes.ts'
import { MAX, T0, batch as b, train } from '../dsl.ts'
import type { Context, Event, VectorDef } from '../types.ts'

const SPIKE: Context = { kind: 'spike', channels: 16, max_events: 4096 }
const WEIGHTED: Context = { kind: 'weighted', channels: 16, max_events: 4096 }

interface Columns { seq?: number, base?: unknown, count: number, ch: string, dt: string, val?: string }

/** A batch with hand-made columns (hex), for failures; the other fields default to valid values. */
function raw (c: Columns): string {
  const map = m([0, 6], [1, c.seq ?? 0], [2, c.base ?? T0], [3, c.count], [4, fromHex(c.ch)], [5, fromHex(c.dt)])
  if (c.val !== undefined) map.set(6, fromHex(c.val))
  return ench(map)
}

function fail (id: string, title: string, why: string, code: string, cbor: string, context: Context = SPIKE): VectorDef {
  return { id, title, why, code, context, cbor }
}

function ok (id: string, title: string, why: string, events: Event[], opts: { seq?: number, base?: number,
  context?: Context } = {}): VectorDef {
  const context = opts.context ?? (events[0].length === 3 ? WEIGHTED : SPIKE)
  return { id, title, why, context, message: b(opts.seq ?? 0, events, opts.base), events }
}

const WIDE_CH = [0, 127, 128, 16383, 16384, 2097151, 2097152, 268435455, 268435456, 0xffff_fffe]
const WIDE_DT = [0, 1, 127, 128, 16384, 2097152, 268435456, 2 ** 35, 2 ** 42, 2 ** 49]
const wide: Event[] = []
WIDE_DT.reduce((t, dt, i) => {
  wide.push([WIDE_CH[i], t + dt])
  return t + dt
}, T0)

export const batch: VectorDef[] = [
  ok('batch-ok-01', 'spike batch with one event', 'The smallest batch: count 1, one channel varint, dt_0 = 0.',
    [[3, T0]]),
  ok('batch-ok-02', 'spike batch with several events on several channels',
    'Channels in any order, times non-decreasing; a seq above 23 takes a 2-byte CBOR integer.',
    [[0, T0], [5, T0 + 120], [2, T0 + 900], [15, T0 + 1500]], { seq: 128 }),
  ok('batch-ok-03', 'weighted batch with three events',
    'A weighted port: val holds one little-endian binary32 per event.',
    [[0, T0, 0.5], [1, T0 + 100, 0.25], [1, T0 + 250, -1.5]]),
  ok('batch-ok-04', 'spike batch with 300 events',
    'count 300 needs a 2-byte CBOR integer and the columns 2-byte byte-string lengths; dt 250 µs needs ' +
    '2-byte varints.', train(300, T0, 250, 16)),
  ok('batch-ok-05', 'varints of every width: channel ids of 1 to 5 bytes, deltas of 1 to 8 bytes',
    'Channel ids at each LEB128 width boundary up to 2^32 − 2, and deltas up to 2^49 (8 bytes).',
    wide, { context: { kind: 'spike', channels: 0xffff_ffff, max_events: 4096 } }),
  ok('batch-ok-06', 'base time near 2^53 − 1, last event exactly at 2^53 − 1',
    'Times up to the limit are valid: an implementation that sums in 32 bits, or rejects t = 2^53 − 1, ' +
    'fails here.', [[0, MAX - 100], [1, MAX - 50], [2, MAX]]),
  ok('batch-ok-07', 'one delta of 2^53 − 1 (the largest 8-byte varint value) from base 0',
    'The dt bound is 8 bytes and 2^53 − 1; 0x ff ff ff ff ff ff ff 0f is both.', [[0, MAX]], { base: 0 }),
  ok('batch-ok-08', 'base time before the first event (dt_0 > 0)',
    'Senders SHOULD set base to the first event time, but receivers MUST accept dt_0 > 0.',
    [[1, T0 + 500], [2, T0 + 700]], { base: T0 }),
  ok('batch-ok-09', 'simultaneous events (deltas of 0)',
    'Several channels firing in the same microsecond: times are non-decreasing, not increasing.',
    [[0, T0], [1, T0], [2, T0], [3, T0 + 1]]),
  ok('batch-ok-10', 'weighted values at the edges of binary32',
    'float32(0.1), the largest finite binary32, the smallest subnormal, a negative value and zero; the ' +
    'JSON numbers are the exact binary32 values.',
    [[0, T0, Math.fround(0.1)], [1, T0 + 1, 3.4028234663852886e38], [2, T0 + 2, 1.401298464324817e-45],
      [3, T0 + 3, -2.5], [4, T0 + 4, 0]]),
  ok('batch-ok-11', 'sequence number above 2^32', 'seq is a 53-bit counter, not a 32-bit one.',
    [[7, T0]], { seq: 2 ** 32 + 5 }),
  ok('batch-ok-12', 'events only on channels of the stream\'s filter',
    'The stream was opened with the filter [0, 2, 4]; every event is on one of those channels.',
    [[0, T0], [4, T0 + 10], [2, T0 + 20]], { context: { ...SPIKE, filter: [0, 2, 4] } }),
  ok('batch-ok-13', 'batch whose seq + count is exactly 2^53 − 1',
    'seq 2^53 − 3 and count 2: the last event has seq 2^53 − 2 and the next expected number is 2^53 − 1, ' +
    'the largest allowed (§9.2.4).', [[0, T0], [1, T0 + 1]], { seq: MAX - 2 }),

  fail('batch-fail-01', 'ch column holds fewer varints than count', 'count 3 but ch holds 2 varints.',
    'column-mismatch', raw({ count: 3, ch: '0102', dt: '000a0a' })),
  fail('batch-fail-02', 'dt column holds more varints than count', 'count 2 but dt holds 3 varints.',
    'column-mismatch', raw({ count: 2, ch: '0102', dt: '000a0a' })),
  fail('batch-fail-03', 'val column of 7 bytes for 2 events', 'val MUST be 4 · count bytes (8 here).',
    'column-mismatch', raw({ count: 2, ch: '0001', dt: '000a', val: h(float32le([1, 2])).slice(0, 14) }), WEIGHTED),
  fail('batch-fail-04', 'val column of 12 bytes for 2 events', 'val MUST be 4 · count bytes, not more.',
    'column-mismatch', raw({ count: 2, ch: '0001', dt: '000a', val: h(float32le([1, 2, 3])) }), WEIGHTED),
  fail('batch-fail-05', 'non-minimal varint in ch (0 as 0x80 0x00)', 'Varints MUST be minimal.',
    'invalid-varint', raw({ count: 1, ch: '8000', dt: '00' })),
  fail('batch-fail-06', 'non-minimal varint in dt (1 as 0x81 0x00)', 'Varints MUST be minimal.',
    'invalid-varint', raw({ count: 1, ch: '01', dt: '8100' })),
  fail('batch-fail-07', 'channel varint of 6 bytes', 'A channel varint is at most 5 bytes.',
    'invalid-varint', raw({ count: 1, ch: h(uleb(2 ** 35)), dt: '00' })),
  fail('batch-fail-08', 'channel varint value 2^32 in 5 bytes',
    'Channel ids are at most 2^32 − 1: the varint is over its value bound (invalid-varint, checked ' +
    'before any channel count).', 'invalid-varint', raw({ count: 1, ch: h(uleb(2 ** 32)), dt: '00' })),
  fail('batch-fail-09', 'delta varint of 9 bytes', 'A delta varint is at most 8 bytes.',
    'invalid-varint', raw({ count: 1, ch: '00', dt: h(uleb(2n ** 56n)) })),
  fail('batch-fail-10', 'delta varint value 2^53 in 8 bytes',
    'Deltas are at most 2^53 − 1: over the value bound is invalid-varint, reported before any time sum.',
    'invalid-varint', raw({ base: 0, count: 1, ch: '00', dt: h(uleb(2 ** 53)) })),
  fail('batch-fail-11', 'ch varint cut off at the end of the byte string',
    'The second channel varint starts with 0x80 and the string ends: invalid-varint, not column-mismatch.',
    'invalid-varint', raw({ count: 2, ch: '0580', dt: '0000' })),
  fail('batch-fail-12', 'dt varint cut off at the end of the byte string', 'dt is the single byte 0xff.',
    'invalid-varint', raw({ count: 1, ch: '00', dt: 'ff' })),
  fail('batch-fail-13', 'event time over 2^53 − 1 from a base near the limit',
    'base 2^53 − 6, deltas 0 and 10: the second event is at 2^53 + 4.',
    'time-overflow', raw({ base: MAX - 5, count: 2, ch: '0001', dt: '000a' })),
  fail('batch-fail-14', 'two valid deltas whose sum overflows',
    'base 0, deltas 2^52 and 2^52: each delta is in range, their sum 2^53 is not.',
    'time-overflow', raw({ base: 0, count: 2, ch: '0001', dt: h(ulebs([2 ** 52, 2 ** 52])) })),
  fail('batch-fail-15', 'base 2^53 − 1 and a first delta of 1', 't_0 = base + dt_0 = 2^53.',
    'time-overflow', raw({ base: MAX, count: 1, ch: '00', dt: '01' })),
  fail('batch-fail-16', 'count 0', 'A batch holds 1 to max-events events; empty columns match count 0.',
    'invalid-message', raw({ count: 0, ch: '', dt: '' })),
  fail('batch-fail-17', 'count 4097 over the receiver\'s max_events 4096',
    'Columns are consistent; the receiver\'s limit is 4096, so too-many-events.',
    'too-many-events', raw({ count: 4097, ch: '00'.repeat(4097), dt: '00'.repeat(4097) })),
  fail('batch-fail-18', 'channel id equal to the channel count', 'The port has 16 channels (0..15); channel 16.',
    'channel-out-of-range', raw({ count: 2, ch: '0f10', dt: '0005' })),
  fail('batch-fail-19', 'val on a spike port', 'A spike port\'s batch MUST NOT carry val.',
    'kind-mismatch', raw({ count: 2, ch: '0001', dt: '000a', val: h(float32le([1, 2])) })),
  fail('batch-fail-20', 'val missing on a weighted port', 'A weighted port\'s batch MUST carry val.',
    'kind-mismatch', raw({ count: 2, ch: '0001', dt: '000a' }), WEIGHTED),
  fail('batch-fail-21', 'NaN value', 'The second value is a quiet NaN (0x7fc00000).',
    'invalid-message', raw({ count: 2, ch: '0001', dt: '000a', val: h(float32le([1]), '0000c07f') }), WEIGHTED),
  fail('batch-fail-22', 'infinite value', 'The value is +∞ (0x7f800000).',
    'invalid-message', raw({ count: 1, ch: '00', dt: '00', val: '0000807f' }), WEIGHTED),
  fail('batch-fail-23', 'batch without dt', 'dt is required.', 'invalid-message',
    ench(m([0, 6], [1, 0], [2, T0], [3, 1], [4, new Uint8Array([0])]))),
  fail('batch-fail-24', 'batch without base', 'base is required.', 'invalid-message',
    ench(m([0, 6], [1, 0], [3, 1], [4, new Uint8Array([0])], [5, new Uint8Array([0])]))),
  fail('batch-fail-25', 'ch column as a text string', 'ch is a byte string.', 'invalid-message',
    ench(m([0, 6], [1, 0], [2, T0], [3, 1], [4, '0'], [5, new Uint8Array([0])]))),
  fail('batch-fail-26', 'base time as a float', 'base is an unsigned integer; a binary64 is the wrong type ' +
    'even when it holds a time.', 'invalid-message', raw({ base: T0 + 0.5, count: 1, ch: '00', dt: '00' })),
  fail('batch-fail-27', 'negative seq', 'seq is an unsigned integer; −1 is major type 1.', 'invalid-message',
    raw({ seq: -1, count: 1, ch: '00', dt: '00' })),
  fail('batch-fail-28', 'channel not in the stream\'s filter', 'The stream was opened with the filter ' +
    '[0, 2, 4]; channel 3 is within the port but outside the filter.', 'channel-out-of-range',
  raw({ count: 2, ch: '0003', dt: '0005' }), { ...SPIKE, filter: [0, 2, 4] }),
  fail('batch-fail-29', 'seq 2^53 − 1 and count 1', 'seq + count = 2^53 exceeds 2^53 − 1: invalid-message (§9.2.4). ' +
    'A hostile peer sent such batches and the receiver counted a gap of more than 2^53 events.',
  'invalid-message', raw({ seq: MAX, count: 1, ch: '00', dt: '00' })),
  {
    ...fail('batch-fail-30', 'seq + count over 2^53 − 1 and count over max_events',
      'seq 2^53 − 100 and count 4097 with max_events 4096: the bytes break two rules on purpose. seq + count is ' +
      'a field rule (§7.5 step 4) and comes before too-many-events (step 6): invalid-message.',
      'invalid-message', raw({ seq: MAX - 99, count: 4097, ch: '00'.repeat(4097), dt: '00'.repeat(4097) })),
    alsoBreaks: ['too-many-events']
  },
  fail('batch-fail-31', 'dt column cut off after count valid varints',
    'count 2 and dt = 00 00 ab: two valid deltas, then a varint cut off by the end of the byte string. The whole ' +
    'column is decoded before its number of varints is compared with count (§8.6 step 4): invalid-varint, not ' +
    'column-mismatch.', 'invalid-varint', raw({ base: 1, count: 2, ch: '0102', dt: '0000ab' })),
  fail('batch-fail-32', 'ch column with a non-minimal varint after count valid ones',
    'count 2 and ch = 01 02 80 00: two valid channel ids, then 0 written in two bytes. A decoder that stops ' +
    'after count varints and reports the extra bytes as column-mismatch misses the invalid varint (§8.6 step 3).',
  'invalid-varint', raw({ count: 2, ch: '01028000', dt: '0000' }))
]
