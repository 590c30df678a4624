/**
 * Every clocksync vector (spec §9.3.3) against the reference clock code: clockSample for θ, δ and the
 * sample faults, ClockEstimator for the clock filter's picks and the estimate, and a PeerClock over real
 * libp2p on loopback, talking to a scripted server, for the faults that must close the stream.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { InvalidClockSampleError } from '../../src/protocols/clock/errors.ts'
import { ClockEstimator } from '../../src/protocols/clock/estimator.ts'
import { PeerClock } from '../../src/protocols/clock/peer-clock.ts'
import { clockSample } from '../../src/protocols/clock/sample.ts'
import type { ClockSample } from '../../src/protocols/clock/sample.ts'
import { SystemClock } from '../../src/base/clock.ts'
import { CLOCK_PROTOCOL, FrameDecoder, decodeMessage, encodeFrame } from '../../src/codec/index.ts'
import type { ClockRequest, ClockResponse } from '../../src/codec/index.ts'
import { startAdversary } from '../helpers/adversary.ts'

type Sample = [number, number, number, number]
interface Vector {
  id: string
  fail: boolean
  code?: string
  close_code?: string
  context: { negative_delay_tolerance_us: number }
  exchange?: { requests: ClockRequest[], response: ClockResponse }
  samples?: Sample[]
  bursts?: number[]
  offset?: number[]
  delay?: number[]
  rejected?: Array<[number, string]>
  filtered?: number[]
  estimate?: {
    at_local_us: number
    offset_us: number
    offset_tolerance_us: number
    drift_ppm?: number
    drift_tolerance_ppm?: number
    uncertainty_min_us: number
    true_offset_us?: number
  }
}

const dir = join(import.meta.dirname, '../../interop-tests/vectors')
const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Array<{ area: string, file: string }>
const vectors = index.filter(e => e.area === 'clocksync').map(e => JSON.parse(readFileSync(join(dir, e.file), 'utf8')) as Vector)

function sampleOf (v: Vector, s: Sample): ClockSample {
  return clockSample(s[0], s[1], s[2], s[3], { negativeDelayToleranceUs: v.context.negative_delay_tolerance_us })
}

/** Indexes of the samples the vector says must be discarded (every sample of a failure). */
function discarded (v: Vector): Set<number> {
  return new Set(v.fail ? v.samples!.map((_, i) => i) : (v.rejected ?? []).map(([i]) => i))
}

test('there are clocksync vectors of every kind', t => {
  t.true(vectors.filter(v => !v.fail).length >= 7)
  t.true(vectors.some(v => v.exchange !== undefined) && vectors.some(v => v.fail && v.samples !== undefined))
})

for (const v of vectors.filter(x => x.samples !== undefined)) {
  test(`${v.id}: θ and δ of every sample, and the samples refused`, t => {
    const drop = discarded(v)
    v.samples!.forEach((s, i) => {
      if (drop.has(i)) {
        const err = t.throws(() => sampleOf(v, s), { instanceOf: InvalidClockSampleError }, `sample ${i} is refused`)
        t.is(err?.code, 'invalid-clock-sample')
        return
      }
      const cs = sampleOf(v, s)
      t.is(cs.offsetUs, v.offset![i], `θ of sample ${i}`)
      // The reference reports δ⁺ = max(δ, 0), which §9.3.3 uses wherever a sample's delay counts.
      t.is(cs.delayUs, Math.max(0, v.delay![i]), `δ of sample ${i}`)
      t.is(cs.atLocalUs, (s[0] + s[3]) / 2)
    })
  })
}

/** The accepted samples with their burst ids, in order. */
function accepted (v: Vector): Array<{ i: number, burst: number, sample: ClockSample }> {
  const drop = discarded(v)
  return v.samples!.flatMap((s, i) => drop.has(i) ? [] : [{ i, burst: v.bursts?.[i] ?? i, sample: sampleOf(v, s) }])
}

