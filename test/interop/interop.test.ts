/**
 * The interop suite run as a test: the runner over every pair of the real manifest (ts, py and
 * minimal-js, each pair both ways) with zero failures and not-applicable cells only where the manifest's
 * capabilities say so; the codec entry points over every vector; and misbehaving implementations reported
 * as FAIL. The Python implementation runs from python/.venv, which python/tools/ensure-venv.sh creates
 * (`npm test` runs it first; this file runs it too, so that it can run alone).
 */
import test from 'ava'
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadManifest } from '../../interop-tests/lib/manifest.ts'
import type { Impl } from '../../interop-tests/lib/manifest.ts'
import { SCENARIOS } from '../../interop-tests/scenarios/index.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const RUNNER = join(ROOT, 'interop-tests', 'run.ts')

interface Row { type?: string, scenario: string, dialer: string, listener: string, result: string, reason: string, duration_ms?: number }
interface Summary { bench: string, passed: number, failed: number, skipped: number }

test.before('the Python virtual environment exists (python/tools/ensure-venv.sh)', async t => {
  t.timeout(600_000)
  await promisify(execFile)('bash', [join(ROOT, 'python', 'tools', 'ensure-venv.sh')], { cwd: ROOT })
})

async function runner (args: string[]): Promise<{ code: number | null, rows: Row[], summary: Summary, stderr: string }> {
  const child = spawn(process.execPath, [RUNNER, '--json', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const code = await new Promise<number | null>(resolve => { child.on('close', resolve) })
  const lines = stdout.trim().split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>)
  return { code, rows: lines.filter(l => l.type === 'run') as unknown as Row[], summary: lines[lines.length - 1] as unknown as Summary, stderr }
}

/** Every part of an n/a reason must follow from the manifest and the scenario's requirements. */
function capabilityReason (row: Row, impls: Impl[]): string | undefined {
  const s = SCENARIOS.find(x => x.id === row.scenario)!
  const byId = new Map(impls.map(i => [i.id, i]))
  for (const part of row.reason.split('; ')) {
    let m = /^(\S+) has no (dialer|listener) role$/.exec(part)
    if (m !== null && !byId.get(m[1])!.roles.includes(m[2] as 'dialer')) continue
    m = /^(dialer|listener) (\S+) lacks (.+)$/.exec(part)
    if (m !== null) {
      const role = m[1] as 'dialer' | 'listener'
      const impl = byId.get(m[2])!
      if (m[3].split(', ').every(f => s.requires[role].includes(f as never) && !impl.features.includes(f as never))) continue
    }
    m = /^(\S+) serves (\S+)$/.exec(part)
    if (m !== null && byId.get(m[1])!.protocols.includes(m[2])) continue
    return part
  }
  return undefined
}

test.serial('every applicable scenario passes for every pair; n/a cells come only from capabilities', async t => {
  // Three implementations, each pair both ways: about 17 × 9 cells, Python start-ups included.
  t.timeout(600_000)
  const out = await mkdtemp(join(tmpdir(), 'spikewire-interop-'))
  t.teardown(async () => { await rm(out, { recursive: true, force: true }) })
  const r = await runner(['--out', out])
  const failed = r.rows.filter(x => x.result === 'fail')
  t.deepEqual(failed.map(x => `${x.scenario} ${x.dialer}→${x.listener}: ${x.reason}`), [], r.stderr.slice(-2000))
  t.is(r.code, 0)
  t.is(r.summary.bench, 'interop')
  t.is(r.summary.failed, 0)
  const impls = loadManifest(join(ROOT, 'interop-tests', 'impls.json'))
  t.is(r.rows.length, SCENARIOS.length * impls.length * impls.length, 'one cell per scenario and ordered pair')
  for (const row of r.rows.filter(x => x.result === 'n/a')) {
    t.is(capabilityReason(row, impls), undefined, `${row.scenario} ${row.dialer}→${row.listener}: "${row.reason}" is not a capability`)
  }
  // The second implementation really ran: every scenario it can dial against ts passed.
  const minimal = r.rows.filter(x => x.dialer === 'minimal-js' && x.listener === 'ts')
  t.true(minimal.filter(x => x.result === 'pass').length >= 10, JSON.stringify(minimal.map(x => [x.scenario, x.result])))
  // The Python implementation really ran, in both directions against ts: every scenario that both claim
  // passed (none is n/a for a capability py claims), ts→py and py→ts.
  const py = impls.find(i => i.id === 'py')
  t.truthy(py, 'impls.json lists py')
  for (const [d, l] of [['py', 'ts'], ['ts', 'py']]) {
    const cells = r.rows.filter(x => x.dialer === d && x.listener === l)
    t.true(cells.filter(x => x.result === 'pass').length >= 1, `${d}→${l}: ${JSON.stringify(cells.map(x => [x.scenario, x.result]))}`)
    t.deepEqual(cells.filter(x => x.result === 'fail').map(x => x.scenario), [], `${d}→${l} failures`)
  }
  t.is(r.summary.passed + r.summary.skipped, r.rows.length)
  const csv = (await readFile(join(out, 'results.csv'), 'utf8')).trim().split('\n')
  t.is(csv.length, r.rows.length + 1)
  const md = await readFile(join(out, 'results.md'), 'utf8')
  t.regex(md, /\| dialer ↓ \\ listener → \| ts \| minimal-js \| py \|/)
})

test.serial('the codec entry points decode every vector they cover', async t => {
  t.timeout(60_000)
  const out = await mkdtemp(join(tmpdir(), 'spikewire-interop-codec-'))
  t.teardown(async () => { await rm(out, { recursive: true, force: true }) })
  const r = await runner(['--codec', '--out', out])
  t.is(r.summary.bench, 'interop-codec')
  t.is(r.summary.failed, 0, r.stderr.slice(-2000))
  t.true(r.summary.passed > 400)
  const csv = await readFile(join(out, 'codec.csv'), 'utf8')
  // minimal-js's codec leaves out the open, clock and fuzz areas (impls.json).
  for (const line of csv.trim().split('\n').filter(l => l.includes(',n/a,'))) t.regex(line, /^minimal-js,(open|clock|fuzz)-/)
})

test.serial('a codec-only entry runs one process per vector; areas it does not cover are n/a', async t => {
  t.timeout(60_000)
  const out = await mkdtemp(join(tmpdir(), 'spikewire-interop-single-'))
  t.teardown(async () => { await rm(out, { recursive: true, force: true }) })
  const only = 'framing-ok-02,framing-fail-04,batch-ok-03,batch-fail-05,stream-ok-03,stream-fail-03,open-ok-01'
  const r = await runner(['--codec', '--manifest', join(import.meta.dirname, 'fixtures', 'codec-only.json'), '--only', only, '--out', out])
  t.deepEqual(r.summary, { bench: 'interop-codec', passed: 6, failed: 0, skipped: 1 }, r.stderr.slice(-2000))
  t.is(r.code, 0)
})

test.serial('the runner reports FAIL when an implementation exits 1 or reports what did not happen', async t => {
  t.timeout(60_000)
  const out = await mkdtemp(join(tmpdir(), 'spikewire-interop-broken-'))
  t.teardown(async () => { await rm(out, { recursive: true, force: true }) })
  const manifest = join(import.meta.dirname, 'fixtures', 'broken-impls.json')
  const r = await runner(['--manifest', manifest, '--impls', 'ts,exit-1,liar', '--only', 'connect-and-describe', '--timeout', '10', '--out', out])
  t.is(r.code, 1)
  const cell = (d: string, l: string): Row | undefined => r.rows.find(x => x.dialer === d && x.listener === l)
  t.is(cell('ts', 'ts')?.result, 'pass')
  t.is(cell('exit-1', 'ts')?.result, 'fail')
  t.regex(cell('exit-1', 'ts')!.reason, /dialer exited 1/)
  t.is(cell('ts', 'exit-1')?.result, 'fail')
  t.is(cell('liar', 'ts')?.result, 'fail', 'a dialer that exits 0 with a wrong report fails on the checks')
  t.regex(cell('liar', 'ts')!.reason, /ports: got/)
  t.regex(cell('liar', 'ts')!.reason, /PeerId the dialer connected to/)
  t.is(cell('ts', 'liar')?.result, 'n/a')
  t.is(r.summary.failed, 5, 'every cell with exit-1 on either side, and liar → ts')
})

test.serial('an implementation that hangs fails at the deadline and is killed with its children', async t => {
  // The deadline applies to every cell, ts × ts included: it must leave room for two Node + libp2p
  // start-ups on a busy machine (3 s did not). Each hanging cell then lasts about the deadline plus the
  // runner's grace for the listener (3 s) and kill wait; four cells, two at a time.
  const deadlineS = 12
  t.timeout(120_000)
  const out = await mkdtemp(join(tmpdir(), 'spikewire-interop-hang-'))
  t.teardown(async () => { await rm(out, { recursive: true, force: true }) })
  const manifest = join(import.meta.dirname, 'fixtures', 'broken-impls.json')
  const r = await runner(['--manifest', manifest, '--impls', 'ts,hang', '--only', 'connect-and-describe', '--timeout', String(deadlineS), '--out', out])
  t.is(r.code, 1)
  const cell = (d: string, l: string): Row | undefined => r.rows.find(x => x.dialer === d && x.listener === l)
  t.is(cell('ts', 'ts')?.result, 'pass', cell('ts', 'ts')?.reason)
  t.regex(cell('hang', 'ts')?.reason ?? '', new RegExp(`^timeout: the dialer did not finish within ${deadlineS * 1000} ms`))
  t.regex(cell('ts', 'hang')?.reason ?? '', /the listener did not finish after `done`/)
  t.is(cell('hang', 'hang')?.result, 'fail')
  t.is(r.summary.failed, 3)
  // A hanging dialer is given up at the deadline, not before and not much after: the run ends within the
  // listener's grace (3 s) and the kill wait (2 s) after it, plus room for a busy machine.
  for (const c of [cell('hang', 'ts'), cell('hang', 'hang')]) {
    const ms = c?.duration_ms ?? NaN
    t.true(ms >= deadlineS * 1000 - 50 && ms <= deadlineS * 1000 + 10_000, `${c?.dialer}→${c?.listener} took ${ms} ms`)
  }
  // The process groups were killed: the child that `hang` started is gone too.
  const ps = spawn('ps', ['-eo', 'args'], { stdio: ['ignore', 'pipe', 'ignore'] })
  let list = ''
  ps.stdout.setEncoding('utf8').on('data', (d: string) => { list += d })
  await new Promise(resolve => { ps.on('close', resolve) })
  t.false(list.includes('spikewire-hang-fixture-child'), 'a child of a killed implementation is still running')
})
