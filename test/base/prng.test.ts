import test from 'ava'
import { Prng, prng } from '../../src/base/prng.ts'
import { InvalidArgumentError } from '../../src/base/errors.ts'

test('xoshiro128** matches the reference implementation from state {1, 2, 3, 4}', t => {
  const p = Prng.fromState({ s: [1, 2, 3, 4], spare: null })
  const out = Array.from({ length: 8 }, () => p.nextUint32())
  // Output of the reference C code (prng.di.unimi.it/xoshiro128starstar.c) for that state.
  t.deepEqual(out, [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849])
})

test('same seed gives the same sequence, different seeds differ', t => {
  const a = prng(42)
  const b = prng(42)
  const c = prng(43)
  const sa = Array.from({ length: 100 }, () => a.next())
  const sb = Array.from({ length: 100 }, () => b.next())
  const sc = Array.from({ length: 100 }, () => c.next())
  t.deepEqual(sa, sb)
  t.notDeepEqual(sa, sc)
  t.not(prng(2 ** 40).nextUint32(), prng(0).nextUint32())
})

test('uniform, exponential and normal draws have the right moments', t => {
  const p = prng(7)
  const n = 100_000
  let su = 0
  let se = 0
  let sn = 0
  let sn2 = 0
  for (let i = 0; i < n; i++) {
    const u = p.next()
    t.true(u >= 0 && u < 1)
    su += u
    se += p.exponential(4)
    const z = p.normal(3, 2)
    sn += z
    sn2 += z * z
  }
  const meanN = sn / n
  // Tolerances are about 5 standard errors.
  t.true(Math.abs(su / n - 0.5) < 5 * Math.sqrt(1 / 12 / n))
  t.true(Math.abs(se / n - 0.25) < 5 * 0.25 / Math.sqrt(n))
  t.true(Math.abs(meanN - 3) < 5 * 2 / Math.sqrt(n))
  t.true(Math.abs(Math.sqrt(sn2 / n - meanN * meanN) - 2) < 0.05)
})

test('int(n) stays in range and covers it', t => {
  const p = prng(1)
  const seen = new Set<number>()
  for (let i = 0; i < 1000; i++) {
    const k = p.int(7)
    t.true(Number.isInteger(k) && k >= 0 && k < 7)
    seen.add(k)
  }
  t.is(seen.size, 7)
})

test('fork depends on the seed and stream only, not on draws', t => {
  const a = prng(5)
  const b = prng(5)
  for (let i = 0; i < 10; i++) b.next()
  t.is(a.fork(3).nextUint32(), b.fork(3).nextUint32())
  t.not(a.fork(3).nextUint32(), a.fork(4).nextUint32())
})

test('state can be saved and restored', t => {
  const p = prng(9)
  p.normal()
  const s = JSON.parse(JSON.stringify(p.state()))
  const x = [p.normal(), p.next(), p.nextUint32()]
  const q = Prng.fromState(s)
  t.deepEqual([q.normal(), q.next(), q.nextUint32()], x)
})

test('invalid seeds are refused', t => {
  for (const s of [-1, 1.5, 2 ** 53, Number.NaN]) {
    const err = t.throws(() => prng(s), { instanceOf: InvalidArgumentError })
    t.is(err?.code, 'invalid-argument')
  }
})
