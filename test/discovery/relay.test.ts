/**
 * The second source of `spikewire ls`: the directory of relays that list their peers (spec §9.4). A relay,
 * nodes and `spikewire ls --no-mdns --relay …` (a real child process) on loopback in this namespace; with
 * --no-mdns nothing is multicast, so no test namespace is needed. A node that can be reached only through
 * the relay is listed and described through it.
 */
import test from 'ava'
import { startNode } from '../helpers/nodes.ts'
import { relayAddr, startRelay } from '../relay/helpers.ts'
import { run } from '../cli/helpers.ts'
import type { ListedNode } from '../../src/cli/ls.ts'

const parse = (stdout: string): ListedNode[] => stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as ListedNode)

test('ls --relay lists the peers holding a reservation on a listing relay, described through the relay', async t => {
  t.timeout(90_000)
  const relay = await startRelay(t, { list: true })
  const lab = await startNode(t, { name: 'lab-a', role: 'source', listen: [], relays: [relayAddr(relay)], ports: [{ name: 'spikes', direction: 'out', channels: 16 }] })
  await lab.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  const elsewhere = await startNode(t, { name: 'elsewhere' })

  const r = await run(t, ['ls', '--json', '--no-mdns', '--relay', relayAddr(relay), '--timeout', '3'], 40_000)
  t.is(r.code, 0, r.stderr)
  const nodes = parse(r.stdout)
  t.log(r.stdout.trim())
  t.deepEqual(nodes.map(n => n.peer), [lab.peerId], 'only the peer holding a reservation')
  const [n] = nodes
  t.deepEqual(n.sources, ['relay'])
  t.is(n.error, undefined, 'described through the relay (the node listens nowhere else)')
  t.like(n, { name: 'lab-a', role: 'source', ports: [{ name: 'spikes', direction: 'out', kind: 'spike', channels: 16 }] })
  t.true(n.addresses.length > 0 && n.addresses.every(a => a.includes(`/p2p-circuit/p2p/${lab.peerId}`)))
  t.false(nodes.some(x => x.peer === elsewhere.peerId))

  const filtered = await run(t, ['ls', '--json', '--no-mdns', '--relay', relayAddr(relay), '--timeout', '2', '--role', 'neuron'], 40_000)
  t.deepEqual(parse(filtered.stdout), [])
  t.regex(filtered.stderr, /no spikewire node matching the filters found within 2 s \(1 relay\)/)
})

test('ls --relay says when a relay does not list its peers, and still exits 0', async t => {
  t.timeout(60_000)
  const relay = await startRelay(t, { list: false })
  const lab = await startNode(t, { name: 'lab-b', listen: [], relays: [relayAddr(relay)] })
  await lab.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  const r = await run(t, ['ls', '--json', '--no-mdns', '--relay', relayAddr(relay), '--timeout', '2'], 40_000)
  t.is(r.code, 0, r.stderr)
  t.deepEqual(parse(r.stdout), [])
  t.regex(r.stderr, new RegExp(`relay ${relayAddr(relay).replace(/[/.]/g, '\\$&')}: .*does not list its peers`))
})
