/**
 * RealTimeDriver on a manual clock: when a source starts ('now', or on the port's first stream), what
 * it emits, and that nothing (events or watermarks) leaves before the start.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { ManualClock } from '../../src/base/clock.ts'
import { SharedBatch, decodeColumns } from '../../src/codec/batch.ts'
import { decodeMessage, splitFrames } from '../../src/codec/index.ts'
import type { PackedColumns } from '../../src/codec/index.ts'
import { RealTimeDriver } from '../../src/hosting/driver.ts'
import { ModelUsageError } from '../../src/models/errors.ts'
import { pacemaker, parseSpikeTrain, replay } from '../../src/models/index.ts'
import { OutPort } from '../../src/ports/out-port.ts'
import type { EventSender } from '../../src/wire/sender.ts'

const T0 = 1_700_000_000_000_000
/** 0,1000 / 1,21000 / 2,41000 …: 10 events 20 ms apart, the first 1 ms into the file. */
const TRAIN = parseSpikeTrain(['channel,time_us', ...Array.from({ length: 10 }, (_, k) => `${k % 3},${1000 + k * 20_000}`)].join('\n'))

/** A stream stand-in that records the event times and watermarks the port offers it. */
function fakeSender (): { sender: EventSender, times: number[], watermarks: number[] } {
  const times: number[] = []
  const watermarks: number[] = []
  const sender = {
    filtered: false,
    maxEvents: 4096,
    wants: () => true,
    // An unfiltered stream is offered a SharedBatch (encoded once for every such stream); decode its frame.
    offer: (p: PackedColumns | SharedBatch) => {
      if (p instanceof SharedBatch) {
        const m = decodeMessage(splitFrames(p.frame(0).subarray())[0])
        if (m.type !== 'batch') throw new Error(`expected a batch, got ${m.type}`)
        times.push(...Array.from(m.times.subarray(0, m.count)))
      } else {
        times.push(...decodeColumns(0, p.base, p.count, p.ch, p.dt, p.val, {}).times)
      }
    },
    watermark: (w: number) => { watermarks.push(w) }
  }
  return { sender: sender as unknown as EventSender, times, watermarks }
}

function setup (t: ExecutionContext, start?: 'first-subscriber' | 'now'): { clock: ManualClock, port: OutPort, driver: RealTimeDriver } {
  const clock = new ManualClock(T0)
  const port = new OutPort({ name: 'spikes', channels: 3, clock })
  // The test ticks by hand: the driver's own timer is kept out of the way.
  const driver = new RealTimeDriver(replay(TRAIN, { startUs: T0, start }), port, clock, { tickMs: 3_600_000 })
  t.teardown(() => { driver.stop(); port.stop() })
  return { clock, port, driver }
}

/** Advance the clock in 1 ms steps, ticking the driver and flushing the port as the event loop would. */
function run (clock: ManualClock, driver: RealTimeDriver, port: OutPort, ms: number): void {
  for (let i = 0; i < ms; i++) {
    clock.advance(1000)
    driver.tick()
    port.flush()
  }
}

test('first-subscriber (the replay default): the train waits for the first stream, then starts at its attach time', t => {
  const { clock, port, driver } = setup(t)
  t.is(driver.start, 'first-subscriber')
  run(clock, driver, port, 500)
  t.is(driver.startedUs, undefined)
  t.is(driver.stats.emitted, 0, 'nothing is played before a stream attaches')
  t.is(port.watermark, 0, 'no watermark is promised before the start')
  const attachedAt = clock.nowUs()
  const rx = fakeSender()
  port.attach(rx.sender)
  t.is(driver.startedUs, attachedAt)
  run(clock, driver, port, 250)
  // Every event reaches the first stream, the first at the attach time, the file's intervals kept.
  t.deepEqual(rx.times, Array.from(TRAIN.timeUs, f => attachedAt + f - 1000))
  t.is(driver.stats.emitted, 10)
  t.true(port.watermark >= rx.times[9], 'the watermark follows the played time')
  // A second stream does not restart the train.
  port.attach(fakeSender().sender)
  t.is(driver.startedUs, attachedAt)
})

test('now: the train starts when driven; a stream attached later gets only what is still to come', t => {
  const { clock, port, driver } = setup(t, 'now')
  t.is(driver.startedUs, T0)
  run(clock, driver, port, 100) // events at +0, +20, … +100 ms have been played to nobody
  const rx = fakeSender()
  port.attach(rx.sender)
  run(clock, driver, port, 200)
  t.is(driver.stats.emitted, 10)
  t.deepEqual(rx.times, [6, 7, 8, 9].map(k => T0 + k * 20_000))
})

test('a port that already has a stream starts a first-subscriber source at once', t => {
  const clock = new ManualClock(T0)
  const port = new OutPort({ name: 'spikes', channels: 3, clock })
  port.attach(fakeSender().sender)
  clock.advance(5000)
  const driver = new RealTimeDriver(replay(TRAIN, { startUs: T0 }), port, clock, { tickMs: 3_600_000 })
  t.teardown(() => { driver.stop(); port.stop() })
  t.is(driver.startedUs, T0 + 5000)
})

test('only a model that can be started later may wait for a first subscriber', t => {
  const clock = new ManualClock(T0)
  const port = new OutPort({ name: 'spikes', channels: 1, clock })
  t.teardown(() => { port.stop() })
  const err = t.throws(() => new RealTimeDriver(pacemaker({ channels: 1, rateHz: 10, startUs: T0 }), port, clock, { start: 'first-subscriber' }), { instanceOf: ModelUsageError })
  t.is(err?.code, 'invalid-start')
  const p = new RealTimeDriver(pacemaker({ channels: 1, rateHz: 10, startUs: T0 }), port, clock, { tickMs: 3_600_000 })
  t.is(p.start, 'now', 'sources without a start of their own run at once')
  p.stop()
})
