import test from 'ava'
import fc from 'fast-check'
import { encode as cborEncode, rfc8949EncodeOptions } from 'cborg'
import {
  BatchBuilder, ColumnScratch, FrameDecoder, SpikewireError, decodeMessage, encodeFrame, encodeMessage, messageFromJson,
  messageToJson, splitFrames, batchColumns
} from '../../src/codec/index.ts'
import type { Batch, Message } from '../../src/codec/index.ts'

const T0 = 1_764_000_000_000_000

const samples: Message[] = [
  { type: 'describe-request' },
  {
    type: 'description',
    name: 'zurich',
    role: 'neuron',
    ports: [
      { name: 'out', direction: 'out', kind: 'spike', channels: 2, model: { name: 'lif', params: [['tau_m', 20, 'ms'], ['v_th', -50.5, 'mV']] } },
      { name: 'in', direction: 'in', kind: 'weighted', channels: 2 }
    ],
    software: 'spikewire-ts/0.1.0',
    model: { name: 'dynap-se' },
    protocols: ['/spikewire/events/1.0.0']
  },
  { type: 'open', mode: 'subscribe', port: 'out', channels: [0, 5, 700], delay: 20_000, maxEvents: 8192 },
  { type: 'open', mode: 'push', port: 'stim' },
  { type: 'accept', port: 'out', kind: 'weighted', channels: 1024, time: T0, maxEvents: 65536 },
  { type: 'reject', code: 'unauthorized', reason: 'peer not allowed on port stim' },
  { type: 'reject', code: 4000 },
  { type: 'watermark', seq: 12, time: T0 + 100_000 },
  { type: 'loss', seq: 12, count: 7, reason: 'queue-overflow' },
  { type: 'close', code: 'normal' },
  { type: 'clock-request', id: 1, t1: T0 },
  { type: 'clock-response', id: 1, t1: T0, t2: T0 + 1_500_000, t3: T0 + 1_500_020 }
]

function norm (m: Message): unknown {
  return messageToJson(m)
}

test('every sample message round-trips through encode and decode', t => {
  for (const m of samples) {
    const bytes = encodeMessage(m)
    t.deepEqual(norm(decodeMessage(bytes)), norm(m), m.type)
    const frames = splitFrames(encodeFrame(m))
    t.is(frames.length, 1)
    t.deepEqual(norm(decodeMessage(frames[0])), norm(m))
  }
})

const batchArb = fc.record({
  seq: fc.integer({ min: 0, max: 2 ** 40 }),
  base: fc.integer({ min: 0, max: 2 ** 52 }),
  weighted: fc.boolean(),
  events: fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0, max: 2 ** 30 }), fc.float({ noNaN: true, noDefaultInfinity: true })), { minLength: 1, maxLength: 300 })
}).map(({ seq, base, weighted, events }): Batch => {
  const n = events.length
  const channels = new Uint32Array(n)
  const times = new Float64Array(n)
  const values = weighted ? new Float32Array(n) : undefined
  let t = base
  events.forEach(([c, d, v], i) => {
    t += d
    channels[i] = c
    times[i] = t
    if (values) values[i] = v
  })
  return { type: 'batch', seq, base, count: n, channels, times, values }
})

test('random batches round-trip, and the fast encoder equals the generic deterministic encoder', t => {
  fc.assert(fc.property(batchArb, b => {
    const bytes = encodeMessage(b)
    const d = decodeMessage(bytes) as Batch
    t.deepEqual([...d.channels], [...b.channels])
    t.deepEqual([...d.times], [...b.times])
    if (b.values) t.deepEqual([...d.values!], [...b.values])
    else t.is(d.values, undefined)
    const cols = batchColumns(b)
    const generic = new Map<number, unknown>([[0, 6], [1, b.seq], [2, b.base], [3, b.count], [4, cols.ch], [5, cols.dt]])
    if (cols.val) generic.set(6, cols.val)
    t.deepEqual(Buffer.from(bytes), Buffer.from(cborEncode(generic, rfc8949EncodeOptions)))
    t.deepEqual(norm(messageFromJson(messageToJson(b))), norm(b))
  }), { numRuns: 300 })
})

