import test from 'ava'
import { DelayLine, MAX_SEGMENT_BYTES } from '../../src/netem/delay-line.ts'
import { isLoopback } from '../../src/netem/address.ts'
import { NetemParamsError } from '../../src/netem/errors.ts'
import { DEFAULT_LINK, burstOf, resolveLink, sampleDelayUs } from '../../src/netem/link.ts'
import { prng } from '../../src/base/prng.ts'
import { std } from './helpers.ts'
import type { LinkParams } from '../../src/netem/link.ts'

const T0 = 1_700_000_000_000_000 // µs, as from a ManualClock

function line (params: LinkParams, seed = 1): DelayLine {
  return new DelayLine(resolveLink(DEFAULT_LINK, params), prng(seed))
}

function releases (l: DelayLine): number[] {
  return l.takeDue(Infinity).map(c => c.releaseUs - T0)
}

test('fixed delay: each chunk is due at arrival + delay, and takeDue only returns due chunks', t => {
  const l = line({ delayMs: 10 })
  l.push(new Uint8Array(100), T0)
  l.push(new Uint8Array(50), T0 + 5000)
  t.is(l.queuedBytes, 150)
  t.is(l.queuedChunks, 2)
  t.is(l.nextDueUs(), T0 + 10_000)
  t.deepEqual(l.takeDue(T0 + 9_999), [])
  const first = l.takeDue(T0 + 10_000)
  t.is(first.length, 1)
  t.is(first[0].data.byteLength, 100)
  t.is(l.queuedBytes, 50)
  t.deepEqual(releases(l), [15_000])
  t.is(l.nextDueUs(), undefined)
  t.is(l.push(new Uint8Array(0), T0), 0, 'empty reads are ignored')
})

test('chunks never overtake: release = max(previous release, arrival + delay + jitter)', t => {
  const l = line({ delayMs: 20, jitterMs: 15 }, 42)
  const arrivals = Array.from({ length: 2000 }, (_, i) => T0 + i * 500) // every 0.5 ms, far below the spread
  for (const a of arrivals) l.push(new Uint8Array(10), a)
  const chunks = l.takeDue(Infinity)
  let prev = -Infinity
  let held = 0
  chunks.forEach((c, i) => {
    t.true(c.releaseUs >= prev)
    t.true(c.releaseUs >= arrivals[i] + 5_000, 'never before delay − jitter')
    t.true(c.releaseUs <= arrivals[i] + 35_000, 'never after delay + jitter')
    if (c.releaseUs === prev) held++
    prev = c.releaseUs
  })
  t.true(held > 100, 'dense traffic is held behind late chunks')
})

test('the same seed repeats the same delays; another seed does not', t => {
  const run = (seed: number): number[] => {
    const l = line({ delayMs: 5, jitterMs: 3, jitter: 'normal' }, seed)
    for (let i = 0; i < 50; i++) l.push(new Uint8Array(1), T0 + i * 20_000)
    return releases(l)
  }
  t.deepEqual(run(9), run(9))
  t.notDeepEqual(run(9), run(10))
})

test('uniform jitter: bounds [delay − j, delay + j], standard deviation j/√3', t => {
  const p = resolveLink(DEFAULT_LINK, { delayMs: 20, jitterMs: 6 })
  const rng = prng(5)
  const xs = Array.from({ length: 20_000 }, () => sampleDelayUs(p, rng) / 1000)
  t.true(Math.min(...xs) >= 14 && Math.max(...xs) <= 26)
  t.true(Math.min(...xs) < 14.1 && Math.max(...xs) > 25.9)
  t.true(Math.abs(std(xs) / (6 / Math.sqrt(3)) - 1) < 0.03, `std ${std(xs)}`)
  const mean = xs.reduce((a, b) => a + b) / xs.length
  t.true(Math.abs(mean - 20) < 0.1)
})

test('normal jitter: truncated at ±2 j, standard deviation ≈ 0.88 j', t => {
  const p = resolveLink(DEFAULT_LINK, { delayMs: 20, jitterMs: 4, jitter: 'normal' })
  const rng = prng(6)
  const xs = Array.from({ length: 20_000 }, () => sampleDelayUs(p, rng) / 1000)
  t.true(Math.min(...xs) >= 12 && Math.max(...xs) <= 28)
  t.true(Math.abs(std(xs) / (0.88 * 4) - 1) < 0.04, `std ${std(xs)}`)
})

