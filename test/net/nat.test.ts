/**
 * The three-site experiment across real NAT through a relay (examples/nat/run.ts, as a child process):
 * three lab namespaces each behind its own NAT router, the relay on the public net. Checks that every NAT
 * holds, that a libp2p dial from one lab to another fails (private and router address) while the relayed
 * dial works, the three-site run's usual outcome with zero loss, that the relay carried the traffic, and
 * that no namespace of the run remains — also when the run fails (t.teardown, and the runner's own exit
 * hooks). Skipped, with the reason in the title and on the console, where namespaces are not permitted.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { leftovers, netnsAvailable, sweepStale } from '../helpers/netns.ts'
import type { NatResult } from '../../examples/nat/run.ts'

const RUN = fileURLToPath(new URL('../../examples/nat/run.ts', import.meta.url))

const avail = await netnsAvailable()
if (!avail.ok) console.log(`test/net/nat.test.ts: SKIPPED — network namespaces not permitted here: ${avail.reason}`)
const nsTest = avail.ok ? test : test.skip
const why = avail.ok ? '' : ` [skipped: ${avail.reason}]`

interface Summary {
  ok: boolean
  phases: Array<{ name: string, kind: string, weights: Record<string, { start: number, end: number }>, evokedPerPacemakerSpike: number }>
  losses: { total: number, counters: number, nonZero: Record<string, number> }
  clocks: { pairs: Array<{ converged: boolean }> }
}

nsTest(`three sites in three NATed labs, every link through the relay: usual outcome, zero loss, direct lab-to-lab dials fail, namespaces removed${why}`, async t => {
  t.timeout(170_000)
  const dir = await mkdtemp(join(tmpdir(), 'spikewire-nat-test-'))
  let stdout = ''
  let stderr = ''
  let id: string | undefined
  const child = spawn(process.execPath, [RUN, '--duration', '30', '--out', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.on('data', (b: Buffer) => {
    stdout += b.toString()
    id ??= /^topology id: (\w+)/m.exec(stdout)?.[1]
  })
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  const exited = new Promise<number | null>(resolve => child.on('exit', resolve))
  t.teardown(async () => {
    // A failed or timed-out run: stop the runner (its exit hooks remove its namespaces), then remove
    // whatever of this run might still be there (sweepStale: namespaces of runs whose process is gone).
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
      await exited
      clearTimeout(timer)
    }
    await sweepStale()
    await rm(dir, { recursive: true, force: true })
  })
  const timer = setTimeout(() => { child.kill('SIGTERM') }, 160_000)
  const code = await exited
  clearTimeout(timer)
  t.log(stdout.split('\n').filter(l => !/^ {2}(ok|FAIL) {2}/.test(l) || l.includes('FAIL')).join('\n').trim())
  t.is(code, 0, `examples/nat/run.ts failed:\n${stdout}\n${stderr}`)
  t.truthy(id, 'the runner printed its topology id')

  const nat = JSON.parse(await readFile(join(dir, 'nat.json'), 'utf8')) as NatResult
  t.true(nat.natChecks.length >= 24 && nat.natChecks.every(c => c.ok), 'every NAT does source NAT and refuses inbound')
  const [toPrivate, toRouter, viaRelay] = nat.dials
  t.false(toPrivate.ok, 'a dial to the other lab host\'s private address fails')
  t.false(toRouter.ok, 'a dial to the other lab router\'s public address fails')
  t.true(viaRelay.ok, 'the dial through the relay works')
  t.true(viaRelay.addr.includes('/p2p-circuit/'))

  const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as Summary
  t.true(summary.ok)
  const pot = summary.phases.find(p => p.kind === 'potentiation')!
  const dep = summary.phases.find(p => p.kind === 'depression')!
  const before = summary.phases[0]
  const after = summary.phases[summary.phases.indexOf(pot) + 1]
  t.true(pot.weights['synapse-a'].end > pot.weights['synapse-a'].start, 'weight A rises in potentiation')
  t.true(dep.weights['synapse-a'].end < dep.weights['synapse-a'].start, 'weight A falls in depression')
  t.true(after.evokedPerPacemakerSpike > before.evokedPerPacemakerSpike, 'more evoked responses after potentiation')
  t.is(summary.losses.total, 0, `losses: ${JSON.stringify(summary.losses.nonZero)}`)
  t.true(summary.losses.counters > 50, 'the loss total is a sum over many counters')

  const relayed = (nat.relayStats as { relayed: { total: number, bytesToReserved: number, bytesFromReserved: number } }).relayed
  t.true(relayed.total >= 6, `the relay carried the links (${relayed.total} relayed connections)`)
  t.true(relayed.bytesToReserved > 100_000 && relayed.bytesFromReserved > 100_000, 'spikes and clock probes went through the relay')

  t.deepEqual(nat.leftovers, [])
  t.deepEqual(await leftovers(nat.topology), [], 'no namespace of this run remains')
})
