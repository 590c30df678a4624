/**
 * Fuzzing benchmark (npm run fuzz -- --json): structure-aware mutation seeded from the test vectors,
 * against the decoder (frame, message and batch decoding, each in a watched worker thread) and against a
 * live node's events, describe and clock handlers over real streams on loopback, with a witness
 * subscriber. One JSON line per target, a baseline line (the valid vectors decoded unmutated, same run),
 * a witness line and a summary line. Exit code 1 when anything crashed or an oracle failed.
 *
 *   --decoder-frames N   frames per decoder target (default 350000: 1.05 M in all)
 *   --live-frames N      fuzzed frames per live target (default 20000)
 *   --seed N             the run's seed (default 1); frame i of a target is reproducible from it
 *   --targets a,b        only these targets (codec.frame, codec.message, codec.batch, live.events, …)
 *   --in-process         run the victim node in this process instead of a child process
 */
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import { printer } from '../report.ts'
import { DECODER_TARGETS, baselineValidVectors, sortKeys } from './decoder.ts'
import type { DecoderTarget, Finding, TargetReport } from './decoder.ts'
import { loadCorpus } from './corpus.ts'
import { LIVE_TARGETS, Witness, runLiveTarget } from './live.ts'
import type { LiveTarget } from './live.ts'
import { childVictim, inProcessVictim } from './victim.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    'decoder-frames': { type: 'string', default: '350000' },
    'live-frames': { type: 'string', default: '20000' },
    seed: { type: 'string', default: '1' },
    targets: { type: 'string' },
    'in-process': { type: 'boolean', default: false },
    'hang-ms': { type: 'string', default: '10000' }
  }
})
const print = printer(args.json)
const seed = Number(args.seed)
const decoderFrames = Number(args['decoder-frames'])
const liveFrames = Number(args['live-frames'])
const hangMs = Number(args['hang-ms'])
const wanted = args.targets?.split(',')
const runs = (t: string): boolean => wanted === undefined || wanted.includes(t)

/** Run a decoder target in a worker; a frame that hangs is reported and the run resumes after it. */
async function watched (target: DecoderTarget): Promise<TargetReport> {
  const parts: TargetReport[] = []
  const hangs: Finding[] = []
  let from = 0
  while (from < decoderFrames) {
    const progress = new SharedArrayBuffer(4)
    const view = new Int32Array(progress)
    Atomics.store(view, 0, from)
    const worker = new Worker(new URL('./decoder-worker.ts', import.meta.url), {
      workerData: { target, frames: decoderFrames, seed, from, deadlineMs: 1000, progress }
    })
    const result = await new Promise<TargetReport | { hungAt: number } | { died: string, at: number }>(resolve => {
      let last = -1
      let since = Date.now()
      const timer = setInterval(() => {
        const now = Atomics.load(view, 0)
        if (now !== last) { last = now; since = Date.now(); return }
        if (Date.now() - since > hangMs) {
          clearInterval(timer)
          void worker.terminate()
          resolve({ hungAt: now })
        }
      }, 250)
      worker.once('message', (r: TargetReport) => { clearInterval(timer); resolve(r) })
      worker.once('error', err => { clearInterval(timer); resolve({ died: `${err.name}: ${err.message}`, at: Atomics.load(view, 0) }) })
    })
    if ('target' in result) {
      parts.push(result)
      break
    }
    const at = 'hungAt' in result ? result.hungAt : result.at
    hangs.push({ kind: 'hungAt' in result ? 'hang' : 'crash', frame: at, signature: 'hungAt' in result ? `no progress for ${hangMs} ms` : `worker died: ${result.died}`, hex: '', count: 1 })
    parts.push({ bench: 'fuzz', target, frames: at - from, crashes: 0, oracleFailures: 0, accepted: 0, uniqueErrors: {}, framesPerSec: 0, maxFrameMs: 0, seconds: 0, seed, findings: [] })
    from = at + 1
  }
  return merge(target, parts, hangs)
}

function merge (target: string, parts: TargetReport[], extra: Finding[]): TargetReport {
  const errors: Record<string, number> = {}
  for (const p of parts) for (const [k, v] of Object.entries(p.uniqueErrors)) errors[k] = (errors[k] ?? 0) + v
  const frames = parts.reduce((s, p) => s + p.frames, 0) + extra.length
  const seconds = parts.reduce((s, p) => s + p.seconds, 0)
  return {
    bench: 'fuzz',
    target,
    frames,
    crashes: parts.reduce((s, p) => s + p.crashes, 0) + extra.length,
    oracleFailures: parts.reduce((s, p) => s + p.oracleFailures, 0),
    accepted: parts.reduce((s, p) => s + p.accepted, 0),
    uniqueErrors: sortKeys(errors),
    framesPerSec: Math.round(frames / Math.max(seconds, 1e-9)),
    maxFrameMs: Math.max(...parts.map(p => p.maxFrameMs)),
    seconds: Number(seconds.toFixed(2)),
    seed,
    findings: [...parts.flatMap(p => p.findings), ...extra]
  }
}

const started = performance.now()
const corpus = loadCorpus()
const reports: TargetReport[] = []
const baseline = baselineValidVectors(corpus, 1)
print({ bench: 'fuzz', target: 'baseline', what: 'valid vectors decoded unmutated, this run', seeds: corpus.messages.length + corpus.frames.length, ...baseline })

for (const target of DECODER_TARGETS) {
  if (!runs(target)) continue
  const r = await watched(target)
  reports.push(r)
  print({ ...r, findings: r.findings.slice(0, 20) })
}

let witnessProblems: string[] = []
const live = LIVE_TARGETS.filter(runs)
if (live.length > 0) {
  const victim = args['in-process'] ? await inProcessVictim() : await childVictim()
  const witness = await Witness.start(victim)
  try {
    witness.watch(true)
    for (const target of live as LiveTarget[]) {
      const r = await runLiveTarget(target, victim, { frames: liveFrames, seed, corpus })
      reports.push(r)
      print({ ...r, findings: r.findings.slice(0, 20) })
    }
    const w = await witness.check(victim)
    witnessProblems = w.problems
    print({ bench: 'fuzz', target: 'witness', ...w })
  } finally {
    await witness.stop()
    await victim.stop()
  }
}

const errors: Record<string, number> = {}
for (const r of reports) for (const [k, v] of Object.entries(r.uniqueErrors)) errors[k] = (errors[k] ?? 0) + v
const crashes = reports.reduce((s, r) => s + r.crashes, 0) + witnessProblems.length
const oracleFailures = reports.reduce((s, r) => s + r.oracleFailures, 0)
const frames = reports.reduce((s, r) => s + r.frames, 0)
print({
  bench: 'fuzz',
  frames,
  decoderFrames: reports.filter(r => r.target.startsWith('codec.')).reduce((s, r) => s + r.frames, 0),
  liveFrames: reports.filter(r => r.target.startsWith('live.')).reduce((s, r) => s + r.frames, 0),
  crashes,
  oracleFailures,
  uniqueErrors: sortKeys(errors),
  perTarget: Object.fromEntries(reports.map(r => [r.target, { frames: r.frames, crashes: r.crashes, framesPerSec: r.framesPerSec }])),
  baselineFramesPerSec: baseline.framesPerSec,
  seed,
  durationS: Number(((performance.now() - started) / 1000).toFixed(1))
})
process.exitCode = crashes + oracleFailures > 0 ? 1 : 0
