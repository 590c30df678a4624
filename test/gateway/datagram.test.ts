import test from 'ava'
import { InvalidArgumentError } from '../../src/base/errors.ts'
import { datagramHex, decodeDatagram, encodeDatagram, eventDatagram, hubDatagram, readyDatagram } from '../../src/gateway/udp2020/datagram.ts'
import { Timeline } from '../../src/gateway/udp2020/timeline.ts'
import { weightByte } from '../../src/gateway/udp2020/replies.ts'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/ /g, ''), 'hex'))

// [what, datagram hex, fields] — both ways: the hex decodes to the fields and the fields encode to the hex.
const TABLE: Array<[string, string, { code: number, neuron: number, high: number, ticks: number }]> = [
  ['A neuron 7, stimulated AP, 20 ticks', '41000007 01000014', { code: 65, neuron: 7, high: 1, ticks: 20 }],
  ['D neuron 0, PSP, 0 ticks', '44000000 00000000', { code: 68, neuron: 0, high: 0, ticks: 0 }],
  ['D largest neuron and delta', '44ffffff 02ffffff', { code: 68, neuron: 0xffffff, high: 2, ticks: 0xffffff }],
  ['S neuron 3, weight 200, hub time 1000', '53000003 c80003e8', { code: 83, neuron: 3, high: 200, ticks: 1000 }],
  ['R', '52000000 00000000', { code: 82, neuron: 0, high: 0, ticks: 0 }]
]

for (const [what, h, fields] of TABLE) {
  test(`datagram ${what}: ${h}`, t => {
    t.deepEqual(decodeDatagram(hex(h)), fields)
    t.is(datagramHex(encodeDatagram(fields)), h)
  })
}

test('helpers build the same datagrams; wrong lengths decode to undefined; fields out of range throw', t => {
  t.is(datagramHex(eventDatagram('A', 7, 1, 20)), '41000007 01000014')
  t.is(datagramHex(hubDatagram(3, 200, 1000 + 0x1000000)), '53000003 c80003e8')
  t.is(datagramHex(hubDatagram(3, 200, -1)), '53000003 c8ffffff')
  t.is(datagramHex(readyDatagram()), '52000000 00000000')
  for (const n of [0, 7, 9, 16]) t.is(decodeDatagram(new Uint8Array(n)), undefined)
  t.throws(() => encodeDatagram({ code: 65, neuron: 0x1000000, high: 0, ticks: 0 }), { instanceOf: InvalidArgumentError })
  t.throws(() => encodeDatagram({ code: 256, neuron: 0, high: 0, ticks: 0 }), { instanceOf: InvalidArgumentError })
})

const T0 = 1_800_000_000_000_000

test('timeline: anchored at the first arrival, then the sum of the deltas (50 µs ticks), not the arrivals', t => {
  const tl = new Timeline({ reanchorUs: 100_000, maxAheadUs: 100_000 })
  t.deepEqual(tl.next(12345, T0, 'a:1'), { ok: true, timeUs: T0 })
  t.deepEqual(tl.next(20, T0 + 3000, 'a:1'), { ok: true, timeUs: T0 + 1000 })
  t.deepEqual(tl.next(0, T0 + 3500, 'a:1'), { ok: true, timeUs: T0 + 1000 })
  t.deepEqual(tl.next(2000, T0 + 100_000, 'a:1'), { ok: true, timeUs: T0 + 101_000 })
  t.is(tl.lagUs, -1000)
  t.deepEqual(tl.reanchors, { ready: 0, source: 0, lag: 0, ahead: 0 })
})

test('timeline: a delta longer than the arrival interval by more than maxAheadUs is refused; the chain stays', t => {
  const tl = new Timeline({ reanchorUs: 100_000, maxAheadUs: 100_000 })
  tl.next(0, T0, 'a:1')
  const r = tl.next(0xffffff, T0 + 1000, 'a:1')
  t.is(r.ok, false)
  t.is(!r.ok && r.reason, 'delta-overflow')
  t.deepEqual(tl.next(40, T0 + 2000, 'a:1'), { ok: true, timeUs: T0 + 2000 })
})

test('timeline: datagrams read late together after a stall of the gateway keep their deltas (no delta-overflow)', t => {
  const tl = new Timeline({ reanchorUs: 1_000_000, maxAheadUs: 100_000 })
  tl.next(0, T0, 'a:1')
  // Sent at T0 + 500 ms and T0 + 1 s; the gateway stalled until T0 + 1.2 s and read both then.
  t.deepEqual(tl.next(10_000, T0 + 1_200_000, 'a:1'), { ok: true, timeUs: T0 + 500_000 })
  t.deepEqual(tl.next(10_000, T0 + 1_200_010, 'a:1'), { ok: true, timeUs: T0 + 1_000_000 })
  // A delta that runs ahead of the arrival, though, is refused.
  const r = tl.next(20_000, T0 + 1_200_020, 'a:1')
  t.true(!r.ok && r.reason === 'delta-overflow')
})

test('timeline: re-anchored after R, a new source address, a lag or a lead beyond reanchorUs', t => {
  const tl = new Timeline({ reanchorUs: 100_000, maxAheadUs: 1_000_000 })
  tl.next(0, T0, 'a:1')
  // The sender restarted after 2 s and its deltas start again: the chain would be 2 s behind.
  t.deepEqual(tl.next(10, T0 + 2_000_000, 'a:1'), { ok: true, timeUs: T0 + 2_000_000, reanchored: 'lag', offUs: 2_000_000 - 500 })
  t.deepEqual(tl.next(10, T0 + 2_000_600, 'a:1'), { ok: true, timeUs: T0 + 2_000_500 })
  const moved = tl.next(10, T0 + 2_001_000, 'a:2')
  t.true(moved.ok && moved.reanchored === 'source' && moved.timeUs === T0 + 2_001_000)
  tl.ready()
  const ready = tl.next(10, T0 + 2_002_000, 'a:2')
  t.true(ready.ok && ready.reanchored === 'ready' && ready.timeUs === T0 + 2_002_000)
  // A fast sender clock: deltas add up to more than the time that passed.
  let at = T0 + 2_002_000
  let r = tl.next(0, at, 'a:2')
  for (let i = 0; i < 200 && !(r.ok && r.reanchored !== undefined); i++) {
    at += 10_000
    r = tl.next(220, at, 'a:2')
  }
  t.true(r.ok && r.reanchored === 'ahead', JSON.stringify(r))
  t.deepEqual(tl.reanchors, { ready: 1, source: 1, lag: 1, ahead: 1 })
})

test('timeline: R before the first datagram changes nothing', t => {
  const tl = new Timeline({ reanchorUs: 100_000, maxAheadUs: 100_000 })
  tl.ready()
  t.deepEqual(tl.next(5, T0, 'a:1'), { ok: true, timeUs: T0 })
  t.deepEqual(tl.reanchors, { ready: 0, source: 0, lag: 0, ahead: 0 })
})

test('the weight byte: rounded, clipped to 0..255 (counted), spikeWeight for events without a value', t => {
  const cases: Array<[number | undefined, number, boolean]> = [
    [0, 0, false], [100.4, 100, false], [100.5, 101, false], [255, 255, false], [255.4, 255, false],
    [255.6, 255, true], [300, 255, true], [-0.4, 0, false], [-5, 0, true], [Number.NaN, 0, true], [undefined, 7, false]
  ]
  for (const [value, weight, clipped] of cases) t.deepEqual(weightByte(value, 7), { weight, clipped }, String(value))
})
