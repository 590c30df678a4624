/**
 * Codec benchmark (npm run bench:codec -- --json). One JSON line per workload: columnar batch encode and
 * decode rates and bytes per spike (framing included), beside a baseline measured in the same run: the
 * same spikes as a CBOR array of {n, t} maps encoded and decoded by cborg. `codec-fanout` lines: the framing of
 * one batch for 16 subscribers, shared encoding against a frame encoded per subscriber (the baseline).
 */
import { decode as cborDecode, encode as cborEncode } from 'cborg'
import { SharedBatch, decodeMessage, encodeFrame, encodePackedBatch, packColumns, splitFrames } from '../src/codec/index.ts'
import type { Batch } from '../src/codec/index.ts'
import { parseArgs } from 'node:util'
import { prng } from '../src/base/prng.ts'

const { values: args } = parseArgs({ options: { json: { type: 'boolean', default: false }, seconds: { type: 'string', default: '1' } } })
const budgetMs = Number(args.seconds) * 1000

/** Uniform numbers in [0, 1) from the models' seeded generator, so every run measures the same spikes. */
function rng (seed: number): () => number {
  const p = prng(seed)
  return () => p.next()
}

/** Poisson spikes of `channels` channels at `rateHz` over `windowUs`, sorted by time. */
function poissonBatch (random: () => number, channels: number, rateHz: number, startUs: number, windowUs: number, seq: number): Batch {
  const events: Array<[number, number]> = []
  for (let c = 0; c < channels; c++) {
    let t = startUs - Math.log(1 - random()) * 1e6 / rateHz
    while (t < startUs + windowUs) {
      events.push([c, Math.floor(t)])
      t -= Math.log(1 - random()) * 1e6 / rateHz
    }
  }
  events.sort((a, b) => a[1] - b[1])
  const n = events.length
  const b: Batch = { type: 'batch', seq, base: events[0]?.[1] ?? startUs, count: n, channels: new Uint32Array(n), times: new Float64Array(n) }
  events.forEach(([c, t], i) => { b.channels[i] = c; b.times[i] = t })
  return b
}

function rate (fn: () => number): number {
  // Warm up, then run for the time budget; fn returns the spikes it processed.
  const warmEnd = performance.now() + Math.min(200, budgetMs / 4)
  while (performance.now() < warmEnd) fn()
  let spikes = 0
  const start = performance.now()
  let now = start
  while (now - start < budgetMs) {
    spikes += fn()
    now = performance.now()
  }
  return spikes / ((now - start) / 1000)
}

function run (workload: string, batches: Batch[]): Record<string, unknown> {
  const spikes = batches.reduce((s, b) => s + b.count, 0)
  const frames = batches.map(encodeFrame)
  const bodies = frames.map(f => splitFrames(f)[0])
  const bytes = frames.reduce((s, f) => s + f.length, 0)
  let i = 0
  const encodeRate = rate(() => { const b = batches[i++ % batches.length]; encodeFrame(b); return b.count })
  const decodeRate = rate(() => { const k = i++ % bodies.length; decodeMessage(bodies[k]); return batches[k].count })
  // Baseline: array of maps, one per spike.
  const maps = batches.map(b => Array.from({ length: b.count }, (_, k) => ({ n: b.channels[k], t: b.times[k] })))
  const mapBytes = maps.map(m => cborEncode(m))
  const baseBytes = mapBytes.reduce((s, m) => s + m.length, 0)
  const baseEncode = rate(() => { const k = i++ % maps.length; cborEncode(maps[k]); return maps[k].length })
  const baseDecode = rate(() => { const k = i++ % mapBytes.length; cborDecode(mapBytes[k]); return maps[k].length })
  return {
    bench: 'codec',
    workload,
    batches: batches.length,
    spikesPerBatch: Math.round(spikes / batches.length),
    encodeSpikesPerSec: Math.round(encodeRate),
    decodeSpikesPerSec: Math.round(decodeRate),
    bytesPerSpike: +(bytes / spikes).toFixed(3),
    baseline: 'array-of-maps',
    baselineEncodeSpikesPerSec: Math.round(baseEncode),
    baselineDecodeSpikesPerSec: Math.round(baseDecode),
    baselineBytesPerSpike: +(baseBytes / spikes).toFixed(3),
    encodeSpeedup: +(encodeRate / baseEncode).toFixed(1),
    decodeSpeedup: +(decodeRate / baseDecode).toFixed(1)
  }
}

