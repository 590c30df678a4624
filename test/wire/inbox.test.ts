/**
 * Inbox (src/wire/inbox.ts): listeners get every delivery at once; an async iterator drains a bounded
 * queue, and a full queue pauses the streams feeding it until it has half emptied.
 */
import test from 'ava'
import { encodeFrame } from '../../src/codec/index.ts'
import type { Batch } from '../../src/codec/index.ts'
import { FramedStream } from '../../src/wire/framed.ts'
import { Inbox, batchBytes } from '../../src/wire/inbox.ts'
import type { Delivery, Pausable } from '../../src/wire/inbox.ts'
import { memoryStreamPair, settle } from '../helpers/memory-stream.ts'

function delivery (seq: number): Delivery {
  const batch: Batch = { type: 'batch', seq, base: seq, count: 1, channels: Uint32Array.of(0), times: Float64Array.of(seq) }
  return { peer: 'p', port: 'out', to: 'in', batch }
}

class Source implements Pausable {
  calls: string[] = []
  pause (): void { this.calls.push('pause') }
  resume (): void { this.calls.push('resume') }
}

test('listeners and observers see every delivery; nothing queues when only listeners consume', t => {
  const inbox = new Inbox(4)
  const heard: number[] = []
  const observed: number[] = []
  const off = inbox.onDelivery(d => { heard.push(d.batch.seq) })
  inbox.observe(d => { observed.push(d.batch.seq) })
  for (let i = 0; i < 10; i++) inbox.push(delivery(i))
  t.is(heard.length, 10)
  t.is(observed.length, 10)
  t.is(inbox.queued, 0)
  off()
  inbox.push(delivery(10))
  t.is(heard.length, 10, 'a removed listener hears nothing more')
  t.is(inbox.queued, 1, 'without a listener the delivery waits')
})

test('an iterator gets deliveries in order, then ends after end()', async t => {
  const inbox = new Inbox(8)
  inbox.push(delivery(0))
  inbox.push(delivery(1))
  const got: number[] = []
  const reading = (async () => { for await (const d of inbox) got.push(d.batch.seq) })()
  await settle()
  inbox.push(delivery(2))
  inbox.end()
  await reading
  t.deepEqual(got, [0, 1, 2])
})

test('a full queue pauses the sources; they resume once it has half emptied', async t => {
  const inbox = new Inbox(4)
  const a = new Source()
  const b = new Source()
  inbox.addSource(a)
  inbox.addSource(b)
  for (let i = 0; i < 3; i++) inbox.push(delivery(i))
  t.deepEqual(a.calls, [])
  inbox.push(delivery(3))
  t.deepEqual(a.calls, ['pause'])
  t.deepEqual(b.calls, ['pause'])
  inbox.push(delivery(4)) // beyond capacity: still queued (the sources are paused, nothing is dropped)
  t.is(inbox.queued, 5)
  t.deepEqual(a.calls, ['pause'], 'paused once')
  const it = inbox[Symbol.asyncIterator]()
  const seqs: number[] = []
  for (let k = 0; k < 2; k++) seqs.push((await it.next()).value.batch.seq)
  t.deepEqual(a.calls, ['pause'], 'three left: above half')
  seqs.push((await it.next()).value.batch.seq)
  t.deepEqual(a.calls, ['pause', 'resume'], 'two left: half emptied')
  t.deepEqual(b.calls, ['pause', 'resume'])
  seqs.push((await it.next()).value.batch.seq, (await it.next()).value.batch.seq)
  t.deepEqual(seqs, [0, 1, 2, 3, 4])
  await it.return?.(undefined)
})

test('a source added while the inbox is paused starts paused; a removed source is left alone', t => {
  const inbox = new Inbox(1)
  const early = new Source()
  const remove = inbox.addSource(early)
  remove()
  inbox.push(delivery(0))
  t.deepEqual(early.calls, [])
  const late = new Source()
  inbox.addSource(late)
  t.deepEqual(late.calls, ['pause'])
})

function bigDelivery (seq: number, count: number): Delivery {
  const batch: Batch = { type: 'batch', seq, base: seq, count, channels: new Uint32Array(count), times: new Float64Array(count).fill(seq) }
  return { peer: 'p', port: 'out', to: 'in', batch }
}

test('the queue is bounded in bytes: a full byte bound pauses the sources like a full batch count', t => {
  const inbox = new Inbox({ capacity: 1000, maxBytes: 4 * batchBytes(bigDelivery(0, 100).batch) })
  const a = new Source()
  inbox.addSource(a)
  for (let i = 0; i < 3; i++) inbox.push(bigDelivery(i, 100))
  t.deepEqual(a.calls, [])
  inbox.push(bigDelivery(3, 100))
  t.deepEqual(a.calls, ['pause'], 'four batches reach the byte bound, far below the count bound')
  t.is(inbox.stats.queuedBytes, 4 * batchBytes(bigDelivery(0, 100).batch))
})

