/**
 * The three-site example (examples/three-sites): the orchestrator run as a real child process in short
 * mode, and the analysis that decides its verdict on made-up data.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checks, phaseResults } from '../../examples/three-sites/analysis.ts'
import type { TimedEvent } from '../../examples/three-sites/analysis.ts'
import { schedule } from '../../examples/three-sites/params.ts'

const RUN = fileURLToPath(new URL('../../examples/three-sites/run.ts', import.meta.url))

interface Ran { code: number | null, stdout: string, stderr: string }

async function runChild (args: string[], timeoutMs: number): Promise<Ran> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (b: Buffer) => { stdout += b.toString() })
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  const timer = setTimeout(() => { child.kill('SIGINT') }, timeoutMs)
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** Well-formedness of an XML document's element structure: every tag closed, in order. */
function balancedTags (xml: string): boolean {
  const stack: string[] = []
  const body = xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?[\s\S]*?\?>/g, '')
  for (const m of body.matchAll(/<(\/?)([A-Za-z][\w:.-]*)(?:"[^"]*"|'[^']*'|[^'">])*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m
    if (selfClosing === '/') continue
    if (closing === '/') {
      if (stack.pop() !== name) return false
    } else stack.push(name)
  }
  return stack.length === 0
}

interface PhaseOut {
  name: string
  kind: string
  weights: Record<string, { start: number, end: number }>
  evokedPerPacemakerSpike: number
  pacemakerSpikes: number
}

test('three sites in short mode: synapse A potentiates then depresses, responses grow, nothing is lost', async t => {
  t.timeout(100_000)
  const dir = await mkdtemp(join(tmpdir(), 'spikewire-three-sites-test-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const ran = await runChild([RUN, '--duration', '20', '--out', dir], 90_000)
  t.log(ran.stdout.trim())
  t.is(ran.code, 0, `run.ts failed:\n${ran.stdout}\n${ran.stderr}`)

  const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as {
    ok: boolean
    phases: PhaseOut[]
    losses: { total: number, counters: number }
    clocks: { pairs: Array<{ from: string, to: string, converged: boolean }> }
    links: { emulated: unknown[], measured: Array<{ p50Ms: number | null }> }
    spikes: { experiment: Record<string, number> }
  }
  t.true(summary.ok)
  const pot = summary.phases.find(p => p.kind === 'potentiation')!
  const dep = summary.phases.find(p => p.kind === 'depression')!
  const before = summary.phases[0]
  const after = summary.phases[summary.phases.indexOf(pot) + 1]
  t.true(pot.weights['synapse-a'].end > pot.weights['synapse-a'].start, 'weight A rises in potentiation')
  t.true(dep.weights['synapse-a'].end < dep.weights['synapse-a'].start, 'weight A falls in depression')
  t.true(after.evokedPerPacemakerSpike > before.evokedPerPacemakerSpike, 'more evoked responses after potentiation')
  t.is(summary.losses.total, 0)
  t.true(summary.losses.counters > 50, 'the loss total is a sum over many counters')
  t.true(summary.clocks.pairs.length >= 10 && summary.clocks.pairs.every(p => p.converged))
  t.is(summary.links.emulated.length, 4)
  t.true(summary.links.measured.every(l => l.p50Ms !== null && l.p50Ms > 5), 'inter-site latencies include the emulated delay')
  t.true(Object.values(summary.spikes.experiment).every(n => n > 0), 'every node emitted events')

  const svg = await readFile(join(dir, 'figure.svg'), 'utf8')
  t.regex(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  t.true(balancedTags(svg), 'figure.svg is well-formed')
  for (const label of ['Zurich pacemaker', 'Padova evoked', 'synaptic weight', 'potentiation']) t.true(svg.includes(label), label)
  const csv = await readFile(join(dir, 'events.csv'), 'utf8')
  t.true(csv.split('\n').length > 500)
})

/** Made-up recordings: a pacemaker, stimuli, a weight trace and evoked responses, in the recorder's clock. */
function madeUp (weights: number[], evokedEvery: number[]): { events: TimedEvent[], phases: ReturnType<typeof schedule> } {
  const phases = schedule(0, 9)
  const events: TimedEvent[] = []
  phases.forEach((p, i) => {
    events.push({ node: 'synapse-a', port: 'weight', channel: 0, tUs: p.startUs + 1, value: weights[i] })
    const n = Math.round((p.endUs - p.startUs) * p.rateHz / 1e6)
    for (let k = 0; k < n; k++) {
      const t = p.startUs + k * (p.endUs - p.startUs) / n
      events.push({ node: 'zurich', port: 'pacemaker', channel: 0, tUs: t })
      events.push({ node: 'synapse-a', port: 'out', channel: 0, tUs: t + 10_000, value: weights[i] })
      // A response 100 ms after its pacemaker spike: it belongs to this phase even when it falls in the next.
      if (evokedEvery[i] > 0 && k % evokedEvery[i] === 0) events.push({ node: 'padova', port: 'spikes', channel: 1, tUs: t + 100_000 })
    }
  })
  return { events, phases }
}

test('analysis: phase results and the verdict follow the definitions', t => {
  const lags = { synapseDelayUs: 10_000, responseLagUs: 100_000 }
  const good = madeUp([26, 200, 250, 120, 80], [0, 2, 1, 1, 0])
  const r = phaseResults(good.events, good.phases, lags)
  t.deepEqual(r.map(p => p.weights['synapse-a'].end), [26, 200, 250, 120, 80])
  t.deepEqual(r.map(p => p.weights['synapse-a'].start), [null, 26, 200, 250, 120])
  t.deepEqual(r.map(p => p.evokedPerPacemakerSpike), [0, 0.5, 1, 1, 0])
  t.deepEqual(r.map(p => p.stimuli), r.map(p => p.pacemakerSpikes))
  t.true(checks(r, 0, {}).every(c => c.ok))

  const flat = madeUp([26, 26, 26, 26, 26], [0, 0, 0, 0, 0])
  const failed = checks(phaseResults(flat.events, flat.phases, lags), 3, { 'padova: inPorts.stim.gapEvents': 3 }).filter(c => !c.ok && c.required)
  t.is(failed.length, 4)
})
