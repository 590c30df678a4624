/**
 * EventReceiver (src/wire/receiver.ts): sequence numbers and time order of what an event sender sends
 * (spec §9.2.4, §9.2.5), with the spec's codes; and, on an in-memory stream pair, a broken rule turned
 * into close{code} and a reset by the FramedStream it runs in.
 */
import test from 'ava'
import { SpikewireError, StreamError, encodeFrame, encodePackedBatch, packColumns } from '../../src/codec/index.ts'
import type { Batch, ErrorCodeName, Loss, Message } from '../../src/codec/index.ts'
import { FramedStream } from '../../src/wire/framed.ts'
import { EventReceiver } from '../../src/wire/receiver.ts'
import type { EventReceiverInit } from '../../src/wire/receiver.ts'
import { memoryStreamPair, settle } from '../helpers/memory-stream.ts'
import { observe } from './helpers.ts'

const T0 = 1_700_000_000_000_000

function batch (seq: number, times: number[], channels: number[] = times.map(() => 0)): Batch {
  return {
    type: 'batch',
    seq,
    base: T0 + times[0],
    count: times.length,
    channels: Uint32Array.from(channels),
    times: Float64Array.from(times.map(x => T0 + x))
  }
}

function receiver (init: Partial<EventReceiverInit> = {}): { rx: EventReceiver, got: Batch[], gaps: Array<[number, number]>, losses: Loss[], watermarks: number[] } {
  const got: Batch[] = []
  const gaps: Array<[number, number]> = []
  const losses: Loss[] = []
  const watermarks: number[] = []
  const rx = new EventReceiver({
    kind: 'spike',
    channels: 8,
    maxEvents: 4096,
    onBatch: b => { got.push(b) },
    onGap: (missing, at) => { gaps.push([missing, at]) },
    onLoss: l => { losses.push(l) },
    onWatermark: time => { watermarks.push(time) },
    ...init
  })
  return { rx, got, gaps, losses, watermarks }
}

function codeOf (fn: () => void): ErrorCodeName | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof StreamError ? err.code : undefined
  }
  return undefined
}

test('batches, watermarks and loss notices in order are counted and passed on', t => {
  const { rx, got, losses, watermarks } = receiver()
  rx.handle(batch(0, [0, 1, 2]))
  rx.handle({ type: 'watermark', seq: 3, time: T0 + 5 })
  rx.handle({ type: 'loss', seq: 3, count: 4, reason: 'queue-overflow' })
  rx.handle(batch(7, [6, 6]))
  t.is(got.length, 2)
  t.deepEqual(watermarks, [T0 + 5])
  t.is(losses.length, 1)
  t.like(rx.stats, { batches: 2, events: 5, watermarks: 1, lossNotices: 1, lostEvents: 4, gaps: 0, gapEvents: 0, progress: T0 + 6 })
})

test('a sequence number ahead of the expected one is a gap: counted, reported, and accepted', t => {
  const { rx, got, gaps } = receiver()
  rx.handle(batch(0, [0, 1]))
  rx.handle(batch(5, [2]))
  rx.handle(batch(6, [3]))
  t.deepEqual(gaps, [[3, 2]])
  t.like(rx.stats, { gaps: 1, gapEvents: 3, batches: 3 })
  t.is(got.length, 3)
})

test('a watermark may skip ahead too (a gap), but never go back in sequence', t => {
  const { rx, gaps } = receiver()
  rx.handle(batch(0, [0]))
  rx.handle({ type: 'watermark', seq: 4, time: T0 + 10 })
  t.deepEqual(gaps, [[3, 1]])
  t.is(codeOf(() => { rx.handle({ type: 'watermark', seq: 2, time: T0 + 20 }) }), 'invalid-sequence')
})

const violations: Array<{ name: string, before: Message[], msg: Message, code: ErrorCodeName }> = [
  { name: 'a batch with a sequence number going back', before: [batch(0, [0, 1])], msg: batch(1, [2]), code: 'invalid-sequence' },
  { name: 'a repeated batch', before: [batch(0, [0, 1])], msg: batch(0, [0, 1]), code: 'invalid-sequence' },
  { name: 'a loss notice for the wrong sequence number', before: [batch(0, [0])], msg: { type: 'loss', seq: 3, count: 1, reason: 'queue-overflow' }, code: 'invalid-sequence' },
  { name: 'a batch starting before the previous one ended', before: [batch(0, [5, 9])], msg: batch(2, [8]), code: 'time-regression' },
  { name: 'a batch starting before the watermark', before: [{ type: 'watermark', seq: 0, time: T0 + 50 }], msg: batch(0, [49]), code: 'time-regression' },
  { name: 'a watermark going back', before: [{ type: 'watermark', seq: 0, time: T0 + 50 }], msg: { type: 'watermark', seq: 0, time: T0 + 49 }, code: 'time-regression' },
  { name: 'an accept after the stream was set up', before: [], msg: { type: 'accept', port: 'x', kind: 'spike', channels: 8, time: T0 }, code: 'unexpected-message' }
]

for (const v of violations) {
  test(`${v.name} → ${v.code}`, t => {
    const { rx, got } = receiver()
    for (const m of v.before) rx.handle(m)
    const before = got.length
    t.is(codeOf(() => { rx.handle(v.msg) }), v.code)
    t.is(got.length, before, 'nothing more is passed on')
  })
}

const MAX = Number.MAX_SAFE_INTEGER

