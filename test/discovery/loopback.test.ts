/**
 * mDNS discovery and `spikewire ls` on loopback, inside a test namespace of its own (one host of the LAN of
 * test/helpers/netns.ts): in the root namespace `lo` has no MULTICAST flag and mDNS goes out on the
 * machine's real interface, so these tests never run there. Nodes listen on 127.0.0.1 only; mDNS
 * multicast is looped back inside the namespace. Real nodes: the CLI (`spikewire node --config`) and the
 * watch fixture; `spikewire ls` is a real child process. Skipped, with the reason in the title and on the
 * console, where namespaces are not permitted.
 */
import test from 'ava'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTopology, leftovers, netnsAvailable } from '../helpers/netns.ts'
import type { Topology } from '../helpers/netns.ts'
import { FIXTURES, NsProc, cliIn, lsIn, nodeIn, watchIn } from './ns-procs.ts'
import type { ExecutionContext } from 'ava'

const avail = await netnsAvailable()
if (!avail.ok) console.log(`test/discovery/loopback.test.ts: SKIPPED — network namespaces not permitted here: ${avail.reason}`)
const nsTest = avail.ok ? test : test.skip
const why = avail.ok ? '' : ` [skipped: ${avail.reason}]`
const LO = '/ip4/127.0.0.1/tcp/0'
const OTHER_PEER = '12D3KooWHJvQfsXmiU3gizLUc13sTgJ3vHZFTDtV5ex2LBzdVyfu'

async function host (t: ExecutionContext): Promise<{ topo: Topology, ns: string, dir: string }> {
  const topo = await createTopology({ labs: [], lan: 1, checkNat: false })
  const dir = await mkdtemp(join(tmpdir(), 'swdisc-'))
  t.teardown(async () => {
    await topo.destroy()
    const left = await leftovers(topo.id)
    if (left.length > 0) throw new Error(`namespaces left behind: ${left.join(' ')}`)
    await rm(dir, { recursive: true, force: true })
  })
  return { topo, ns: topo.lan[0].ns, dir }
}

async function config (dir: string, name: string, value: Record<string, unknown>): Promise<string> {
  const path = join(dir, `${name}.json`)
  await writeFile(path, JSON.stringify({ name, listen: [LO], ...value }))
  return path
}

nsTest(`nodes with mDNS find each other and dial no one; a node without mDNS is found by no one${why}`, async t => {
  t.timeout(120_000)
  const { topo, ns } = await host(t)
  const mdns = { mdns: { intervalMs: 1000 } }
  const w = await watchIn(topo, ns, [
    { name: 'a', listen: [LO], discovery: mdns, ports: [{ name: 'spikes', direction: 'out', channels: 4 }] },
    { name: 'b', listen: [LO], discovery: { mdns: true } },
    { name: 'c', listen: [LO], discovery: mdns },
    { name: 'quiet', listen: [LO] }
  ])
  const peer = Object.fromEntries(w.started.map(s => [s.name, s.peer]))
  const deadline = Date.now() + 20_000
  let report = await w.report()
  const sees = (name: string): string[] => report.find(r => r.name === name)!.discovered.map(d => d.peer).sort()
  const want = (names: string[]): string[] => names.map(n => peer[n]).sort()
  while (Date.now() < deadline && !(sees('a').length === 2 && sees('b').length === 2 && sees('c').length === 2)) {
    await new Promise(resolve => setTimeout(resolve, 300))
    report = await w.report()
  }
  t.deepEqual(sees('a'), want(['b', 'c']))
  t.deepEqual(sees('b'), want(['a', 'c']))
  t.deepEqual(sees('c'), want(['a', 'b']))
  t.deepEqual(sees('quiet'), [], 'a node without mDNS listens to no one')
  for (const r of report) t.is(r.connections, 0, `${r.name} dialled no one and was dialled by no one`)
  const a = report.find(r => r.name === 'a')!
  t.true(a.discovered.every(d => d.addresses.every(x => x.startsWith('/ip4/127.0.0.1/tcp/') && x.endsWith(`/p2p/${d.peer}`))))
  t.true((a.discovery?.announcements ?? 0) > 0 && (a.discovery?.answered ?? 0) > 0)
  t.is(report.find(r => r.name === 'quiet')!.discovery, undefined)

  const ls = await lsIn(topo, ns, ['--timeout', '3'])
  t.is(ls.code, 0, ls.stderr)
  t.deepEqual(ls.nodes.map(n => n.name).sort(), ['a', 'b', 'c'])
  t.deepEqual(ls.nodes.find(n => n.name === 'a')!.ports, [{ name: 'spikes', direction: 'out', kind: 'spike', channels: 4 }])
  t.true(ls.nodes.every(n => n.error === undefined && n.sources.join() === 'mdns' && n.peer === peer[n.name!]))
  w.proc.child.stdin?.end()
  t.is(await w.proc.exit(20_000), 0)
})

