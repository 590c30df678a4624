#!/usr/bin/env node
/**
 * The interop runner: every pair of implementations from impls.json × every scenario their capabilities
 * allow, each run with a deadline, reported in results/results.csv and results/results.md.
 *
 *   node interop-tests/run.ts [--json] [--only s1,s2] [--impls a,b] [--timeout S] [--concurrency N]
 *                             [--manifest FILE] [--out DIR] [--list] [--codec]
 *
 * Exit code: 0 when nothing failed, 1 when a run failed, 2 on a usage error.
 */
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { runCodec } from './lib/codec-runner.ts'
import { loadManifest } from './lib/manifest.ts'
import type { Impl } from './lib/manifest.ts'
import { buildMatrix } from './lib/matrix.ts'
import { runCells } from './lib/pool.ts'
import { summarize, writeCodecReport, writeReport } from './lib/report.ts'
import type { RunResult } from './lib/run-one.ts'
import { SCENARIOS } from './scenarios/index.ts'

const ROOT = resolve(import.meta.dirname, '..')

const HELP = `Usage: node interop-tests/run.ts [options]

Runs every scenario for every pair of implementations in impls.json that their capabilities allow.

Options:
  --only LIST        scenario ids, comma-separated (default: all)
  --impls LIST       implementation ids, comma-separated (default: all)
  --timeout S        deadline of each run in seconds (default: the scenario's own)
  --concurrency N    runs at a time, 1 or 2 (default 2)
  --manifest FILE    implementations manifest (default interop-tests/impls.json)
  --out DIR          where results go (default interop-tests/results)
  --json             one JSON line per run, then {"bench":"interop","passed":…,"failed":…,"skipped":…}
  --codec            run the codec entry points over every vector instead of the scenarios
  --list             list the scenarios with their pass criteria
  -h, --help         show this help
`

function usage (message: string): never {
  process.stderr.write(`${message}\n\n${HELP}`)
  process.exit(2)
}

function list (s: string | undefined): string[] | undefined {
  return s === undefined ? undefined : s.split(',').map(x => x.trim()).filter(x => x !== '')
}

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0) })

async function main (): Promise<number> {
  let args
  try {
    args = parseArgs({
      options: {
        only: { type: 'string' },
        impls: { type: 'string' },
        timeout: { type: 'string' },
        concurrency: { type: 'string' },
        manifest: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
        codec: { type: 'boolean' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' }
      },
      strict: true
    }).values
  } catch (err) {
    usage((err as Error).message)
  }
  if (args.help === true) {
    process.stdout.write(HELP)
    return 0
  }
  if (args.list === true) {
    for (const s of SCENARIOS) {
      process.stdout.write(`${s.id}: ${s.summary}\n  requires: dialer [${s.requires.dialer.join(', ')}], listener [${s.requires.listener.join(', ')}]\n`)
      for (const c of s.criteria) process.stdout.write(`  - ${c}\n`)
    }
    return 0
  }
  const json = args.json === true
  const say = (line: string): void => { (json ? process.stderr : process.stdout).write(line + '\n') }
  let impls: Impl[] = loadManifest(args.manifest === undefined ? join(import.meta.dirname, 'impls.json') : resolve(args.manifest))
  const wanted = list(args.impls)
  if (wanted !== undefined) {
    for (const id of wanted) if (!impls.some(i => i.id === id)) usage(`unknown implementation "${id}" (known: ${impls.map(i => i.id).join(', ')})`)
    impls = impls.filter(i => wanted.includes(i.id))
  }
  const out = resolve(args.out ?? join(import.meta.dirname, 'results'))
  mkdirSync(join(out, 'logs'), { recursive: true })
  const concurrency = args.concurrency === undefined ? 2 : Number(args.concurrency)
  if (concurrency !== 1 && concurrency !== 2) usage('--concurrency must be 1 or 2')
  const timeoutMs = args.timeout === undefined ? undefined : Number(args.timeout) * 1000
  if (timeoutMs !== undefined && !(timeoutMs > 0)) usage('--timeout must be a positive number of seconds')

  if (args.codec === true) {
    const results = await runCodec(impls, ROOT, { only: list(args.only), concurrency })
    writeCodecReport(out, results, impls.filter(i => i.codec !== undefined).map(i => i.id))
    for (const r of results.filter(x => x.status === 'fail')) say(`FAIL  ${r.impl} ${r.vector}: ${r.reason}`)
    const s = summarize(results)
    if (json) process.stdout.write(JSON.stringify({ bench: 'interop-codec', ...s }) + '\n')
    else say(`codec vectors: ${s.passed} passed, ${s.failed} failed, ${s.skipped} not applicable (${join(out, 'codec.md')})`)
    return s.failed === 0 ? 0 : 1
  }

  const only = list(args.only)
  if (only !== undefined) for (const id of only) if (!SCENARIOS.some(s => s.id === id)) usage(`unknown scenario "${id}" (see --list)`)
  const scenarios = SCENARIOS.filter(s => only === undefined || only.includes(s.id))
  const cells = buildMatrix(scenarios, impls)
  const started = Date.now()
  const onResult = (r: RunResult): void => {
    if (json) {
      process.stdout.write(JSON.stringify({ type: 'run', scenario: r.scenario, dialer: r.dialer, listener: r.listener, result: r.status, duration_ms: r.durationMs, reason: r.reason }) + '\n')
    } else if (r.status !== 'n/a') {
      say(`${r.status === 'pass' ? 'pass' : 'FAIL'}  ${r.scenario}  ${r.dialer} → ${r.listener}  (${(r.durationMs / 1000).toFixed(1)} s)${r.status === 'fail' ? `\n      ${r.reason}` : ''}`)
    }
  }
  const results = await runCells(cells, { root: ROOT, logDir: join(out, 'logs'), timeoutMs, concurrency, onResult })
  const ids = impls.filter(i => i.command !== undefined).map(i => i.id)
  writeReport(out, results, scenarios, ids)
  const s = summarize(results)
  if (json) process.stdout.write(JSON.stringify({ bench: 'interop', ...s }) + '\n')
  else say(`${s.passed} passed, ${s.failed} failed, ${s.skipped} not applicable in ${((Date.now() - started) / 1000).toFixed(1)} s (${join(out, 'results.md')})`)
  return s.failed === 0 ? 0 : 1
}

main().then(code => { process.exitCode = code }, err => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