function anyCode (fn: () => void): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof SpikewireError ? err.code : 'not a SpikewireError'
  }
  return undefined
}

test('a batch or loss whose seq + count exceeds 2^53 − 1 is invalid-message and counts no gap (spec §9.2.4)', t => {
  for (const msg of [batch(MAX, [0]), batch(MAX - 1, [0, 1]), { type: 'loss', seq: MAX - 2, count: 3, reason: 'other' } as Loss]) {
    const { rx, got, gaps } = receiver()
    t.is(anyCode(() => { rx.handle(msg) }), 'invalid-message', `${msg.type} ${msg.seq}`)
    t.is(got.length, 0)
    t.deepEqual(gaps, [])
    t.like(rx.stats, { gapEvents: 0, lostEvents: 0, events: 0 })
  }
})

test('seq + count exactly 2^53 − 1 is valid: the gap before it is counted exactly', t => {
  const { rx, got } = receiver()
  rx.handle(batch(MAX - 2, [0, 1]))
  t.is(got.length, 1)
  t.is(rx.stats.gapEvents, MAX - 2)
  rx.handle({ type: 'watermark', seq: MAX, time: T0 + 1 })
  t.is(rx.stats.gapEvents, MAX - 2, 'the next expected number was 2^53 − 1')
})

test('equal times across batches are in order (times are non-decreasing, not increasing)', t => {
  const { rx, got } = receiver()
  rx.handle(batch(0, [3, 3]))
  rx.handle({ type: 'watermark', seq: 2, time: T0 + 3 })
  rx.handle(batch(2, [3]))
  t.is(got.length, 2)
})

test('decode options carry the kind, channel count, limit and filter', t => {
  const { rx } = receiver({ filter: [1, 4] })
  t.is(rx.decodeOptions.kind, 'spike')
  t.is(rx.decodeOptions.channels, 8)
  t.is(rx.decodeOptions.maxEvents, 4096)
  t.deepEqual([...rx.decodeOptions.filter!], [1, 4])
})

/** Run a receiver behind a FramedStream on one end of a pair; the test writes raw frames on the other. */
function wired (init: Partial<EventReceiverInit> = {}): { send: (m: Message | Uint8Array) => void, closed: Promise<Error | undefined>, seen: ReturnType<typeof observe>, got: Batch[], framed: FramedStream } {
  const [a, b] = memoryStreamPair()
  const seen = observe(a)
  const { rx, got } = receiver(init)
  const closed = Promise.withResolvers<Error | undefined>()
  const framed = new FramedStream(b, {
    decodeOptions: () => rx.decodeOptions,
    onMessage: m => { rx.handle(m) },
    onClose: err => { closed.resolve(err) }
  })
  const send = (m: Message | Uint8Array): void => { a.send(m instanceof Uint8Array ? m : encodeFrame(m)) }
  return { send, closed: closed.promise, seen, got, framed }
}

const onTheWire: Array<{ name: string, frames: Array<Message | Uint8Array>, code: ErrorCodeName, init?: Partial<EventReceiverInit> }> = [
  { name: 'sequence going back', frames: [batch(0, [0, 1]), batch(1, [2])], code: 'invalid-sequence' },
  { name: 'time going back', frames: [batch(0, [5]), batch(1, [4])], code: 'time-regression' },
  { name: 'a channel outside the port', frames: [batch(0, [0], [8])], code: 'channel-out-of-range' },
  { name: 'a channel outside the filter', frames: [batch(0, [0], [2])], code: 'channel-out-of-range', init: { filter: [1] } },
  { name: 'more events than the limit', frames: [batch(0, [0, 0, 0])], code: 'too-many-events', init: { maxEvents: 2 } },
  { name: 'seq + count beyond 2^53 − 1', frames: [batch(MAX, [0])], code: 'invalid-message' },
  { name: 'seq + count beyond 2^53 − 1 and more events than the limit (the seq rule is checked first)', frames: [batch(MAX - 1, [0, 0, 0])], code: 'invalid-message', init: { maxEvents: 2 } },
  { name: 'a loss notice whose seq + count is beyond 2^53 − 1', frames: [{ type: 'loss', seq: MAX, count: 1, reason: 'queue-overflow' }], code: 'invalid-message' },
  { name: 'a weighted batch on a spike stream', frames: [encodeFrame({ type: 'batch', seq: 0, base: T0, count: 1, channels: Uint32Array.of(0), times: Float64Array.of(T0), values: Float32Array.of(1) })], code: 'kind-mismatch' }
]

for (const v of onTheWire) {
  test(`on a stream: ${v.name} → close{${v.code}} to the sender, then a reset`, async t => {
    const w = wired(v.init)
    for (const f of v.frames) w.send(f)
    const err = await w.closed
    t.is((err as StreamError).code, v.code)
    t.is(w.framed.failure?.code, v.code)
    t.not(await w.seen.ended, undefined, 'the sender sees a reset')
    t.like(w.seen.messages.at(-1), { type: 'close', code: v.code })
  })
}

test('a packed batch from the sender side decodes to the same events', async t => {
  const w = wired()
  const p = packColumns([1, 2, 3], [T0, T0 + 1, T0 + 1], undefined, 0, 3)
  w.send(encodePackedBatch(0, p, true))
  w.send({ type: 'watermark', seq: 3, time: T0 + 2 })
  await settle()
  t.is(w.got.length, 1)
  t.deepEqual([...w.got[0].channels], [1, 2, 3])
  t.true(w.framed.open)
})