nsTest(`spikewire ls lists CLI nodes with their ports, filters by name, role and port, and lists a node that refuses describe with its error${why}`, async t => {
  t.timeout(120_000)
  const { topo, ns, dir } = await host(t)
  const src = await nodeIn(topo, ns, await config(dir, 'rig-1', {
    role: 'source',
    discovery: { mdns: true },
    ports: [{ name: 'spikes', direction: 'out', channels: 64, source: { type: 'poisson', rateHz: 5, seed: 1 } }, { name: 'stim', direction: 'in', kind: 'weighted', channels: 2 }]
  }))
  const neu = await nodeIn(topo, ns, await config(dir, 'neuron-1', { role: 'neuron', discovery: { mdns: { intervalMs: 2000 } }, ports: [{ name: 'in', direction: 'in', channels: 8 }] }))
  const hidden = await nodeIn(topo, ns, await config(dir, 'hidden', { role: 'sink' }))
  const locked = await nodeIn(topo, ns, await config(dir, 'locked', { discovery: { mdns: true }, allow: [OTHER_PEER] }))

  const all = await lsIn(topo, ns, ['--timeout', '3'])
  t.is(all.code, 0, all.stderr)
  t.log(all.nodes.map(n => JSON.stringify(n)).join('\n'))
  const byPeer = new Map(all.nodes.map(n => [n.peer, n]))
  t.deepEqual([...byPeer.keys()].sort(), [src.peer, neu.peer, locked.peer].sort(), 'the node without mDNS is not listed')
  t.false(byPeer.has(hidden.peer))
  const s = byPeer.get(src.peer)!
  t.like(s, { name: 'rig-1', role: 'source', sources: ['mdns'] })
  t.deepEqual(s.ports, [{ name: 'spikes', direction: 'out', kind: 'spike', channels: 64 }, { name: 'stim', direction: 'in', kind: 'weighted', channels: 2 }])
  t.deepEqual(s.addresses, src.addrs)
  t.like(byPeer.get(neu.peer), { name: 'neuron-1', role: 'neuron', ports: [{ name: 'in', direction: 'in', kind: 'spike', channels: 8 }] })
  const l = byPeer.get(locked.peer)!
  t.is(l.name, undefined)
  t.is(l.ports, undefined)
  t.deepEqual(l.addresses, locked.addrs, 'what mDNS said is listed')
  t.truthy(l.error?.code)
  t.truthy(l.error?.message)

  const neurons = await lsIn(topo, ns, ['--timeout', '2', '--role', 'neuron'])
  t.deepEqual(neurons.nodes.map(n => n.peer), [neu.peer])
  const spikes = await lsIn(topo, ns, ['--timeout', '2', '--port', 'spikes'])
  t.deepEqual(spikes.nodes.map(n => n.peer), [src.peer])
  const named = await lsIn(topo, ns, ['--timeout', '2', '--name', 'neuron-1', '--port', 'spikes'])
  t.deepEqual(named.nodes, [], 'filters combine')
  t.regex(named.stderr, /no spikewire node matching the filters found/)
  const otherTag = await lsIn(topo, ns, ['--timeout', '1.5', '--tag', '_otherlab._udp.local'])
  t.is(otherTag.code, 0)
  t.deepEqual(otherTag.nodes, [], 'another service tag finds no spikewire node')

  const human = cliIn(topo, ns, ['ls', '--timeout', '2'])
  t.is(await human.exit(30_000), 0)
  const lines = human.stdout.trim().split('\n')
  t.regex(lines[0], /^NAME\s+ROLE\s+PEER\s+PORTS\s+ADDRESSES$/)
  t.true(lines.some(x => x.startsWith('rig-1') && x.includes('spikes(out spike 64) stim(in weighted 2)') && x.includes(src.peer)))
  t.true(lines.some(x => x.startsWith('?') && x.includes(locked.peer) && x.includes('error ')))
  t.is(lines.length, 4)
  for (const p of [src, neu, hidden, locked]) p.proc.kill()
})

