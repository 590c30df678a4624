/**
 * Two hosts on one LAN bridge (test/helpers/netns.ts, `lan: 2`): a node on one host, with mDNS on and
 * listening on every address, is found by `spikewire ls` run on the other host, which describes it over
 * the bridge; mDNS travels between the hosts, the node's loopback address does not mislead ls. The
 * namespaces are removed afterwards. Skipped, with the reason in the title and on the console, where
 * namespaces are not permitted.
 */
import test from 'ava'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTopology, leftovers, netnsAvailable } from '../helpers/netns.ts'
import { lsIn, nodeIn } from './ns-procs.ts'

const avail = await netnsAvailable()
if (!avail.ok) console.log(`test/discovery/lan.test.ts: SKIPPED — network namespaces not permitted here: ${avail.reason}`)
const nsTest = avail.ok ? test : test.skip
const why = avail.ok ? '' : ` [skipped: ${avail.reason}]`

nsTest(`a node on one LAN host is found and described by spikewire ls on the other; namespaces removed${why}`, async t => {
  t.timeout(120_000)
  const topo = await createTopology({ labs: [], lan: 2, checkNat: false })
  const dir = await mkdtemp(join(tmpdir(), 'swdisc-'))
  let destroyed = false
  t.teardown(async () => {
    if (!destroyed) await topo.destroy()
    await rm(dir, { recursive: true, force: true })
  })
  const [h1, h2] = topo.lan
  const cfg = join(dir, 'rig.json')
  await writeFile(cfg, JSON.stringify({
    name: 'rig-lan',
    role: 'source',
    listen: ['/ip4/0.0.0.0/tcp/0'],
    discovery: { mdns: true },
    ports: [{ name: 'spikes', direction: 'out', channels: 32, source: { type: 'poisson', rateHz: 2, seed: 3 } }]
  }))
  const quiet = join(dir, 'quiet.json')
  await writeFile(quiet, JSON.stringify({ name: 'quiet', listen: ['/ip4/0.0.0.0/tcp/0'] }))
  const rig = await nodeIn(topo, h1.ns, cfg)
  const other = await nodeIn(topo, h1.ns, quiet)

  const ls = await lsIn(topo, h2.ns, ['--timeout', '3'])
  t.is(ls.code, 0, ls.stderr)
  t.log(ls.nodes.map(n => JSON.stringify(n)).join('\n'))
  t.is(ls.nodes.length, 1, 'the node without mDNS is not listed')
  const [n] = ls.nodes
  t.is(n.peer, rig.peer)
  t.like(n, { name: 'rig-lan', role: 'source', sources: ['mdns'] })
  t.is(n.error, undefined, 'described over the bridge')
  t.deepEqual(n.ports, [{ name: 'spikes', direction: 'out', kind: 'spike', channels: 32 }])
  t.true(n.addresses.some(a => a.startsWith(`/ip4/${h1.ip}/tcp/`) && a.endsWith(`/p2p/${rig.peer}`)), `announces its LAN address ${h1.ip}`)
  t.false(ls.nodes.some(x => x.peer === other.peer))

  // From the host of the node itself as well (multicast looped back on the LAN interface).
  const local = await lsIn(topo, h1.ns, ['--timeout', '3'])
  t.deepEqual(local.nodes.map(x => x.peer), [rig.peer])

  rig.proc.kill()
  other.proc.kill()
  await topo.destroy()
  destroyed = true
  t.deepEqual(await leftovers(topo.id), [], 'namespaces removed')
})
