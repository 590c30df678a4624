/**
 * Ports on their own (src/ports): what an out port accepts and refuses, how it batches for an attached
 * sender and promises time with watermarks; an in port's counts as the sum of its receivers'; the port
 * registry's names; authorisation lists.
 */
import test from 'ava'
import type { Batch, Message, Watermark } from '../../src/codec/index.ts'
import { ManualClock } from '../../src/base/clock.ts'
import { FramedStream } from '../../src/wire/framed.ts'
import { EventSender } from '../../src/wire/sender.ts'
import { OutPort } from '../../src/ports/out-port.ts'
import { InPort } from '../../src/ports/in-port.ts'
import { PortRegistry } from '../../src/ports/registry.ts'
import { PortError } from '../../src/ports/errors.ts'
import { isAllowed } from '../../src/ports/acl.ts'
import { memoryStreamPair, settle } from '../helpers/memory-stream.ts'
import { observe } from '../wire/helpers.ts'

const T0 = 1_700_000_000_000_000

function port (t: { teardown: (fn: () => void) => void }, init: Partial<ConstructorParameters<typeof OutPort>[0]> = {}): { port: OutPort, clock: ManualClock } {
  const clock = new ManualClock(T0)
  const p = new OutPort({ name: 'spikes', channels: 8, clock, ...init })
  t.teardown(() => { p.stop() })
  return { port: p, clock }
}

function attach (p: OutPort): ReturnType<typeof observe> {
  const [a, b] = memoryStreamPair()
  const seen = observe(b, { kind: p.kind, channels: p.channels, maxEvents: 4096 })
  p.attach(new EventSender({ framed: new FramedStream(a, {}), maxEvents: 4096 }))
  return seen
}

const batches = (m: Message[]): Batch[] => m.filter((x): x is Batch => x.type === 'batch')
const watermarks = (m: Message[]): Watermark[] => m.filter((x): x is Watermark => x.type === 'watermark')

test('an out port refuses, and counts, events out of order, on a missing channel, at a fractional time or with a non-finite value', t => {
  const { port: p } = port(t, { kind: 'weighted' })
  t.true(p.emit(0, T0 + 10, 1))
  t.false(p.emit(0, T0 + 9, 1), 'before the last event')
  t.false(p.emit(8, T0 + 11, 1), 'channel 8 of 8')
  t.false(p.emit(-1, T0 + 11, 1), 'negative channel')
  t.false(p.emit(1.5, T0 + 11, 1), 'fractional channel')
  t.false(p.emit(0, T0 + 11.5, 1), 'fractional time')
  t.false(p.emit(0, T0 + 11, Number.NaN), 'NaN value')
  t.false(p.emit(0, T0 + 11, Number.POSITIVE_INFINITY), 'infinite value')
  t.true(p.emit(7, T0 + 10, 2), 'the same time again is in order')
  t.deepEqual({ emitted: p.stats.emitted, refused: p.stats.refused }, { emitted: 2, refused: 7 })
})

test('an attached sender gets every accepted event once, in order, with the channels and times emitted', async t => {
  const { port: p } = port(t)
  const seen = attach(p)
  const sent: Array<[number, number]> = []
  for (let k = 0; k < 5000; k++) {
    sent.push([k % 8, T0 + k])
    t.true(p.emit(k % 8, T0 + k))
  }
  p.flush()
  await settle(10)
  const got: Array<[number, number]> = []
  for (const b of batches(seen.messages)) for (let i = 0; i < b.count; i++) got.push([b.channels[i], b.times[i]])
  t.deepEqual(got, sent)
  t.true(batches(seen.messages).every(b => b.count <= 4096), 'no batch above the largest the port builds')
  t.is(p.senders.size, 1)
})

test('advance() raises the watermark; an event behind it is refused; idle watermarks follow only advance() when autoWatermark is off', async t => {
  const { port: p, clock } = port(t, { autoWatermark: false, watermarkIntervalMs: 10 })
  const seen = attach(p)
  p.advance(T0 + 500)
  t.is(p.watermark, T0 + 500)
  t.false(p.emit(0, T0 + 499), 'behind the watermark')
  t.true(p.emit(0, T0 + 500))
  p.flush()
  // Idle ticks run on real timers (10 ms) and measure idleness on the port's clock: move the clock a
  // second per turn, far past the watermark, and wait for a few ticks with a generous deadline.
  const end = Date.now() + 20_000
  while (watermarks(seen.messages).length < 2 && Date.now() < end) {
    clock.advance(1_000_000)
    await new Promise(resolve => setTimeout(resolve, 15))
  }
  const ws = watermarks(seen.messages)
  t.true(ws.length >= 2, `${ws.length} watermarks`)
  // The clock is seconds ahead, yet every watermark is what advance() promised, never beyond it.
  t.true(ws.every(w => w.time === T0 + 500), JSON.stringify(ws.map(w => w.time - T0)))
})

test('onAttach fires for each sender attached, and stops after its remover is called', t => {
  const { port: p } = port(t)
  let n = 0
  const off = p.onAttach(() => { n++ })
  attach(p)
  off()
  attach(p)
  t.is(n, 1)
  t.is(p.senders.size, 2)
})

test('an in port counts what its receivers counted, attached and detached', t => {
  const inPort = new InPort({ name: 'in', channels: 4 })
  const r1 = { stats: { batches: 2, events: 10, gapEvents: 1, gaps: 1, lostEvents: 3, lossNotices: 1, watermarks: 0, progress: 0 } }
  const r2 = { stats: { batches: 1, events: 4, gapEvents: 0, gaps: 0, lostEvents: 0, lossNotices: 0, watermarks: 0, progress: 0 } }
  const off1 = inPort.attach(r1)
  inPort.attach(r2)
  inPort.noteRefused()
  t.like(inPort.stats, { streams: 2, batches: 3, events: 14, gapEvents: 1, lostEvents: 3, refused: 1 })
  r1.stats.events = 12
  off1()
  off1()
  t.like(inPort.stats, { streams: 1, batches: 3, events: 16, gapEvents: 1, lostEvents: 3, refused: 1 }, 'a detached receiver counts once, with its final counts')
})

test('the port registry refuses a second port of either direction with the same name, and names a missing one', t => {
  const clock = new ManualClock(T0)
  const r = new PortRegistry()
  const out = new OutPort({ name: 'a', channels: 1, clock })
  t.teardown(() => { out.stop() })
  r.addOut(out)
  t.is(t.throws(() => { r.addIn(new InPort({ name: 'a', channels: 1 })) }, { instanceOf: PortError })?.code, 'port-exists')
  r.addIn(new InPort({ name: 'b', channels: 2 }))
  t.is(t.throws(() => r.out('b'), { instanceOf: PortError })?.code, 'unknown-port')
  t.is(t.throws(() => r.in('zz'), { instanceOf: PortError })?.code, 'unknown-port')
  t.deepEqual(r.info().map(p => `${p.direction}:${p.name}`), ['out:a', 'in:b'])
})

test('authorisation lists: "*" allows every peer, a list only its members, none given falls back to the default', t => {
  t.true(isAllowed('*', 'p1', false))
  t.true(isAllowed(['p1', 'p2'], 'p2', false))
  t.false(isAllowed(['p1'], 'p3', true))
  t.false(isAllowed([], 'p1', true))
  t.true(isAllowed(undefined, 'p1', true))
  t.false(isAllowed(undefined, 'p1', false))
})
