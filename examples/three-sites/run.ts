/**
 * The 2020 three-lab experiment as three processes talking peer to peer: Padova (culture emulator),
 * Southampton (two memristive synapses), Zurich (pacemaker and post-synaptic silicon neurons). Every
 * inter-site link goes through its own delay proxy. The orchestrator records every out port with its own
 * node, runs the Figure 2 phases once the clocks have converged, and writes summary.json, figure.svg and
 * events.csv.
 *
 *   node examples/three-sites/run.ts [--out DIR] [--duration S] [--seed N] [--verbose] [--ready-timeout S]
 *        [--relay MULTIADDR [--site-wrap JSON]]
 *
 * --relay: every site node reserves a slot on this circuit relay and every link (Southampton's dials, the
 * recorder's subscriptions) goes through it, with no delay proxy (the path is whatever the network between
 * the sites and the relay is). --site-wrap: per site, a command prefix its process runs under, e.g.
 * {"padova":["ip","netns","exec","NS"],…} to put each site in its own network namespace behind NAT
 * (examples/nat/run.ts does both). --recorder-uncertainty-ms: how good the recorder's clock estimates must
 * be before the phases start (default 1 ms; with --relay, none: the estimates must have converged, like the
 * site nodes').
 *
 * --duration is the total length of the phases (default 45 s; the run takes ≈ 10 s more). Exit code 0
 * when the expected outcome holds and nothing was lost, 1 otherwise (the failed checks are printed).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { peerIdOf, writeNewKey } from '../../src/index.ts'
import { createDelayProxy } from '../../src/netem/index.ts'
import type { DelayProxy } from '../../src/netem/index.ts'
import type { NodeFinal } from './accounting.ts'
import { SiteProcess } from './children.ts'
import { Recorder, STREAMS } from './recorder.ts'
import { CONSUMES, DEFAULT_DURATION_S, LINKS, SITE_NODES, schedule } from './params.ts'
import type { LinkSpec, NodeName, SiteName } from './params.ts'
import { writeOutputs } from './summary.ts'
import { watchLoopDelay } from './loop-delay.ts'
import type { LoopDelay } from './loop-delay.ts'

const SITE_SCRIPT = fileURLToPath(new URL('./site.ts', import.meta.url))
const NODES: NodeName[] = ['padova', 'synapse-a', 'synapse-b', 'zurich', 'recorder']
/**
 * Before the first phase, every site node's clock estimate of each peer whose events it consumes must have
 * converged. The recorder's estimates (over loopback, not through a proxy) only need to be good to
 * RECORDER_UNCERTAINTY_US (--recorder-uncertainty-ms); they converge during the first phase. Through a relay
 * (--relay) on a busy machine the round trips are long and scattered, and the recorder's estimates are
 * instead required to have converged, as the site nodes' are (its uncertainty is reported in the summary).
 */
/** Time after the last phase for events in flight to arrive before the final stats are taken. */
const DRAIN_MS = 1500

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'out/three-sites' },
    duration: { type: 'string', default: String(DEFAULT_DURATION_S) },
    seed: { type: 'string', default: '2020' },
    verbose: { type: 'boolean', default: false },
    'ready-timeout': { type: 'string', default: '30' },
    relay: { type: 'string' },
    'site-wrap': { type: 'string' },
    'recorder-uncertainty-ms': { type: 'string' }
  }
})
const relay = values.relay
const siteWrap = JSON.parse(values['site-wrap'] ?? '{}') as Partial<Record<SiteName, string[]>>
const RECORDER_UNCERTAINTY_US = values['recorder-uncertainty-ms'] !== undefined
  ? Number(values['recorder-uncertainty-ms']) * 1000
  : values.relay === undefined ? 1000 : Infinity
const durationS = Number(values.duration)
const seed = Number(values.seed)
if (!(durationS >= 5 && durationS <= 3600)) throw new Error('--duration must be a number of seconds from 5 to 3600')
if (!Number.isInteger(seed) || seed < 0) throw new Error('--seed must be a non-negative integer')
const outDir = resolve(values.out)
/** How long links and clocks may take to be ready, ms. */
const CONVERGE_TIMEOUT_MS = Number(values['ready-timeout']) * 1000

const say = (line: string): void => { process.stdout.write(line + '\n') }
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, Math.max(0, ms))) }

type Status = Record<string, { clocks: Record<string, { converged: boolean, uncertaintyUs?: number }>, subscriptions: Array<{ state: string }>, links: Array<{ state: string }> }>

