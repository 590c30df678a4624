/**
 * The three-site experiment (examples/three-sites) across real NAT, through a relay. Needs root: it builds
 * network namespaces (test/helpers/netns.ts):
 *
 *   internet (public namespace): the relay (`spikewire relay`), and a public host running the
 *     orchestrator and its recorder;
 *   three labs, each a host behind its own NAT router (masquerade, nothing new inbound):
 *     zurich (10.1.0.2), padova (10.2.0.2), soton (Southampton, 10.3.0.2).
 *
 *   node examples/nat/run.ts [--out DIR] [--duration S] [--seed N] [--verbose]
 *
 * Steps: prove every NAT (source NAT, no inbound: test/helpers/netns.ts checkNat); start the relay; show
 * that a libp2p dial from the Zurich lab to a node in the Padova lab fails at its private address and at
 * its router's public address, and succeeds through the relay; run the three sites, every link through the
 * relay; stop the relay (its counters) and remove every namespace. Writes DIR/nat.json (every result) and
 * the three-site outputs (DIR/summary.json…). Exit code 0 when the NATs hold, the direct dials fail, the
 * relayed dial works, the three-site run has its usual outcome with zero loss and nothing is left behind;
 * 1 otherwise; 2 when network namespaces are not permitted here (the reason is printed).
 */
import type { ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createTopology, leftovers, netnsAvailable, tool } from '../../test/helpers/netns.ts'
import type { NatCheck, Topology } from '../../test/helpers/netns.ts'

const THREE_SITES = fileURLToPath(new URL('../three-sites/run.ts', import.meta.url))
const PROBE = fileURLToPath(new URL('./dial-probe.ts', import.meta.url))
const CLI = fileURLToPath(new URL('../../bin/spikewire.js', import.meta.url))
const RELAY_PORT = 4020
/** Lab names (namespace suffixes) of the three sites. */
export const LABS = { zurich: 'zurich', padova: 'padova', southampton: 'soton' } as const

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'out/nat' },
    duration: { type: 'string', default: '30' },
    seed: { type: 'string', default: '2020' },
    verbose: { type: 'boolean', default: false }
  }
})
const outDir = resolve(values.out)
const say = (line: string): void => { process.stdout.write(line + '\n') }

export interface DialResult { what: string, addr: string, ok: boolean, ms: number, error?: string }

export interface NatResult {
  topology: string
  namespaces: string[]
  natChecks: NatCheck[]
  relay: string
  dials: DialResult[]
  threeSites: { exitCode: number | null, summary: string }
  relayStats?: unknown
  leftovers: string[]
  ok: boolean
}

