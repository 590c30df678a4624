/**
 * The short fuzz pass CI runs (the long one is `npm run fuzz`): 21,000 seeded mutated frames against the
 * decoder and a short live pass against a real node over loopback, with a witness subscriber. Nothing may
 * crash, no accepted frame may fail the oracle, and the fuzzer must reach many distinct error codes (so
 * the pass cannot succeed by producing nothing the decoder cares about).
 */
import test from 'ava'
import { DECODER_TARGETS, runDecoderTarget } from '../../bench/fuzz/decoder.ts'
import type { TargetReport } from '../../bench/fuzz/decoder.ts'
import { loadCorpus } from '../../bench/fuzz/corpus.ts'
import { LIVE_TARGETS, Witness, runLiveTarget } from '../../bench/fuzz/live.ts'
import { inProcessVictim } from '../../bench/fuzz/victim.ts'

const SEED = 11
const corpus = loadCorpus()

function explain (r: TargetReport): string {
  return JSON.stringify({ target: r.target, crashes: r.crashes, oracleFailures: r.oracleFailures, findings: r.findings.slice(0, 5) })
}

test('decoder fuzz: 21,000 mutated frames, no crash, no oracle failure, many distinct codes', t => {
  const codes = new Set<string>()
  let frames = 0
  for (const target of DECODER_TARGETS) {
    const r = runDecoderTarget(target, { frames: 7000, seed: SEED, corpus })
    frames += r.frames
    t.is(r.crashes, 0, explain(r))
    t.is(r.oracleFailures, 0, explain(r))
    t.true(r.accepted > 0, `${target}: some mutated frames must still be valid`)
    for (const c of Object.keys(r.uniqueErrors)) codes.add(c)
  }
  t.is(frames, 21_000)
  // Framing, CBOR, message, batch-column and batch-context codes must all be reached.
  for (const code of ['malformed-frame', 'frame-too-large', 'invalid-cbor', 'invalid-message', 'unknown-message-type',
    'invalid-varint', 'column-mismatch', 'time-overflow', 'too-many-events', 'kind-mismatch', 'channel-out-of-range']) {
    t.true(codes.has(code), `the decoder fuzz never reached ${code} (reached: ${[...codes].join(', ')})`)
  }
})

test('decoder fuzz: the same seed gives the same run', t => {
  const a = runDecoderTarget('codec.message', { frames: 2000, seed: SEED, corpus })
  const b = runDecoderTarget('codec.message', { frames: 2000, seed: SEED, corpus })
  t.deepEqual(a.uniqueErrors, b.uniqueErrors)
  t.is(a.accepted, b.accepted)
})

test('live fuzz: events, describe and clock handlers over real streams; the witness sees no gap', async t => {
  const victim = await inProcessVictim()
  t.teardown(async () => { await victim.stop() })
  const witness = await Witness.start(victim)
  t.teardown(async () => { await witness.stop() })
  witness.watch(true)
  const codes = new Set<string>()
  for (const target of LIVE_TARGETS) {
    const r = await runLiveTarget(target, victim, { frames: target === 'live.events' ? 400 : 150, seed: SEED, corpus })
    t.is(r.crashes, 0, explain(r))
    t.true(r.frames >= (target === 'live.events' ? 400 : 150))
    for (const c of Object.keys(r.uniqueErrors)) codes.add(c)
  }
  const w = await witness.check(victim)
  t.deepEqual(w.problems, [])
  t.true(w.stillServing)
  t.true(w.events > 0)
  for (const code of ['invalid-cbor', 'invalid-message', 'unexpected-message', 'malformed-frame']) {
    t.true(codes.has(code), `the live fuzz never got ${code} back (got: ${[...codes].join(', ')})`)
  }
  t.true(codes.size >= 8, `only ${codes.size} distinct outcomes: ${[...codes].join(', ')}`)
})