test('delay plus jitter is clamped at zero', t => {
  const p = resolveLink(DEFAULT_LINK, { delayMs: 1, jitterMs: 5 })
  const rng = prng(7)
  const xs = Array.from({ length: 1000 }, () => sampleDelayUs(p, rng))
  t.true(xs.every(x => x >= 0))
  t.true(xs.some(x => x === 0))
})

test('rate limit: a burst of B bytes passes at once, then bytes leave at R', t => {
  // R = 1 MB/s (1 byte/µs), B = 10 000 bytes: 100 000 bytes read at once leave in 10 segments, 10 ms apart.
  const l = line({ rateBytesPerSec: 1_000_000, burstBytes: 10_000 })
  t.is(l.push(new Uint8Array(100_000), T0), 10)
  t.deepEqual(releases(l), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90].map(ms => ms * 1000))
  // After 1 s idle the bucket is full again: one burst at once, then paced.
  l.push(new Uint8Array(20_000), T0 + 1_000_000)
  t.deepEqual(releases(l), [1_000_000, 1_010_000])
})

test('rate limit with delay: the delay is added after the bottleneck; segments are at most 16 KiB', t => {
  const l = line({ rateBytesPerSec: 10_000_000, burstBytes: 100_000, delayMs: 3 })
  t.is(l.push(new Uint8Array(200_000), T0), Math.ceil(200_000 / MAX_SEGMENT_BYTES))
  const rs = releases(l)
  t.is(rs[0], 3000)
  // 200 000 bytes, 100 000 of them as burst, the rest at 10 bytes/µs: the last byte leaves at 10 ms (+3 ms).
  t.true(Math.abs(rs[rs.length - 1] - 13_000) <= MAX_SEGMENT_BYTES / 10)
})

test('default burst is 5 ms of traffic within [1500, 65536] bytes', t => {
  const b = (rate: number): number => burstOf(resolveLink(DEFAULT_LINK, { rateBytesPerSec: rate }))
  t.is(b(1_000_000), 5000)
  t.is(b(10_000), 1500)
  t.is(b(1e9), 65536)
  t.is(b(Infinity), Infinity)
})

test('new parameters apply to new bytes only', t => {
  const l = line({ delayMs: 50 })
  l.push(new Uint8Array(1), T0)
  l.setParams(resolveLink(l.params, { delayMs: 10 }))
  l.push(new Uint8Array(1), T0 + 1000)
  // The second chunk would be due at 11 ms but may not overtake the first.
  t.deepEqual(releases(l), [50_000, 50_000])
  l.push(new Uint8Array(1), T0 + 100_000)
  t.deepEqual(releases(l), [110_000])
})

test('clear() drops the queue', t => {
  const l = line({ delayMs: 5 })
  l.push(new Uint8Array(10), T0)
  l.clear()
  t.is(l.queuedBytes, 0)
  t.is(l.nextDueUs(), undefined)
})

test('resolveLink rejects out-of-range parameters', t => {
  const bad: LinkParams[] = [
    { delayMs: -1 }, { delayMs: NaN }, { delayMs: Infinity }, { jitterMs: -0.5 },
    { jitter: 'pareto' as 'normal' }, { rateBytesPerSec: 0 }, { rateBytesPerSec: -5 },
    { burstBytes: 0 }, { burstBytes: 1.5 }, { queueBytes: 0 }
  ]
  for (const p of bad) {
    const err = t.throws(() => resolveLink(DEFAULT_LINK, p), { instanceOf: NetemParamsError }, JSON.stringify(p))
    t.is(err?.code, 'invalid-link-params')
  }
  t.is(resolveLink(DEFAULT_LINK, { delayMs: 0.25 }).delayMs, 0.25)
})

test('isLoopback accepts 127.0.0.0/8 and ::1 literals only', t => {
  for (const h of ['127.0.0.1', '127.1.2.3', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1', '0::1']) t.true(isLoopback(h), h)
  for (const h of ['localhost', '0.0.0.0', '128.0.0.1', '10.0.0.1', '::', '::2', '1::1', 'fe80::1%lo', '::ffff:127.0.0.1', '', '127.0.0.1.']) {
    t.false(isLoopback(h), h)
  }
})
