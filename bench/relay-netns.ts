/**
 * `node bench/relay.ts --netns [--json] [--seconds S] [--latency-seconds S] [--chunk N] [--queue N] [--rate HZ]`:
 * relayed against direct across real NAT, in one run, on the namespace topology of test/helpers/netns.ts
 * (needs root). The subscriber is a node in lab B, behind its NAT router.
 *
 * - relayed: the publisher is a node in lab A (behind another NAT router) that listens nowhere and holds a
 *   reservation on the relay (a `spikewire relay` on the public net): lab B → relay → lab A, two NATs.
 * - direct (the baseline): the publisher is a node on the public host; the subscriber in lab B dials it
 *   through its own NAT — the closest direct path there is, as no direct path joins two NATed labs.
 *
 * Throughput (the publisher emits as fast as its stream takes, waiting on backpressure, so zero loss is
 * expected) and one-way latency at --rate events/s (arrival − event time). Each node runs in its own
 * process, in its own namespace; they all read the machine's one realtime clock (network namespaces share
 * it), and `clock_spread_us` reports how far the processes' clocks (performance.timeOrigin + now, the
 * nodes' SystemClock) disagreed about it. The measuring halves are bench/relay.ts's `produceMax`,
 * `producePaced`, `receive`, `drained`, `throughputOf` and `summarise`; the options and the figures of each
 * line are its `parseRelayArgs`, `throughputLine` and `latencyLine`.
 *
 * Child roles (`--role pub|sub`) are this same file, run inside the namespaces; they take JSON-line
 * commands on stdin and answer on stdout.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { ChildProcess } from 'node:child_process'
import { createNode } from '../src/hosting/start.ts'
import { createTopology, leftovers } from '../test/helpers/netns.ts'
import type { Topology } from '../test/helpers/netns.ts'
import { PORT, PUBLISHER, drained, latencyLine, parseRelayArgs, produceMax, producePaced, receive, summarise, throughputLine, throughputOf } from './relay.ts'
import type { Received, ThroughputResult } from './relay.ts'
import { printer, round, sleep } from './report.ts'
import { clockBase } from './stream-roles.ts'

const SELF = fileURLToPath(import.meta.url)
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
const RELAY_PORT = 4040
const DIRECT_PORT = 4041

function reply (o: unknown): void {
  process.stdout.write(JSON.stringify(o) + '\n')
}

/** A child: a publisher (`--relay` given: listens nowhere, reserves on the relay) or the subscriber. */
async function child (role: string, relay: string | undefined): Promise<void> {
  const node = role === 'sub'
    ? await createNode({ name: 'bench-sub', listen: [] })
    : relay !== undefined
      ? await createNode({ name: 'bench-relayed', listen: [], relays: [relay], ...PUBLISHER })
      : await createNode({ name: 'bench-direct', listen: [`/ip4/0.0.0.0/tcp/${DIRECT_PORT}`], ...PUBLISHER })
  if (relay !== undefined) await node.relaysReserved({ signal: AbortSignal.timeout(30_000) })
  reply({ event: 'ready', peer: node.peerId, addrs: node.multiaddrs })
  let current: { received: Received, close: () => Promise<void> } | undefined
  const lines = createInterface({ input: process.stdin })
  lines.on('line', line => {
    const m = JSON.parse(line) as { id: number, cmd: string, [k: string]: unknown }
    const run = async (): Promise<unknown> => {
      // This process's clock (what SystemClock reads) − the machine's monotonic clock: the same in every
      // process when their clocks agree; compared across processes for clock_spread_us.
      if (m.cmd === 'clock') return { delta: clockBase() }
      // Emitted counts of the port are totals since the start: each run reports its own.
      const before = role === 'sub' ? 0 : node.outPort(PORT).stats.emitted
      if (m.cmd === 'max') {
        const p = await produceMax(node, m.seconds as number, m.chunk as number, m.queue as number)
        return { ...p, emitted: p.emitted - before }
      }
      if (m.cmd === 'paced') {
        const p = await producePaced(node, m.seconds as number, m.rateHz as number)
        return { ...p, emitted: p.emitted - before }
      }
      if (m.cmd === 'receive') {
        const { subscription, received } = await receive(node, m.target as string, m.latency as boolean)
        current = { received, close: async () => { await subscription.close() } }
        return { subscribed: true }
      }
      if (m.cmd === 'finish') {
        const c = current!
        const emitted = m.emitted as number
        await drained(c.received, emitted)
        await c.close()
        const r = c.received
        return {
          ...throughputOf(r, emitted),
          latency: m.latency === true ? summarise(r, emitted) : undefined,
          minLatencyUs: r.latencies.length > 0 ? Math.min(...r.latencies) : undefined
        }
      }
      throw new Error(`unknown command ${m.cmd}`)
    }
    run().then(result => { reply({ id: m.id, result }) }, (err: Error) => { reply({ id: m.id, error: err.message }) })
  })
  lines.on('close', () => { void node.stop().then(() => process.exit(0)) })
}

