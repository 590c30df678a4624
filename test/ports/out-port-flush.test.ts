/**
 * OutPort batching by time (issue 11, "Hostile peers" 5): a lone event leaves at once; under load the
 * port flushes at most once per `flushIntervalUs`, so each flush (a frame and an encryption per
 * subscriber) carries every event of the interval; with an interval of 0 it flushes every event-loop turn.
 * Timings are asserted as lower bounds only (a timer never fires early; a busy machine only delays).
 */
import test from 'ava'
import { SystemClock } from '../../src/base/clock.ts'
import type { PackedColumns } from '../../src/codec/index.ts'
import { OutPort } from '../../src/ports/out-port.ts'
import type { EventSender } from '../../src/wire/sender.ts'
import { until } from '../helpers/nodes.ts'

const clock = new SystemClock()

/** A port with one recording stream attached: the event count of every batch it was offered. */
function port (flushIntervalUs: number): { port: OutPort, batches: number[] } {
  const p = new OutPort({ name: 'p', channels: 4, clock, flushIntervalUs, watermarkIntervalMs: 60_000 })
  const batches: number[] = []
  const sink = { filtered: false, maxEvents: 4096, offer: (c: PackedColumns) => { batches.push(c.count) }, watermark: () => {} }
  p.attach(sink as unknown as EventSender)
  return { port: p, batches }
}

async function turns (n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise(resolve => setImmediate(resolve))
}

test('under load events wait for the flush interval and leave together; a lone event leaves at once', async t => {
  const { port: p, batches } = port(50_000)
  t.teardown(() => { p.stop() })
  const t0 = Math.round(clock.nowUs())
  p.emit(0, t0)
  t.deepEqual(batches, [1], 'a lone event is sent inside emit()')
  const since = performance.now()
  for (let k = 1; k <= 10; k++) {
    p.emit(k % 4, t0 + k)
    await turns(1)
  }
  t.deepEqual(batches, [1], 'events within the interval after a flush wait, across turns')
  await until(() => batches.length === 2, 20_000, 'the timed flush')
  t.true(performance.now() - since >= 40, 'not before the interval')
  t.deepEqual(batches, [1, 10], 'one flush carries every event of the interval')
  await new Promise(resolve => setTimeout(resolve, 80))
  p.emit(1, Math.round(clock.nowUs()))
  await turns(1)
  t.deepEqual(batches, [1, 10, 1], 'after a quiet interval nothing waits for a timer')
  await new Promise(resolve => setTimeout(resolve, 80))
  p.emit(2, Math.round(clock.nowUs()))
  t.deepEqual(batches, [1, 10, 1, 1], 'and at a low rate each event is sent inside emit()')
})

test('emitColumns coalesces by time too', async t => {
  const { port: p, batches } = port(50_000)
  t.teardown(() => { p.stop() })
  const t0 = Math.round(clock.nowUs())
  p.emit(0, t0)
  p.emitColumns(Uint32Array.of(1, 2), Float64Array.of(t0 + 1, t0 + 2), undefined, 2)
  await turns(3)
  t.deepEqual(batches, [1])
  await until(() => batches.length === 2, 20_000, 'the timed flush')
  t.deepEqual(batches, [1, 2])
})

test('with an interval of 0 the port flushes at the end of every turn (the former behaviour)', async t => {
  const { port: p, batches } = port(0)
  t.teardown(() => { p.stop() })
  const t0 = Math.round(clock.nowUs())
  p.emit(0, t0)
  p.emit(1, t0 + 1)
  p.emit(2, t0 + 2)
  t.deepEqual(batches, [1])
  await turns(2)
  t.deepEqual(batches, [1, 2])
})
