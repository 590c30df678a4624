/**
 * EventSender (src/wire/sender.ts) on in-memory stream pairs: sequence numbers and framing, the bounded
 * queue while the transport is full, overflow turned into counted losses reported in a loss notice before
 * the next batch (spec §9.2), watermarks, close, and the slow-consumer limit.
 */
import test from 'ava'
import { SharedBatch, packColumns } from '../../src/codec/index.ts'
import type { Batch, Message } from '../../src/codec/index.ts'
import { FramedStream } from '../../src/wire/framed.ts'
import { EventReceiver } from '../../src/wire/receiver.ts'
import { EventSender } from '../../src/wire/sender.ts'
import type { EventSenderInit } from '../../src/wire/sender.ts'
import { memoryStreamPair, settle } from '../helpers/memory-stream.ts'
import { observe } from './helpers.ts'

const T0 = 1_700_000_000_000_000
const CHANNELS = 16
const decode = { kind: 'spike', channels: CHANNELS, maxEvents: 4096 } as const

/** `count` events on channels 0, 1, 2, … at T0 + at, T0 + at + 1, … */
function events (count: number, at: number): ReturnType<typeof packColumns> {
  const ch = Array.from({ length: count }, (_, i) => i % CHANNELS)
  const t = Array.from({ length: count }, (_, i) => T0 + at + i)
  return packColumns(ch, t, undefined, 0, count)
}

function setup (init: Partial<EventSenderInit> = {}): { sender: EventSender, a: ReturnType<typeof memoryStreamPair>[0], seen: ReturnType<typeof observe> } {
  const [a, b] = memoryStreamPair()
  const seen = observe(b, decode)
  const sender = new EventSender({ framed: new FramedStream(a, {}), maxEvents: 4096, ...init })
  return { sender, a, seen }
}

function batches (messages: Message[]): Batch[] {
  return messages.filter((m): m is Batch => m.type === 'batch')
}

test('batches are numbered by event and arrive in order', async t => {
  const { sender, seen } = setup()
  sender.offer(events(3, 0))
  sender.offer(events(5, 10))
  sender.offer(events(1, 20))
  await settle()
  t.deepEqual(batches(seen.messages).map(b => [b.seq, b.count]), [[0, 3], [3, 5], [8, 1]])
  t.deepEqual([...batches(seen.messages)[1].channels], [0, 1, 2, 3, 4])
  t.like(sender.stats, { events: 9, batches: 3, dropped: 0, queuedEvents: 0 })
  t.is(sender.nextSeq, 9)
})

test('while the transport is full batches wait in the queue and leave, in order, on drain', async t => {
  const { sender, a, seen } = setup()
  a.block()
  sender.offer(events(4, 0))
  sender.offer(events(4, 10))
  sender.offer(events(4, 20))
  t.is(sender.stats.queuedEvents, 8, 'the first batch went to the transport, the next two wait')
  t.is(a.written.length, 1)
  a.unblock()
  await settle()
  t.is(sender.stats.queuedEvents, 0)
  t.is(a.written.length, 2, 'the queued batches leave together in one write')
  t.deepEqual(batches(seen.messages).map(b => b.seq), [0, 4, 8])
  t.is(sender.stats.dropped, 0)
})

test('queue overflow drops whole batches, counts them, and reports them before the next batch', async t => {
  const { sender, a, seen } = setup({ queueEvents: 10 })
  a.block()
  sender.offer(events(4, 0)) // sent (fills the transport)
  sender.offer(events(4, 10)) // queued: 4
  sender.offer(events(4, 20)) // queued: 8
  sender.offer(events(4, 30)) // 12 > 10: dropped, seq 12..15
  sender.offer(events(4, 40)) // dropped, seq 16..19
  t.like(sender.stats, { dropped: 8, queuedEvents: 8, lossNotices: 0 })
  a.unblock()
  await settle()
  sender.offer(events(2, 50))
  await settle()
  const kinds = seen.messages.map(m => m.type === 'loss' ? `loss ${m.seq}+${m.count}` : m.type === 'batch' ? `batch ${m.seq}` : m.type)
  t.deepEqual(kinds, ['batch 0', 'batch 4', 'batch 8', 'loss 12+8', 'batch 20'])
  t.like(seen.messages.find(m => m.type === 'loss'), { reason: 'queue-overflow' })
  t.like(sender.stats, { dropped: 8, lossNotices: 1, events: 14 })
})