/** A child process in a namespace, driven by JSON-line commands. */
class Remote {
  readonly child: ChildProcess
  readonly lines: Array<Record<string, unknown>> = []
  #next = 0

  constructor (topo: Topology, ns: string, args: string[]) {
    this.child = topo.execNode(ns, args, { stdio: ['pipe', 'pipe', 'inherit'] })
    createInterface({ input: this.child.stdout! }).on('line', l => { this.lines.push(JSON.parse(l) as Record<string, unknown>) })
  }

  async wait (match: (o: Record<string, unknown>) => boolean, ms: number, what: string): Promise<Record<string, unknown>> {
    const end = Date.now() + ms
    for (;;) {
      const o = this.lines.find(match)
      if (o !== undefined) return o
      if (Date.now() > end || this.child.exitCode !== null) throw new Error(`no ${what}`)
      await sleep(20)
    }
  }

  async call<T> (cmd: string, args: Record<string, unknown> = {}, ms = 120_000): Promise<T> {
    const id = this.#next++
    this.child.stdin!.write(JSON.stringify({ id, cmd, ...args }) + '\n')
    const m = await this.wait(o => o.id === id, ms, `answer to ${cmd}`)
    if (m.error !== undefined) throw new Error(`${cmd}: ${String(m.error)}`)
    return m.result as T
  }
}

interface Finished extends ThroughputResult { latency?: ReturnType<typeof summarise>, minLatencyUs?: number }