test('BatchBuilder frames decode to the events pushed', t => {
  const bb = new BatchBuilder(100, true)
  for (let i = 0; i < 100; i++) t.true(bb.push(i % 7, T0 + i * 130, i / 4))
  t.false(bb.push(1, T0 + 100_000, 0))
  t.true(bb.full)
  const frame = bb.takeFrame(42)
  t.is(bb.count, 0)
  const [body] = splitFrames(frame)
  const b = decodeMessage(body, { kind: 'weighted', channels: 7 }) as Batch
  t.is(b.seq, 42)
  t.is(b.count, 100)
  t.is(b.base, T0)
  t.is(b.times[99], T0 + 99 * 130)
  t.is(b.values![98], 98 / 4)
})

test('FrameDecoder reassembles frames split at every byte boundary', t => {
  const frames = samples.map(encodeFrame)
  const all = Buffer.concat(frames)
  for (const step of [1, 2, 3, 7, 64]) {
    const d = new FrameDecoder()
    const out: Uint8Array[] = []
    for (let i = 0; i < all.length; i += step) out.push(...d.push(all.subarray(i, i + step)))
    d.end()
    t.is(out.length, samples.length)
    out.forEach((body, i) => t.deepEqual(norm(decodeMessage(body)), norm(samples[i])))
  }
})

test('random garbage only ever raises typed errors', t => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), bytes => {
    try {
      decodeMessage(bytes)
    } catch (err) {
      if (!(err instanceof SpikewireError)) throw err
    }
    try {
      const d = new FrameDecoder({ maxFrameBytes: 64 })
      for (const f of d.push(bytes)) {
        try { decodeMessage(f) } catch (err) { if (!(err instanceof SpikewireError)) throw err }
      }
    } catch (err) {
      if (!(err instanceof SpikewireError)) throw err
    }
  }), { numRuns: 20_000 })
  t.pass()
})

test('mutated valid messages only ever raise typed errors', t => {
  const valid = samples.map(encodeMessage)
  fc.assert(fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (i, edits) => {
    const b = Uint8Array.from(valid[i])
    for (const [pos, v] of edits) b[pos % b.length] = v
    try { decodeMessage(b) } catch (err) { if (!(err instanceof SpikewireError)) throw err }
  }), { numRuns: 20_000 })
  t.pass()
})

test('decoder limits are enforced before allocation', t => {
  const b: Batch = { type: 'batch', seq: 0, base: T0, count: 3, channels: Uint32Array.of(0, 1, 9), times: Float64Array.of(T0, T0, T0 + 1) }
  const bytes = encodeMessage(b)
  t.is(t.throws<SpikewireError>(() => decodeMessage(bytes, { maxEvents: 2 }))?.code, 'too-many-events')
  t.is(t.throws<SpikewireError>(() => decodeMessage(bytes, { channels: 9 }))?.code, 'channel-out-of-range')
  t.is(t.throws<SpikewireError>(() => decodeMessage(bytes, { kind: "weighted" }))?.code, 'kind-mismatch')
  const big = new FrameDecoder({ maxFrameBytes: 1024 })
  t.is(t.throws<SpikewireError>(() => [...big.push(Uint8Array.of(0x81, 0x08))])?.code, 'frame-too-large')
})

test('a batch decoded into reused column buffers equals a fresh decode, is checked the same, and the next decode overwrites it', t => {
  const scratch = new ColumnScratch()
  const a: Batch = { type: 'batch', seq: 0, base: T0, count: 3, channels: Uint32Array.from([1, 2, 3]), times: Float64Array.from([T0, T0 + 5, T0 + 9]), values: Float32Array.from([0.5, -1, 2]) }
  const b: Batch = { type: 'batch', seq: 3, base: T0 + 20, count: 2, channels: Uint32Array.from([7, 8]), times: Float64Array.from([T0 + 20, T0 + 30]), values: Float32Array.from([3, 4]) }
  const first = decodeMessage(encodeMessage(a), { scratch }) as Batch
  t.deepEqual(first, decodeMessage(encodeMessage(a)))
  const second = decodeMessage(encodeMessage(b), { scratch }) as Batch
  t.deepEqual(second, decodeMessage(encodeMessage(b)))
  t.is(first.channels[0], 7, 'the first batch\'s columns were reused by the second decode')
  t.is(first.channels.buffer, second.channels.buffer)
  const err = t.throws(() => decodeMessage(encodeMessage(a), { scratch, channels: 3 }))
  t.is((err as SpikewireError).code, 'channel-out-of-range')
})