test('drop policy: unread, a full inbox drops the arriving batches, counts them, and never pauses a source', async t => {
  const inbox = new Inbox({ capacity: 4, whenUnread: 'drop' })
  const a = new Source()
  inbox.addSource(a)
  t.false(inbox.dropsNext, 'empty: the next batch is kept')
  for (let i = 0; i < 4; i++) inbox.push(bigDelivery(i, 3))
  t.true(inbox.dropsNext, 'full and unread: the next batch will be dropped (its receiver may decode it into reused buffers)')
  for (let i = 4; i < 10; i++) inbox.push(bigDelivery(i, 3))
  t.deepEqual(a.calls, [], 'nobody reads: the pushers are not paused')
  t.like(inbox.stats, { queued: 4, droppedBatches: 6, droppedEvents: 18, paused: false })
  // A reader that comes later gets what is queued, then everything pushed from then on.
  const it = inbox[Symbol.asyncIterator]()
  const got: number[] = []
  for (let k = 0; k < 4; k++) got.push((await it.next()).value.batch.seq)
  t.deepEqual(got, [0, 1, 2, 3])
  t.false(inbox.dropsNext, 'read: nothing is dropped')
  const next = it.next()
  inbox.push(bigDelivery(10, 3))
  t.is((await next).value.batch.seq, 10)
  t.is(inbox.stats.droppedBatches, 6, 'nothing dropped while read')
  await it.return?.(undefined)
})

test('drop policy: unread, a batch that does not fit the byte bound is dropped, and so are the next ones until a read', async t => {
  const one = batchBytes(bigDelivery(0, 100).batch)
  const inbox = new Inbox({ capacity: 100, maxBytes: Math.floor(2.5 * one), whenUnread: 'drop' })
  for (let i = 0; i < 3; i++) inbox.push(bigDelivery(i, 100))
  t.like(inbox.stats, { queued: 2, queuedBytes: 2 * one, droppedBatches: 1 })
  t.true(inbox.dropsNext)
  inbox.push(bigDelivery(3, 1))
  t.like(inbox.stats, { queued: 2, droppedBatches: 2 }, 'a small batch that would fit is dropped too: the receiver was told it would be')
  const it = inbox[Symbol.asyncIterator]()
  t.is((await it.next()).value.batch.seq, 0)
  await it.return?.(undefined)
  t.false(inbox.dropsNext, 'room again after a read')
  inbox.push(bigDelivery(4, 100))
  t.like(inbox.stats, { queued: 2, droppedBatches: 2 })
})

test('drop policy: a reader that falls behind pauses the sources; when it stops reading they resume and the excess is dropped', async t => {
  const inbox = new Inbox({ capacity: 4, whenUnread: 'drop' })
  const a = new Source()
  inbox.addSource(a)
  const it = inbox[Symbol.asyncIterator]()
  const first = it.next()
  inbox.push(bigDelivery(0, 1))
  t.is((await first).value.batch.seq, 0)
  for (let i = 1; i <= 6; i++) inbox.push(bigDelivery(i, 1))
  t.deepEqual(a.calls, ['pause'], 'a reader is attached: backpressure, nothing dropped')
  t.is(inbox.stats.droppedBatches, 0)
  t.is(inbox.stats.queued, 6)
  await it.return?.(undefined)
  t.deepEqual(a.calls, ['pause', 'resume'], 'the reader left: the sources are never left paused')
  t.like(inbox.stats, { queued: 4, droppedBatches: 2, paused: false }, 'the newest batches within the bounds are kept')
  inbox.push(bigDelivery(7, 1))
  t.deepEqual(a.calls, ['pause', 'resume'])
  t.like(inbox.stats, { queued: 4, droppedBatches: 3 }, 'unread and full: the arriving batch is dropped')
})

test('watermarks reach watermark listeners', t => {
  const inbox = new Inbox()
  const seen: number[] = []
  const off = inbox.onWatermark(w => { seen.push(w.time) })
  inbox.watermark({ peer: 'p', port: 'out', time: 5 })
  off()
  inbox.watermark({ peer: 'p', port: 'out', time: 6 })
  t.deepEqual(seen, [5])
})

test('a paused inbox pauses a real stream: frames wait in it until the reader catches up', async t => {
  const [a, b] = memoryStreamPair()
  const inbox = new Inbox(2)
  let n = 0
  const framed = new FramedStream(b, { onMessage: () => { inbox.push(delivery(n++)) } })
  inbox.addSource(framed)
  for (let i = 0; i < 5; i++) a.send(encodeFrame({ type: 'describe-request' }))
  await settle()
  t.is(b.readStatus, 'paused')
  t.is(b.pauses, 1)
  t.is(inbox.queued, 2, 'the frames after the pause stay in the stream')
  const got: number[] = []
  const it = inbox[Symbol.asyncIterator]()
  while (got.length < 5) {
    got.push((await it.next()).value.batch.seq)
    await settle()
  }
  t.deepEqual(got, [0, 1, 2, 3, 4])
  t.is(b.readStatus, 'readable')
  t.true(b.resumes >= 1)
  t.true(framed.open)
  await it.return?.(undefined)
})