/** Lines of a child's stdout as parsed JSON objects, and the child's exit. */
function jsonLines (c: ChildProcess, onLine?: (line: string) => void): { next: (match: (o: Record<string, unknown>) => boolean, ms: number, what: string) => Promise<Record<string, unknown>>, all: Array<Record<string, unknown>>, stderr: string[] } {
  const all: Array<Record<string, unknown>> = []
  const stderr: string[] = []
  createInterface({ input: c.stdout! }).on('line', l => {
    onLine?.(l)
    try { all.push(JSON.parse(l) as Record<string, unknown>) } catch { /* a human line */ }
  })
  if (c.stderr != null) createInterface({ input: c.stderr }).on('line', l => { stderr.push(l); if (stderr.length > 50) stderr.shift(); if (values.verbose) process.stderr.write(l + '\n') })
  const next = async (match: (o: Record<string, unknown>) => boolean, ms: number, what: string): Promise<Record<string, unknown>> => {
    const end = Date.now() + ms
    for (;;) {
      const o = all.find(match)
      if (o !== undefined) return o
      if (Date.now() > end || c.exitCode !== null || c.signalCode !== null) throw new Error(`no ${what} (exit ${c.exitCode ?? c.signalCode}); stderr:\n${stderr.join('\n')}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }
  return { next, all, stderr }
}

async function exited (c: ChildProcess): Promise<number | null> {
  if (c.exitCode !== null || c.signalCode !== null) return c.exitCode
  return await new Promise(resolve => c.once('exit', code => { resolve(code) }))
}

async function main (): Promise<number> {
  const avail = await netnsAvailable()
  if (!avail.ok) {
    say(`nat: network namespaces are not permitted here: ${avail.reason}`)
    return 2
  }
  await mkdir(outDir, { recursive: true })
  const tmp = await mkdtemp(join(tmpdir(), 'spikewire-nat-'))
  let topo: Topology | undefined
  const result: Partial<NatResult> = {}
  try {
    topo = await createTopology({ labs: Object.values(LABS), publicHost: true, checkNat: false })
    result.topology = topo.id
    result.namespaces = topo.namespaces
    say(`topology id: ${topo.id} (namespaces ${topo.namespaces.join(' ')})`)
    result.natChecks = await topo.checkNat()
    const natOk = result.natChecks.every(c => c.ok)
    say(`${natOk ? 'ok  ' : 'FAIL'} every NAT does source NAT and refuses inbound (${result.natChecks.filter(c => c.ok).length}/${result.natChecks.length} checks)`)
    for (const c of result.natChecks) if (!c.ok || values.verbose) say(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}: ${c.detail}`)
    if (!natOk) return 1
    const lab = (site: keyof typeof LABS): Topology['labs'][number] => topo!.labs.find(l => l.name === LABS[site])!

    // The relay on the internet.
    const relayConfig = join(tmp, 'relay.json')
    await writeFile(relayConfig, JSON.stringify({ name: 'internet-relay', listen: [`/ip4/0.0.0.0/tcp/${RELAY_PORT}`], reservations: '*' }))
    const relayProc = topo.execNode(topo.relay.ns, [CLI, 'relay', '--config', relayConfig, '--json', '--stats', '86400'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const relayOut = jsonLines(relayProc)
    const started = await relayOut.next(o => o.event === 'started', 30_000, 'relay start')
    const relayAddr = `/ip4/${topo.relay.ip}/tcp/${RELAY_PORT}/p2p/${started.peer as string}`
    result.relay = relayAddr
    say(`relay ${relayAddr}`)

    // Direct dials from the Zurich lab to a node in the Padova lab fail; the dial through the relay works.
    const target = topo.execNode(lab('padova').host.ns, [PROBE, '--listen', '--relay', relayAddr], { stdio: ['pipe', 'pipe', 'pipe'] })
    const targetOut = jsonLines(target)
    const ready = await targetOut.next(o => o.event === 'ready', 40_000, 'probe target')
    const addrs = ready.addrs as string[]
    const direct = addrs.find(a => a.startsWith(`/ip4/${lab('padova').host.ip}/`))!
    const port = /\/tcp\/(\d+)\//.exec(direct)![1]
    const attempts = [
      { what: 'direct, to the Padova host\'s private address', addr: direct, expect: false },
      { what: 'direct, to the Padova router\'s public address', addr: `/ip4/${lab('padova').router.ip}/tcp/${port}/p2p/${ready.peer as string}`, expect: false },
      { what: 'through the relay', addr: addrs.find(a => a.startsWith(`${relayAddr}/p2p-circuit/`))!, expect: true }
    ]
    const dialer = topo.execNode(lab('zurich').host.ns, [PROBE, '--timeout', '4000', ...attempts.flatMap(a => ['--dial', a.addr])], { stdio: ['ignore', 'pipe', 'pipe'] })
    const dialOut = jsonLines(dialer)
    await exited(dialer)
    target.stdin!.end()
    await exited(target)
    result.dials = attempts.map(a => {
      const d = dialOut.all.find(o => o.event === 'dial' && o.addr === a.addr)
      return { what: a.what, addr: a.addr, ok: d?.ok === true, ms: Number(d?.ms ?? NaN), ...(d?.error !== undefined ? { error: String(d.error) } : {}) }
    })
    const dialsOk = result.dials.every((d, i) => d.ok === attempts[i].expect)
    for (const d of result.dials) {
      say(`${d.ok === attempts[result.dials.indexOf(d)].expect ? 'ok  ' : 'FAIL'} zurich lab → padova lab ${d.what}: ${d.ok ? `connected in ${d.ms} ms` : `failed after ${d.ms} ms (${d.error ?? 'no answer'})`}`)
    }

    // The three sites, each in its own lab, every link through the relay.
    const wrap = Object.fromEntries(Object.entries(LABS).map(([site, l]) => [site, [tool('ip'), 'netns', 'exec', topo!.labs.find(x => x.name === l)!.host.ns]]))
    say(`three sites: zurich in ${lab('zurich').host.ns}, padova in ${lab('padova').host.ns}, southampton in ${lab('southampton').host.ns}; orchestrator and recorder on the public host`)
    const run = topo.execNode(topo.publicHost!.ns, [THREE_SITES, '--relay', relayAddr, '--site-wrap', JSON.stringify(wrap),
      '--duration', values.duration, '--seed', values.seed, '--out', outDir, '--ready-timeout', '60', ...(values.verbose ? ['--verbose'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] })
    const runOut = jsonLines(run, line => { say(`  ${line}`) })
    const code = await exited(run)
    if (code !== 0) say(runOut.stderr.map(l => `  ! ${l}`).join('\n'))
    result.threeSites = { exitCode: code, summary: join(outDir, 'summary.json') }
    say(`${code === 0 ? 'ok  ' : 'FAIL'} three sites across NAT through the relay: exit code ${code}`)

    relayProc.kill('SIGTERM')
    await exited(relayProc)
    result.relayStats = relayOut.all.findLast(o => o.event === 'stats')
    const r = (result.relayStats as { relayed?: { total: number, bytesToReserved: number, bytesFromReserved: number } } | undefined)?.relayed
    if (r !== undefined) say(`relay: ${r.total} relayed connections, ${r.bytesToReserved} bytes to reserved peers, ${r.bytesFromReserved} bytes from them`)

    const id = topo.id
    await topo.destroy()
    result.leftovers = await leftovers(id)
    say(`${result.leftovers.length === 0 ? 'ok  ' : 'FAIL'} namespaces removed${result.leftovers.length === 0 ? '' : `: left ${result.leftovers.join(' ')}`}`)
    result.ok = natOk && dialsOk && code === 0 && result.leftovers.length === 0
    return result.ok ? 0 : 1
  } catch (err) {
    say(`nat: ${(err as Error).message}`)
    result.ok = false
    return 1
  } finally {
    await topo?.destroy().catch(() => {})
    await rm(tmp, { recursive: true, force: true })
    await writeFile(join(outDir, 'nat.json'), JSON.stringify(result, null, 1) + '\n')
  }
}

process.exit(await main())
