import test from 'ava'
import { InvalidClockSampleError } from '../../../src/protocols/clock/errors.ts'
import { clockSample } from '../../../src/protocols/clock/sample.ts'

test('offset and delay from the four timestamps', t => {
  // Server 1 s ahead; 40 µs out, 10 µs processing, 50 µs back.
  const s = clockSample(100, 1_000_140, 1_000_150, 200)
  t.is(s.offsetUs, ((1_000_140 - 100) + (1_000_150 - 200)) / 2)
  t.is(s.offsetUs, 999_995) // true offset 1_000_000, error = (40 − 50)/2
  t.is(s.delayUs, 90)
  t.is(s.atLocalUs, 150)
})

test('a server behind the client gives a negative offset', t => {
  const s = clockSample(1_000_000, 200_020, 200_030, 1_000_050)
  t.is(s.offsetUs, -800_000)
  t.is(s.delayUs, 40)
})

test('a symmetric path gives the exact offset', t => {
  const off = -123_456
  const t1 = 5_000_000
  const s = clockSample(t1, t1 + 700 + off, t1 + 750 + off, t1 + 1450)
  t.is(s.offsetUs, off)
  t.is(s.delayUs, 1400)
})

const invalid: Array<[string, number[]]> = [
  ['NaN', [NaN, 1, 2, 3]],
  ['Infinity', [0, Infinity, Infinity, 3]],
  ['reply before request', [100, 150, 160, 90]],
  ['server answered before receiving', [100, 160, 150, 200]],
  ['negative delay beyond tolerance', [100, 150, 250, 150]]
]
for (const [name, [t1, t2, t3, t4]] of invalid) {
  test(`rejects: ${name}`, t => {
    const err = t.throws(() => clockSample(t1, t2, t3, t4), { instanceOf: InvalidClockSampleError })
    t.is(err?.code, 'invalid-clock-sample')
  })
}

test('a slightly negative delay within the tolerance is clamped to 0', t => {
  const s = clockSample(100, 150, 165, 110) // δ = 10 − 15 = −5
  t.is(s.delayUs, 0)
  t.throws(() => clockSample(100, 150, 165, 110, { negativeDelayToleranceUs: 2 }), { instanceOf: InvalidClockSampleError })
})