const random = rng(20201)
const t0 = 1_764_000_000_000_000
const w1: Batch[] = []
for (let k = 0; k < 200; k++) w1.push(poissonBatch(random, 1024, 20, t0 + k * 5000, 5000, k))
const w2: Batch[] = []
for (let k = 0; k < 10; k++) {
  // 10,000 spikes per batch: 1024 channels, more than 10k spikes in 50 ms, cut to the first 10,000.
  const b = poissonBatch(random, 1024, 1.2 * 10_000 / 1024 / 0.05, t0 + k * 50_000, 50_000, k)
  w2.push({ ...b, count: Math.min(b.count, 10_000), channels: b.channels.subarray(0, 10_000), times: b.times.subarray(0, 10_000) })
}

/**
 * Fan-out framing: what an out port spends to turn one batch into frames for `streams` subscribers without a
 * filter, each at its own sequence number. Baseline (the code before shared encoding): the whole frame encoded
 * per stream (encodePackedBatch). Now: the batch encoded once (SharedBatch), then each stream's head written
 * before the shared bytes. The packing of the columns is done once in both, outside the measure. Only the
 * encoding: the muxer frame and the encryption per stream, the bulk of a subscriber's cost, are not in it.
 */
function fanout (workload: string, batches: Batch[], streams: number): Record<string, unknown> {
  const packed = batches.map(b => {
    const p = packColumns(b.channels, b.times, undefined, 0, b.count)
    return { ...p, ch: p.ch.slice(), dt: p.dt.slice() }
  })
  // Streams that subscribed at different moments: different sequence numbers (and head sizes).
  const seqs = Array.from({ length: streams }, (_, s) => s * 100_003)
  let i = 0
  let sink = 0
  const perStream = rate(() => {
    const p = packed[i++ % packed.length]
    for (const seq of seqs) sink += encodePackedBatch(seq, p, true).byteLength
    return p.count
  })
  const shared = rate(() => {
    const p = packed[i++ % packed.length]
    const b = new SharedBatch(p)
    for (const seq of seqs) sink += b.frame(seq).byteLength
    return p.count
  })
  if (sink < 0) console.log(sink)
  return {
    bench: 'codec-fanout',
    workload,
    streams,
    spikesPerBatch: Math.round(batches.reduce((s, b) => s + b.count, 0) / batches.length),
    sharedSpikesPerSec: Math.round(shared),
    baseline: 'frame encoded per stream',
    baselineSpikesPerSec: Math.round(perStream),
    speedup: +(shared / perStream).toFixed(2)
  }
}

// The fan-out CPU benchmark's load: Poisson 2,000 events/s over 1,024 channels, a batch every 2 ms (about 4 events).
const w3: Batch[] = []
for (let k = 0; k < 500; k++) w3.push(poissonBatch(random, 1024, 2000 / 1024, t0 + k * 2000, 2000, k))
const w4 = w3.filter(b => b.count > 0)

const results = [
  run('poisson-1024ch-20hz-5ms', w1), run('batch-10000', w2),
  fanout('poisson-2000hz-2ms', w4, 16), fanout('poisson-1024ch-20hz-5ms', w1, 16), fanout('batch-10000', w2, 16)
]
for (const r of results) {
  if (args.json) process.stdout.write(JSON.stringify(r) + '\n')
  else console.log(r)
}