test('the queue is bounded in bytes too: beyond queueBytes batches are dropped and reported, whatever queueEvents allows', async t => {
  const { sender, a, seen } = setup({ queueEvents: 1_000_000, queueBytes: 2048 })
  a.block()
  sender.offer(events(400, 0)) // sent (fills the transport)
  let offered = 1
  while (sender.stats.dropped === 0 && offered < 100) sender.offer(events(400, 1000 * offered++))
  t.true(sender.stats.dropped > 0, 'the byte bound was reached long before the event bound')
  t.true(sender.stats.queuedBytes <= 2048, `queued ${sender.stats.queuedBytes} bytes`)
  t.true(sender.stats.queuedEvents < 1_000_000)
  const queuedBefore = sender.stats.queuedBytes
  sender.offer(events(400, 1000 * offered++))
  t.is(sender.stats.queuedBytes, queuedBefore, 'a full queue takes no more bytes')
  a.unblock()
  await settle()
  t.is(sender.stats.queuedBytes, 0)
  sender.offer(events(1, 1000 * offered))
  await settle()
  const loss = seen.messages.find(m => m.type === 'loss')
  t.like(loss, { reason: 'queue-overflow', count: sender.stats.dropped })
})

test('the byte bound holds with the loss notice counted: a small batch after a drop never takes the queue past queueBytes', t => {
  const { sender, a } = setup({ queueEvents: 1_000_000, queueBytes: 2048 })
  a.block()
  sender.offer(events(400, 0)) // sent (fills the transport)
  let max = 0
  // Big and one-event batches in turn: the big one is dropped near the bound, the small one that still fits
  // then queues the loss notice before itself.
  for (let i = 1; i < 400; i++) {
    sender.offer(new SharedBatch(events(i % 2 === 0 ? 60 : 1, 1000 * i)))
    max = Math.max(max, sender.stats.queuedBytes)
  }
  t.true(sender.stats.dropped > 0)
  t.true(sender.stats.lossNotices > 0)
  t.true(max <= 2048, `the queue held ${max} bytes`)
})

test('a receiver fed by an overflowing sender accounts for every event without a gap', async t => {
  const [a, b] = memoryStreamPair()
  let received = 0
  const receiver = new EventReceiver({ ...decode, onBatch: batch => { received += batch.count } })
  const rx = new FramedStream(b, { decodeOptions: () => receiver.decodeOptions, onMessage: m => { receiver.handle(m) } })
  const sender = new EventSender({ framed: new FramedStream(a, {}), maxEvents: 4096, queueEvents: 20 })
  let offered = 0
  for (let round = 0; round < 5; round++) {
    a.block()
    for (let k = 0; k < 10; k++) {
      sender.offer(events(5, offered))
      offered += 5
    }
    a.unblock()
    await settle()
  }
  sender.offer(events(1, offered++))
  await settle()
  t.true(rx.open)
  t.true(sender.stats.dropped > 0)
  t.is(receiver.stats.gapEvents, 0)
  t.is(receiver.stats.lostEvents, sender.stats.dropped)
  t.is(received + receiver.stats.lostEvents, offered)
})

test('a watermark is sent when nothing is queued, skipped while data waits, and carries the next seq', async t => {
  const { sender, a, seen } = setup()
  sender.offer(events(3, 0))
  sender.watermark(T0 + 100)
  a.block()
  sender.offer(events(2, 200))
  sender.offer(events(2, 300))
  sender.watermark(T0 + 400)
  a.unblock()
  await settle()
  const wm = seen.messages.filter(m => m.type === 'watermark')
  t.deepEqual(wm, [{ type: 'watermark', seq: 3, time: T0 + 100 }])
  t.is(sender.stats.watermarks, 1)
})

