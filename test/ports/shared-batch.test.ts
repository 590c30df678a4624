/**
 * Fan-out shares the encoding of a batch (issue 11, "Hostile peers" 5): an out port packs and encodes each
 * batch once for all its streams without a filter, and once per distinct filter; each stream writes only its
 * own sequence number and length prefix before the shared bytes (SharedBatch). Frames stay byte for byte what
 * the batch encoder gives, and every receiver gets exactly its events. (Noise encryption is per connection
 * and cannot be shared.)
 */
import test from 'ava'
import { SystemClock } from '../../src/base/clock.ts'
import { SharedBatch, encodePackedBatch, packColumns } from '../../src/codec/index.ts'
import type { Batch } from '../../src/codec/index.ts'
import { OutPort } from '../../src/ports/out-port.ts'
import { FramedStream } from '../../src/wire/framed.ts'
import { EventSender } from '../../src/wire/sender.ts'
import { memoryStreamPair, settle } from '../helpers/memory-stream.ts'
import { observe } from '../wire/helpers.ts'

const T0 = 1_700_000_000_000_000
const MAX = Number.MAX_SAFE_INTEGER

test('a shared batch frames to the same bytes as the batch encoder, for every size of seq, with and without values', t => {
  const ch = [0, 5, 200, 70_000, 3]
  const times = [T0, T0 + 1, T0 + 300, T0 + 300, T0 + 1_000_000]
  const values = Float32Array.of(0.5, -1, 2, 0, 1e-3)
  for (const vals of [undefined, values]) {
    const p = packColumns(ch, times, vals, 0, ch.length)
    const expected = (seq: number): Uint8Array => encodePackedBatch(seq, p, true)
    const shared = new SharedBatch(p)
    for (const seq of [0, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, MAX - ch.length]) {
      const frame = shared.frame(seq)
      t.deepEqual(frame.subarray(), expected(seq), `seq ${seq}, ${vals === undefined ? 'spike' : 'weighted'}`)
      t.is(shared.frameLength(seq), frame.byteLength)
      t.is(frame.sublist(frame.byteLength - shared.tail.byteLength).subarray().byteLength, shared.tail.byteLength)
    }
  }
  t.throws(() => new SharedBatch(packColumns([0], [T0], undefined, 0, 1)).frame(-1))
})

test('an out port encodes each batch once per filter: streams without a filter share one, equal filters share one', async t => {
  // Nothing leaves inside emit() or on a timer here: each test batch is one explicit flush.
  const port = new OutPort({ name: 'p', channels: 8, clock: new SystemClock(), flushIntervalUs: 10_000_000, immediateSendsPerSecond: 0, watermarkIntervalMs: 60_000 })
  t.teardown(() => { port.stop() })
  const streams = [undefined, undefined, [1, 3], [1, 3], [2]].map(filter => {
    const [a, b] = memoryStreamPair()
    const sender = new EventSender({ framed: new FramedStream(a, {}), maxEvents: 4096, filter })
    const offered: unknown[] = []
    const offer = sender.offer.bind(sender)
    sender.offer = p => {
      offered.push(p)
      offer(p)
    }
    return { filter, sender, offered, seen: observe(b, { kind: 'spike', channels: 8, maxEvents: 4096 }) }
  })
  // The second unfiltered stream attaches after a first batch: its sequence numbers differ from the first's.
  for (const s of streams) if (s !== streams[1]) port.attach(s.sender)
  const emitted: Array<[number, number]> = []
  const emit = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const e: [number, number] = [(emitted.length * 3) % 8, T0 + emitted.length]
      emitted.push(e)
      port.emit(e[0], e[1])
    }
    port.flush()
  }
  emit(8)
  port.attach(streams[1].sender)
  const later = emitted.length
  emit(16)
  emit(5)
  await settle()

  const [all, late, f13, f13b, f2] = streams
  // The same object was offered where the events are the same.
  // (A port's very first event leaves at once, alone: the first stream saw one batch more than the flushes.)
  t.is(late.offered.length, 2)
  t.true(all.offered.length > late.offered.length)
  for (const [i, b] of late.offered.entries()) t.is(b, all.offered[all.offered.length - 2 + i], 'streams without a filter share the batch object')
  t.deepEqual(f13.offered, f13b.offered)
  for (const [i, b] of f13.offered.entries()) t.is(b, f13b.offered[i], 'equal filters share the batch object')
  for (const b of f2.offered) t.false(f13.offered.includes(b))
  for (const s of streams) for (const b of s.offered) t.true(b instanceof SharedBatch)

  // Every stream got exactly its events, numbered from 0 on its own stream.
  for (const s of streams) {
    const want = emitted.slice(s === late ? later : 0).filter(([c]) => s.filter === undefined || s.filter.includes(c))
    const got = s.seen.messages.filter((m): m is Batch & { type: 'batch' } => m.type === 'batch')
    t.deepEqual(got.flatMap(b => Array.from({ length: b.count }, (_, i) => [b.channels[i], b.times[i]])), want, `filter ${String(s.filter)}`)
    let next = 0
    for (const b of got) {
      t.is(b.seq, next)
      next += b.count
    }
  }
})
