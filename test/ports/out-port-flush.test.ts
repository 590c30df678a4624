/**
 * OutPort batching by time (issue 11, "Hostile peers" 5): a lone event leaves at once; under load the
 * port flushes at most once per `flushIntervalUs`, so each flush (a frame and an encryption per
 * subscriber) carries every event of the interval; with an interval of 0 it flushes every event-loop turn.
 * Timings are asserted as lower bounds only (a timer never fires early; a busy machine only delays). The
 * interval in the timer tests is 2 s, so a pause of the test process between two event-loop turns (seen
 * at 50 ms on a busy machine) cannot let the timed flush in early.
 */
import test from 'ava'
import { ManualClock, SystemClock } from '../../src/base/clock.ts'
import type { PackedColumns } from '../../src/codec/index.ts'
import { OutPort } from '../../src/ports/out-port.ts'
import type { EventSender } from '../../src/wire/sender.ts'
import { until } from '../helpers/nodes.ts'

const clock = new SystemClock()
/** The flush interval of the timer tests: long against any pause of a busy machine. */
const INTERVAL_US = 2_000_000

/** A port with one recording stream attached: the event count of every batch it was offered. */
function port (flushIntervalUs: number, immediateSendsPerSecond = 0): { port: OutPort, batches: number[] } {
  // A send budget of 0 (the default here): only the interval decides, as on a port with many subscribers.
  const p = new OutPort({ name: 'p', channels: 4, clock, flushIntervalUs, immediateSendsPerSecond, watermarkIntervalMs: 60_000 })
  const batches: number[] = []
  const sink = { filtered: false, maxEvents: 4096, offer: (c: PackedColumns) => { batches.push(c.count) }, watermark: () => {} }
  p.attach(sink as unknown as EventSender)
  return { port: p, batches }
}

async function turns (n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise(resolve => setImmediate(resolve))
}

test('under load events wait for the flush interval and leave together; a lone event leaves at once', async t => {
  const { port: p, batches } = port(INTERVAL_US)
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
  t.true(performance.now() - since >= INTERVAL_US / 1000 - 10, 'not before the interval')
  t.deepEqual(batches, [1, 10], 'one flush carries every event of the interval')
  await new Promise(resolve => setTimeout(resolve, INTERVAL_US / 1000 + 50))
  p.emit(1, Math.round(clock.nowUs()))
  await turns(1)
  t.deepEqual(batches, [1, 10, 1], 'after a quiet interval nothing waits for a timer')
  await new Promise(resolve => setTimeout(resolve, INTERVAL_US / 1000 + 50))
  p.emit(2, Math.round(clock.nowUs()))
  t.deepEqual(batches, [1, 10, 1, 1], 'and at a low rate each event is sent inside emit()')
})

test('within its send budget a port sends each event after a pause at once, even right after a flush; past it, events wait', async t => {
  // Budget 1,000 sends/s: at most 10 at once (10 ms of the rate), refilled at one per ms. The port's clock
  // is manual, so the budget and the pauses are exact whatever the machine does.
  const manual = new ManualClock(1_700_000_000_000_000)
  const p = new OutPort({ name: 'p', channels: 4, clock: manual, flushIntervalUs: 50_000, immediateSendsPerSecond: 1000, watermarkIntervalMs: 60_000 })
  t.teardown(() => { p.stop() })
  const batches: number[] = []
  p.attach({ filtered: false, maxEvents: 4096, offer: (c: PackedColumns) => { batches.push(c.count) }, watermark: () => {} } as unknown as EventSender)
  for (let k = 0; k < 30; k++) {
    p.emit(k % 4, manual.nowUs())
    manual.advance(300) // a pause of 300 µs (the port's "pause in the stream" is 200 µs)
  }
  // The bucket starts full (10); each flush spends one send and each 300 µs pause refills 0.3, so it lasts
  // 13 events: before the k-th it holds 10 − 0.7·k, and 10 − 0.7·12 ≥ 1 > 10 − 0.7·13. Each of these 13
  // came well within the 50 ms interval of the previous flush; the 14th waits for the interval and the rest
  // join it.
  t.deepEqual(batches, Array(13).fill(1), JSON.stringify(batches))
  await until(() => batches.reduce((a, b) => a + b, 0) === 30, 20_000, 'the events past the budget, at the interval')
  t.deepEqual(batches.slice(13), [17], 'the rest left together')
})

test('emitColumns coalesces by time too', async t => {
  const { port: p, batches } = port(INTERVAL_US)
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
