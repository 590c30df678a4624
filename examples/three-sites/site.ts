/**
 * One site of the three-site experiment, as its own process (started by run.ts).
 *
 *   node examples/three-sites/site.ts --site padova|southampton|zurich --peers JSON --key NODE=FILE …
 *        [--connect padova=MULTIADDR --connect zurich=MULTIADDR] [--seed N] [--relay MULTIADDR]
 *
 * stdout: one JSON object per line, one per event of interest:
 *   {"event":"started","site","node","peer","multiaddr"}   once per node, when it listens (with --relay:
 *                                                           when it holds its reservation; multiaddr is
 *                                                           then its address through the relay)
 *   {"event":"status","site","nodes":{…}}                   answer to "status": clocks, links, true clock offset
 *   {"event":"phase","site","phase","at","report"}          at each phase boundary (site's own measurements)
 *   {"event":"final","site","report","eventLoopDelay","nodes":{…}}  answer to "final": node.stats(),
 *                                                           host stats, how late this process's timers ran
 *   {"event":"stopped","site"}                              after "stop", just before exiting
 * stdin: one JSON command per line: {"cmd":"status"}, {"cmd":"schedule","phases":[…]} (times in this
 * site's clock), {"cmd":"final"}, {"cmd":"stop"}. The site stops when stdin ends (the orchestrator went
 * away). Logs go to stderr.
 */
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { SkewedClock, SystemClock } from '../../src/index.ts'
import type { SpikewireNode } from '../../src/index.ts'
import { SITE_CLOCKS } from './params.ts'
import type { NodeName, Phase, SiteName } from './params.ts'
import { partsOf, startSite } from './sites.ts'
import { watchLoopDelay } from './loop-delay.ts'
import type { Site, SiteContext } from './sites.ts'

function print (o: unknown): void {
  process.stdout.write(JSON.stringify(o) + '\n')
}

function pairs (list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of list ?? []) {
    const i = item.indexOf('=')
    if (i <= 0) throw new Error(`--${what} takes NAME=VALUE, got ${item}`)
    out[item.slice(0, i)] = item.slice(i + 1)
  }
  return out
}

const { values } = parseArgs({
  options: {
    site: { type: 'string' },
    peers: { type: 'string' },
    key: { type: 'string', multiple: true },
    connect: { type: 'string', multiple: true },
    seed: { type: 'string', default: '2020' },
    relay: { type: 'string' }
  }
})
const siteName = values.site as SiteName
if (!['padova', 'southampton', 'zurich'].includes(siteName)) throw new Error('--site must be padova, southampton or zurich')
const peers = JSON.parse(values.peers ?? '{}') as Record<NodeName, string>
const nameOf = new Map(Object.entries(peers).map(([name, id]) => [id, name]))
const clock = new SkewedClock(new SystemClock(), SITE_CLOCKS[siteName])
const ctx: SiteContext = {
  site: siteName,
  keys: pairs(values.key, 'key'),
  peers,
  connect: pairs(values.connect, 'connect'),
  seed: Number(values.seed),
  clock,
  ...(values.relay === undefined ? {} : { relay: values.relay })
}

const site: Site = await startSite(ctx)
const loopDelay = watchLoopDelay()
/** The address peers dial: the node's own, or with --relay its address through the relay once reserved. */
async function reachableAt (node: SpikewireNode): Promise<string> {
  if (values.relay === undefined) return node.multiaddrs[0]
  await node.relaysReserved({ signal: AbortSignal.timeout(30_000) })
  const circuit = node.multiaddrs.find(a => a.startsWith(`${values.relay}/p2p-circuit/`))
  if (circuit === undefined) throw new Error(`${siteName}: no address through ${values.relay} among ${node.multiaddrs.join(' ')}`)
  return circuit
}
for (const [name, node] of site.nodes) print({ event: 'started', site: siteName, node: name, peer: node.peerId, multiaddr: await reachableAt(node) })

function status (node: SpikewireNode): Record<string, unknown> {
  const s = node.stats()
  const named = (peer: string): string => nameOf.get(peer) ?? peer
  return {
    peer: node.peerId,
    trueOffsetUs: clock.trueOffsetAt(clock.base.nowUs()),
    clocks: Object.fromEntries(Object.entries(s.clocks).map(([peer, c]) => [named(peer), {
      converged: c.converged, offsetUs: c.offsetUs, uncertaintyUs: c.uncertaintyUs, rttUs: c.rttUs, driftPpm: c.driftPpm, state: c.state, probes: c.stats
    }])),
    subscriptions: s.subscriptions.map(x => ({ peer: named(x.peer), port: x.port, state: x.state })),
    links: s.links.map(x => ({ peer: named(x.peer), from: x.from, to: x.to, state: x.state }))
  }
}

const timers: Array<ReturnType<typeof setTimeout>> = []

function onSchedule (phases: Phase[]): void {
  site.setSchedule(phases)
  const at = (us: number, fn: () => void): void => { timers.push(setTimeout(fn, Math.max(0, (us - clock.nowUs()) / 1000))) }
  for (const p of phases) at(p.startUs, () => { print({ event: 'phase', site: siteName, phase: p.name, at: 'start', report: site.report() }) })
  const last = phases[phases.length - 1]
  if (last !== undefined) at(last.endUs, () => { print({ event: 'phase', site: siteName, phase: last.name, at: 'end', report: site.report() }) })
}

let stopping: Promise<void> | undefined
async function stop (): Promise<void> {
  stopping ??= (async () => {
    for (const t of timers) clearTimeout(t)
    await Promise.allSettled([...site.nodes.values()].map(async n => { await n.stop() }))
    print({ event: 'stopped', site: siteName })
  })()
  await stopping
}

const lines = createInterface({ input: process.stdin })
lines.on('line', line => {
  try {
    const msg = JSON.parse(line) as { cmd: string, phases?: Phase[] }
    const nodes = (f: (n: SpikewireNode) => unknown): Record<string, unknown> =>
      Object.fromEntries([...site.nodes].map(([name, n]) => [name, f(n)]))
    if (msg.cmd === 'status') print({ event: 'status', site: siteName, nodes: nodes(status) })
    else if (msg.cmd === 'schedule') onSchedule(msg.phases ?? [])
    else if (msg.cmd === 'final') {
      print({
        event: 'final',
        site: siteName,
        report: site.report(),
        eventLoopDelay: loopDelay(),
        nodes: nodes(n => ({ ...status(n), stats: n.stats(), hosts: partsOf(n).hosts.map(h => h.stats()), drivers: partsOf(n).drivers.map(d => ({ ...d.stats })) }))
      })
    } else if (msg.cmd === 'stop') void stop().then(() => { process.exit(0) })
    else process.stderr.write(`${siteName}: unknown command ${msg.cmd}\n`)
  } catch (err) {
    process.stderr.write(`${siteName}: bad command ${line}: ${(err as Error).message}\n`)
  }
})
lines.on('close', () => { void stop().then(() => { process.exit(0) }) })