async function main (): Promise<void> {
  const { json, seconds, latencySeconds, chunk, queue, rateHz } = parseRelayArgs()
  const print = printer(json)
  const topo = await createTopology({ labs: ['a', 'b'], publicHost: true })
  const tmp = await mkdtemp(join(tmpdir(), 'spikewire-bench-relay-netns-'))
  const remotes: Remote[] = []
  try {
    const file = join(tmp, 'relay.json')
    await writeFile(file, JSON.stringify({ name: 'bench-relay', listen: [`/ip4/0.0.0.0/tcp/${RELAY_PORT}`], reservations: '*' }))
    const relayProc = topo.execNode(topo.relay.ns, [CLI, 'relay', '--config', file, '--json', '--stats', '86400'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const relayLines: Array<Record<string, unknown>> = []
    createInterface({ input: relayProc.stdout! }).on('line', l => { relayLines.push(JSON.parse(l) as Record<string, unknown>) })
    const end = Date.now() + 30_000
    while (!relayLines.some(l => l.event === 'started')) {
      if (Date.now() > end || relayProc.exitCode !== null) throw new Error('the relay did not start within 30 s')
      await sleep(20)
    }
    const relay = `/ip4/${topo.relay.ip}/tcp/${RELAY_PORT}/p2p/${relayLines.find(l => l.event === 'started')!.peer as string}`
    const [labA, labB] = topo.labs
    const relayed = new Remote(topo, labA.host.ns, [SELF, '--role', 'pub', '--relay', relay])
    const direct = new Remote(topo, topo.publicHost!.ns, [SELF, '--role', 'pub'])
    const sub = new Remote(topo, labB.host.ns, [SELF, '--role', 'sub'])
    remotes.push(relayed, direct, sub)
    const rReady = await relayed.wait(o => o.event === 'ready', 40_000, 'relayed publisher')
    const dReady = await direct.wait(o => o.event === 'ready', 40_000, 'direct publisher')
    await sub.wait(o => o.event === 'ready', 40_000, 'subscriber')
    const targets = {
      relayed: `${relay}/p2p-circuit/p2p/${rReady.peer as string}`,
      direct: `/ip4/${topo.publicHost!.ip}/tcp/${DIRECT_PORT}/p2p/${dReady.peer as string}`
    }
    const deltas = await Promise.all(remotes.map(async r => (await r.call<{ delta: number }>('clock')).delta))
    const clockSpreadUs = round(Math.max(...deltas) - Math.min(...deltas), 1)

    const throughput = async (pub: Remote, target: string): Promise<Finished> => {
      await sub.call('receive', { target, latency: false })
      const p = await pub.call<{ emitted: number }>('max', { seconds, chunk, queue })
      return await sub.call<Finished>('finish', { emitted: p.emitted })
    }
    const latency = async (pub: Remote, target: string): Promise<Finished> => {
      await sleep(1000) // let the previous run's traffic settle (buffers, the relay's queues)
      await sub.call('receive', { target, latency: true })
      const p = await pub.call<{ emitted: number }>('paced', { seconds: latencySeconds, rateHz })
      return await sub.call<Finished>('finish', { emitted: p.emitted, latency: true })
    }
    const paths = `relayed: lab ${labB.name} (${labB.host.ip}) ← relay ${topo.relay.ip} ← lab ${labA.name} (${labA.host.ip}), two NATs; direct: lab ${labB.name} ← public host ${topo.publicHost!.ip}, one NAT`
    const td = await throughput(direct, targets.direct)
    const tr = await throughput(relayed, targets.relayed)
    print({
      ...throughputLine('relay-netns-throughput', seconds, tr, td),
      paths,
      note: 'relayed across two NATs vs direct through one NAT, same run; each node its own process and namespace; the emitter waits on backpressure, so zero loss is expected on both'
    })
    const ldFull = await latency(direct, targets.direct)
    const lrFull = await latency(relayed, targets.relayed)
    const ld = ldFull.latency!
    const lr = lrFull.latency!
    print({
      ...latencyLine('relay-netns-latency', rateHz, latencySeconds, lr, ld),
      clock_spread_us: clockSpreadUs,
      min_us: round(lrFull.minLatencyUs ?? NaN, 1),
      baseline_min_us: round(ldFull.minLatencyUs ?? NaN, 1),
      paths,
      note: 'one-way emit -> delivery callback across processes on one machine clock (clock_spread_us: how far the processes disagreed); relayed vs direct in the same run'
    })
    for (const r of remotes) r.child.stdin!.end()
    relayProc.kill('SIGTERM')
    await new Promise(resolve => { if (relayProc.exitCode !== null) resolve(null); else relayProc.once('exit', resolve) })
    const final = relayLines.findLast(l => l.event === 'stats')
    if (final !== undefined) print({ bench: 'relay-netns-stats', ...(final.relayed as Record<string, unknown>) })
  } finally {
    for (const r of remotes) r.child.stdin?.end()
    const id = topo.id
    await topo.destroy()
    await rm(tmp, { recursive: true, force: true })
    const left = await leftovers(id)
    if (left.length > 0) process.stderr.write(`namespaces left behind: ${left.join(' ')}\n`)
  }
}

if (process.argv[1] === SELF) {
  const { values } = parseArgs({ options: { role: { type: 'string' }, relay: { type: 'string' } }, strict: false })
  if (typeof values.role === 'string') await child(values.role, typeof values.relay === 'string' ? values.relay : undefined)
  else await main()
}