for (const v of vectors.filter(x => !x.fail)) {
  test(`${v.id}: the clock filter keeps the listed sample of each burst`, t => {
    const all = accepted(v)
    const bursts = [...new Set(all.map(a => a.burst))]
    t.is(bursts.length, v.filtered!.length)
    bursts.forEach((b, k) => {
      // One burst alone: the reference's estimate is then exactly its representative's θ and δ⁺.
      const est = new ClockEstimator()
      const members = all.filter(a => a.burst === b)
      for (const a of members) est.addSample(a.sample, { burst: b })
      const e = est.estimate(members[members.length - 1].sample.t4)
      const rep = v.filtered![k]
      t.is(e.offsetUs, v.offset![rep], `burst ${b}: θ of sample ${rep}`)
      t.is(e.rttUs, Math.max(0, v.delay![rep]), `burst ${b}: δ of sample ${rep}`)
    })
  })

  test(`${v.id}: the estimate`, t => {
    const x = v.estimate!
    const est = new ClockEstimator()
    for (const a of accepted(v)) est.addSample(a.sample, { burst: a.burst })
    const e = est.estimate(x.at_local_us)
    t.log(`offset ${e.offsetUs.toFixed(3)} µs (expected ${x.offset_us} ± ${x.offset_tolerance_us}), drift ` +
      `${e.driftPpm.toFixed(3)} ppm, uncertainty ${e.uncertaintyUs.toFixed(1)} µs (at least ${x.uncertainty_min_us})`)
    t.true(e.uncertaintyUs >= x.uncertainty_min_us, 'MUST: uncertainty at least δmin/2')
    t.true(Math.abs(e.offsetUs - x.offset_us) <= x.offset_tolerance_us, 'SHOULD: offset within the tolerance')
    if (x.drift_ppm !== undefined) {
      t.true(Math.abs(e.driftPpm - x.drift_ppm) <= x.drift_tolerance_ppm!, 'SHOULD: drift within the tolerance')
    }
    if (x.true_offset_us !== undefined) {
      t.true(Math.abs(e.offsetUs - x.true_offset_us) <= e.uncertaintyUs, 'the uncertainty covers the true error')
    }
  })
}

/**
 * Run a PeerClock against a scripted server that waits for `n` requests, sends one crafted response, and
 * then answers nothing more. Resolves with the code of the close the client sends, or undefined when the
 * stream ends without one or nothing happens within `waitMs`.
 */
async function closeCodeFrom (t: ExecutionContext, n: number, respond: (reqs: ClockRequest[]) => ClockResponse,
  waitMs = 1500): Promise<string | undefined> {
  const server = await startAdversary(t)
  const client = await startAdversary(t)
  const result = Promise.withResolvers<string | undefined>()
  await server.handle(CLOCK_PROTOCOL, (stream) => {
    const decoder = new FrameDecoder()
    const reqs: ClockRequest[] = []
    stream.addEventListener('message', evt => {
      try {
        for (const frame of decoder.push(evt.data)) {
          const msg = decodeMessage(frame)
          if (msg.type === 'close') result.resolve(String(msg.code))
          if (msg.type !== 'clock-request') continue
          reqs.push(msg)
          if (reqs.length === n) stream.send(encodeFrame(respond(reqs)))
        }
      } catch (err) {
        stream.abort(err as Error)
      }
    })
    stream.addEventListener('remoteCloseWrite', () => { void stream.close().catch(() => {}) })
    stream.addEventListener('close', () => { result.resolve(undefined) })
  })
  const pc = new PeerClock(client, server.getMultiaddrs()[0], new SystemClock(), { reconnect: false })
  t.teardown(async () => { await pc.close() })
  const timer = setTimeout(() => { result.resolve(undefined) }, waitMs)
  try {
    return await result.promise
  } finally {
    clearTimeout(timer)
  }
}

for (const v of vectors.filter(x => x.close_code !== undefined)) {
  test.serial(`${v.id}: a PeerClock closes the stream with ${v.close_code}`, async t => {
    let code: string | undefined
    if (v.exchange !== undefined) {
      // Replay the vector's exchange on the live ids and times: the response answers the same request (or
      // an id none has), with the same change to its t1 echo and the same server times relative to it.
      const { requests, response } = v.exchange
      const target = requests.findIndex(r => r.id === response.id)
      const base = requests[Math.max(target, 0)]
      code = await closeCodeFrom(t, requests.length, reqs => {
        const live = reqs[Math.max(target, 0)]
        const id = target >= 0 ? live.id : (Math.max(...reqs.map(r => r.id)) + 1000) % 2 ** 32
        return {
          type: 'clock-response',
          id,
          t1: live.t1 + (response.t1 - base.t1),
          t2: live.t1 + (response.t2 - base.t1),
          t3: live.t1 + (response.t3 - base.t1)
        }
      })
    } else {
      const [t1, t2, t3] = v.samples![0]
      code = await closeCodeFrom(t, 1, ([req]) =>
        ({ type: 'clock-response', id: req.id, t1: req.t1, t2: req.t1 + (t2 - t1), t3: req.t1 + (t3 - t1) }))
    }
    t.log(`the client closed with ${code ?? 'nothing'}`)
    t.is(code, v.close_code)
  })
}