test('watermarks never count queued events or pass their times, also around drops (spec §9.2.4, §9.2.5)', async t => {
  const [a, b] = memoryStreamPair()
  const receiver = new EventReceiver({ ...decode, onBatch: () => {} })
  const seen: Message[] = []
  const rx = new FramedStream(b, { decodeOptions: () => receiver.decodeOptions, onMessage: m => { seen.push(m); receiver.handle(m) } })
  const sender = new EventSender({ framed: new FramedStream(a, {}), maxEvents: 4096, queueEvents: 6 })
  let at = 0
  for (let round = 0; round < 4; round++) {
    a.block()
    for (let k = 0; k < 4; k++) {
      sender.offer(events(3, at))
      at += 10
      // The port promises W = the time of its next event, whatever the stream still holds.
      sender.watermark(T0 + at)
    }
    a.unblock()
    await settle()
    sender.watermark(T0 + at)
    await settle()
  }
  t.true(rx.open, rx.failure?.message ?? 'the receiver found no invalid-sequence and no time-regression')
  t.true(sender.stats.dropped > 0, 'the queue overflowed')
  t.is(receiver.stats.gapEvents, 0, 'every watermark carried the next seq to be sent or reported')
  t.is(receiver.stats.lostEvents, sender.stats.dropped)
  const order = seen.map(m => m.type)
  t.true(order.includes('loss') && order.includes('watermark'))
  t.true(order.lastIndexOf('loss') < order.lastIndexOf('watermark'), 'a loss notice goes out before the next watermark')
})

test('a channel filter is reported by wants()', t => {
  const { sender } = setup({ filter: [1, 3] })
  t.true(sender.filtered)
  t.true(sender.wants(3))
  t.false(sender.wants(2))
  t.true(setup().sender.wants(7))
})

test('close() sends what is queued, then close{normal}', async t => {
  const { sender, a, seen } = setup()
  a.block()
  sender.offer(events(2, 0))
  sender.offer(events(2, 10))
  const closing = sender.close()
  await settle()
  t.true(sender.open, 'still waiting for the transport')
  a.unblock()
  await closing
  await settle()
  t.deepEqual(seen.messages.map(m => m.type), ['batch', 'batch', 'close'])
  t.like(seen.messages[2], { code: 'normal' })
  t.false(sender.open)
  t.is(sender.stats.undelivered, 0)
})

test('ended() counts queued and unreported events as undelivered; offers after it are ignored', async t => {
  const { sender, a } = setup({ queueEvents: 4 })
  a.block()
  sender.offer(events(3, 0)) // sent
  sender.offer(events(3, 10)) // queued
  sender.offer(events(3, 20)) // dropped
  sender.ended()
  t.like(sender.stats, { undelivered: 6, queuedEvents: 0, dropped: 3 })
  sender.offer(events(3, 30))
  t.is(sender.stats.events, 6)
  t.false(sender.open)
})

test('onEnd listeners run once the final counts are set, and at once when the stream has ended already', t => {
  const { sender, a } = setup({ queueEvents: 4 })
  a.block()
  sender.offer(events(3, 0)) // sent
  sender.offer(events(3, 10)) // queued
  const seen: number[] = []
  sender.onEnd(() => { seen.push(sender.stats.undelivered) })
  t.deepEqual(seen, [], 'not before the end')
  sender.ended()
  sender.ended()
  t.deepEqual(seen, [3], 'once, with the undelivered events counted')
  sender.onEnd(() => { seen.push(-1) })
  t.deepEqual(seen, [3, -1])
})

test('a stream that does not drain within slowConsumerMs is failed with slow-consumer', async t => {
  const { sender, a, seen } = setup({ slowConsumerMs: 20 })
  a.block()
  sender.offer(events(2, 0))
  sender.offer(events(2, 10))
  // The sender's timer does not keep a process alive (unref); this test has to.
  const keepAlive = setInterval(() => {}, 1000)
  t.teardown(() => { clearInterval(keepAlive) })
  const err = await seen.ended
  t.not(err, undefined, 'the receiver sees a reset (the close frame cannot pass a full transport)')
  t.is(sender.framed.failure?.code, 'slow-consumer')
  t.false(sender.open)
  t.is(sender.stats.undelivered, 2)
})