nsTest(`a flood of fake mDNS announcements and queries: the node's table stays bounded, it answers at a bounded rate, ls ends on time${why}`, async t => {
  t.timeout(120_000)
  const { topo, ns, dir } = await host(t)
  const t0 = Date.now()
  const w = await watchIn(topo, ns, [{ name: 'victim', listen: [LO], discovery: { mdns: { intervalMs: 1000 } } }])
  const real = await nodeIn(topo, ns, await config(dir, 'real', { discovery: { mdns: true }, ports: [{ name: 'spikes', direction: 'out', channels: 2 }] }))
  const before = (await w.report())[0]

  const flood = new NsProc(topo, ns, [join(FIXTURES, 'flood.ts'), JSON.stringify({ answers: 1500, queries: 1500, spreadMs: 6000, maxMs: 15_000 })])
  const lsTimeoutS = 2
  const ls = await lsIn(topo, ns, ['--timeout', String(lsTimeoutS)], 60_000)
  t.is(await flood.exit(60_000), 0, flood.stderr)
  const sent = flood.json[0].sent as { answers: number, queries: number, ms: number }
  t.log(`flood: ${JSON.stringify(sent)}; ls took ${ls.ms} ms and listed ${ls.nodes.length} nodes; stderr: ${ls.stderr.trim()}`)
  t.is(ls.code, 0, ls.stderr)
  // ls listens for 2 s, then gives every description 5 s at most; starting Node and libp2p and stopping add a
  // few s (generous on a busy machine): the point is that it ends by itself, not how fast.
  t.true(ls.ms < (lsTimeoutS + 5 + 20) * 1000, `ls took ${ls.ms} ms`)
  t.true(ls.nodes.length <= 256)
  t.true(ls.nodes.every(n => n.addresses.length <= 16), 'at most 16 addresses per peer')
  t.true(ls.nodes.filter(n => n.peer !== real.peer && n.peer !== w.started[0].peer).every(n => n.error !== undefined), 'fake peers are listed with their error')

  const after = (await w.report())[0]
  t.log(`victim: ${JSON.stringify(after.discovery)}, heap ${Math.round(before.heapUsed / 1e6)} → ${Math.round(after.heapUsed / 1e6)} MB`)
  const d = after.discovery!
  // UDP may drop some of the flood on a busy machine; well over 256 distinct fake peers still arrive.
  t.true(d.announcements - before.discovery!.announcements > 300, `${d.announcements} announcements heard`)
  t.true(d.peers <= 256 && after.discovered.length <= 256, `${d.peers} peers held`)
  t.true(d.evicted > 0, `${d.evicted} evicted`)
  t.true(after.discovered.every(p => p.addresses.length <= 16))
  // At most a burst of 16 and 4 per second answered, over the whole life of the node (plus its own queries).
  const lifeS = (Date.now() - t0) / 1000
  t.true(d.answered <= 16 + 4 * lifeS, `${d.answered} answered`)
  t.true(d.unanswered > 300, `${d.unanswered} queries not answered`)
  t.is(after.connections, 0, 'the node dialled none of the announced peers')

  // After the flood the LAN is usable again: a fresh ls finds the real node.
  const again = await lsIn(topo, ns, ['--timeout', '3', '--name', 'real'])
  t.deepEqual(again.nodes.map(n => n.peer), [real.peer])
  real.proc.kill()
  w.proc.child.stdin?.end()
})

nsTest(`spikewire ls says so when mDNS cannot be used (UDP 5353 held by a program that does not share it)${why}`, async t => {
  t.timeout(60_000)
  const { topo, ns } = await host(t)
  const holder = new NsProc(topo, ns, ['-e', 'require("node:dgram").createSocket({ type: "udp4", reuseAddr: false }).bind(5353, () => { console.log("{\\"bound\\":true}") })'])
  await holder.until(() => holder.json.length > 0, 20_000, 'bound line')
  const ls = await lsIn(topo, ns, ['--timeout', '1'])
  t.is(ls.code, 0)
  t.deepEqual(ls.nodes, [])
  t.regex(ls.stderr, /mDNS could not be used, nodes may be missing: .*EADDRINUSE/)
  holder.kill()
})