async function run (): Promise<number> {
  const loopDelay = watchLoopDelay()
  const keysDir = await mkdtemp(join(tmpdir(), 'spikewire-three-sites-'))
  const sites = new Map<SiteName, SiteProcess>()
  const proxies: Array<{ spec: LinkSpec, proxy: DelayProxy }> = []
  let recorder: Recorder | undefined
  const stopAll = async (): Promise<void> => {
    await recorder?.stop().catch(() => {})
    await Promise.allSettled([...sites.values()].map(async s => { await s.stop() }))
    await Promise.allSettled(proxies.map(async p => { await p.proxy.close() }))
    await rm(keysDir, { recursive: true, force: true })
  }
  process.once('SIGINT', () => { void stopAll().then(() => process.exit(130)) })
  try {
    // Fixed identities, so that every node can allow exactly the peers it talks to.
    const keys = {} as Record<NodeName, string>
    const peers = {} as Record<NodeName, string>
    for (const n of NODES) {
      keys[n] = join(keysDir, `${n}.key`)
      peers[n] = peerIdOf(await writeNewKey(keys[n]))
    }
    const nameOf = (peer: string): string => NODES.find(n => peers[n] === peer) ?? peer
    recorder = await Recorder.start(keys.recorder, peers)
    const spawnSite = (site: SiteName, extra: string[]): void => {
      const args = ['--peers', JSON.stringify(peers), '--seed', String(seed), ...SITE_NODES[site].flatMap(n => ['--key', `${n}=${keys[n]}`]),
        ...(relay === undefined ? [] : ['--relay', relay]), ...extra]
      sites.set(site, new SiteProcess(site, SITE_SCRIPT, args, { verbose: values.verbose, wrap: siteWrap[site] }))
    }
    const addr = {} as Record<NodeName, string>
    const started = async (site: SiteName): Promise<void> => {
      for (const n of SITE_NODES[site]) {
        const e = await sites.get(site)!.next(e => e.event === 'started' && e.node === n, relay === undefined ? 20_000 : 40_000, `started event of ${n}`)
        addr[n] = e.multiaddr as string
      }
    }
    const t0 = performance.now()
    spawnSite('padova', [])
    spawnSite('zurich', [])
    await started('padova')
    await started('zurich')
    const connect: string[] = []
    for (const [i, spec] of LINKS.entries()) {
      if (relay !== undefined) {
        connect.push('--connect', `${spec.target}=${addr[spec.target]}`)
        continue
      }
      const port = Number(/\/tcp\/(\d+)\//.exec(addr[spec.target])?.[1])
      const proxy = await createDelayProxy({
        listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, up: spec.up, down: spec.down, seed: seed + i, spinMs: 0
      })
      proxies.push({ spec, proxy })
      connect.push('--connect', `${spec.target}=/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${peers[spec.target]}`)
    }
    spawnSite('southampton', connect)
    await started('southampton')
    say(`three sites up: padova, southampton (synapse-a, synapse-b), zurich; links ${relay !== undefined
      ? `through the relay ${relay}`
      : LINKS.map(l => `${l.name} ${l.up.delayMs}/${l.down.delayMs} ± ${l.up.jitterMs} ms`).join(', ')}`)
    for (const s of STREAMS) recorder.follow(s.node, addr[s.node], s.port)

    // Every link open and every needed clock estimate converged.
    const deadline = performance.now() + CONVERGE_TIMEOUT_MS
    for (;;) {
      const status: Status = {}
      for (const p of sites.values()) Object.assign(status, (await p.request({ cmd: 'status' }, 'status')).nodes as Status)
      const rs = recorder.node.stats()
      status.recorder = {
        clocks: Object.fromEntries(Object.entries(rs.clocks).map(([peer, c]) => [nameOf(peer), c])),
        subscriptions: rs.subscriptions,
        links: []
      }
      const missing: string[] = []
      for (const n of NODES) {
        const s = status[n]
        for (const peer of CONSUMES[n]) {
          const c = s?.clocks[peer]
          const ready = n === 'recorder'
            ? (c?.uncertaintyUs ?? Infinity) <= RECORDER_UNCERTAINTY_US && (relay === undefined || c?.converged === true)
            : c?.converged === true
          if (!ready) missing.push(`clock ${n}→${peer} ${JSON.stringify(c ?? 'not started')}`)
        }
        for (const x of [...(s?.subscriptions ?? []), ...(s?.links ?? [])]) if (x.state !== 'open') missing.push(`${n} link ${x.state}`)
      }
      if (missing.length === 0) break
      if (performance.now() > deadline) {
        if (values.verbose) process.stderr.write(JSON.stringify(status, null, 1) + '\n')
        throw new Error(`not ready after ${CONVERGE_TIMEOUT_MS / 1000} s: ${missing.join(', ')}`)
      }
      await sleep(300)
    }
    const convergedAfterS = Math.round(performance.now() - t0) / 1000
    say(`links open and clocks converged ${convergedAfterS} s after the start`)

    // The schedule, in the recorder's clock; each site gets it in its own clock.
    const clock = recorder.node.clock
    const phases = schedule(Math.round(clock.nowUs()) + 1_000_000, durationS)
    for (const [site, p] of sites) {
      const est = recorder.node.clockFor(peers[SITE_NODES[site][0]]).estimate()
      const toSite = (us: number): number => Math.round(us + est.offsetUs + est.driftPpm * 1e-6 * (us - est.atLocalUs))
      p.send({ cmd: 'schedule', phases: phases.map(ph => ({ ...ph, startUs: toSite(ph.startUs), endUs: toSite(ph.endUs) })) })
    }
    for (const [i, ph] of phases.entries()) {
      await sleep((ph.startUs - clock.nowUs()) / 1000)
      say(`phase ${i + 1}/${phases.length} ${ph.name}: pacemaker ${ph.rateHz} Hz for ${((ph.endUs - ph.startUs) / 1e6).toFixed(1)} s; synapse A weight ${lastWeight(recorder, 'synapse-a')}`)
    }
    await sleep((phases[phases.length - 1].endUs - clock.nowUs()) / 1000 + DRAIN_MS)

    // Final counters of every node, taken while everything still runs (nothing is discarded yet).
    const finals: Partial<Record<NodeName, NodeFinal>> = {}
    const siteReports: unknown[] = []
    const loopDelays: Record<string, LoopDelay> = { orchestrator: loopDelay() }
    for (const [site, p] of sites) {
      const e = await p.request({ cmd: 'final' }, 'final', 10_000)
      Object.assign(finals, e.nodes as Record<NodeName, NodeFinal>)
      loopDelays[site] = e.eventLoopDelay as LoopDelay
      siteReports.push(...p.take('phase').map(({ event: _e, ...rest }) => rest), { site, phase: 'final', report: e.report })
    }
    const rs = recorder.node.stats()
    finals.recorder = {
      stats: rs,
      hosts: [],
      drivers: [],
      trueOffsetUs: 0,
      clocks: Object.fromEntries(Object.entries(rs.clocks).map(([peer, c]) => [nameOf(peer), c]))
    }
    const proxyStats = proxies.map(p => ({ spec: p.spec, stats: p.proxy.stats() }))
    const events = recorder.events.map(e => ({ node: e.node, port: e.port, channel: e.channel, value: e.value, tUs: recorder!.localUs(e.node, e.timeUs) }))
    await stopAll()

    const w = await writeOutputs(outDir, { durationS, seed, peers, phases, events, finals, proxies: proxyStats, siteReports, convergedAfterS, loopDelays })
    for (const p of w.phases) {
      const a = p.weights['synapse-a']
      say(`  ${p.name.padEnd(20)} weight A ${a.start} → ${a.end}, evoked per pacemaker spike ${p.evokedPerPacemakerSpike} (${p.evokedSpikes}/${p.pacemakerSpikes})`)
    }
    for (const c of w.checks) say(`${c.ok ? 'ok  ' : c.required ? 'FAIL' : 'note'} ${c.name}: ${c.detail}`)
    say(`summary: ${w.summaryPath}`)
    say(`figure:  ${w.figurePath}`)
    return w.ok ? 0 : 1
  } catch (err) {
    process.stderr.write(`three-sites: ${(err as Error).message}\n`)
    await stopAll()
    return 1
  }
}

function lastWeight (recorder: Recorder, node: NodeName): number | string {
  const e = recorder.events.findLast(e => e.node === node && e.port === 'weight')
  return e?.value ?? '?'
}

// Exit explicitly: once the sites are gone, Node's own teardown can spin on a socket request that never
// completes (seen after a failed start; see the README), and stdout is synchronous on Linux pipes and files.
process.exit(await run())
