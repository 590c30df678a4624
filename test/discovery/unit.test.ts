/**
 * The parts of discovery that need no network: the bounded table of discovered peers (bound, eviction of
 * the least recently heard, expiry, address bound), the `discovery` config field (parseConfig and the JSON
 * Schema agree), and ls's filters and table.
 */
import test from 'ava'
import Ajv from 'ajv'
import { DiscoveredTable, MDNS_SERVICE_TAG, mdnsOptions } from '../../src/node/discovery.ts'
import { parseConfig } from '../../src/hosting/config.ts'
import { configSchema } from '../../src/hosting/config-schema.ts'
import { ConfigError } from '../../src/node/errors.ts'
import { lsText, matches } from '../../src/cli/ls.ts'
import type { ListedNode } from '../../src/cli/ls.ts'

test('the table holds at most maxPeers, dropping the least recently heard, and forgets peers after ttlMs', t => {
  let now = 0
  const table = new DiscoveredTable({ maxPeers: 3, maxAddresses: 2, ttlMs: 1000, now: () => now })
  t.truthy(table.heard('a', ['/x/1', '/x/2', '/x/3', '/x/1']))
  t.deepEqual(table.list()[0].addresses, ['/x/1', '/x/2'], 'addresses deduplicated and bounded')
  now = 10
  t.truthy(table.heard('b', []))
  now = 20
  t.truthy(table.heard('c', []))
  now = 30
  t.is(table.heard('a', ['/y']), undefined, 'a peer heard again is not new')
  now = 40
  t.truthy(table.heard('d', []), 'a new peer in a full table')
  t.deepEqual(table.list().map(p => p.peer), ['c', 'a', 'd'], 'b, the least recently heard, was dropped')
  t.is(table.stats().evicted, 1)
  for (let i = 0; i < 10_000; i++) table.heard(`fake${i}`, ['/z'])
  t.is(table.list().length, 3)
  t.is(table.stats().peers, 3)
  t.is(table.stats().announcements, 10_005)
  now = 5000
  t.deepEqual(table.list(), [], 'forgotten after ttlMs')
  t.is(table.stats().expired, 3)
  t.truthy(table.heard('a', []), 'a forgotten peer is new again')
})

const ajv = new Ajv({ allErrors: true })
const validate = ajv.compile(configSchema())

test('the discovery field: parseConfig and the schema accept the same values', t => {
  const good = [{ mdns: true }, { mdns: false }, {}, { mdns: {} }, { mdns: { serviceTag: '_lab-a._udp.local', intervalMs: 1000 } }, { mdns: { serviceTag: '_x._tcp.local', intervalMs: 3_600_000 } }]
  for (const discovery of good) {
    const c = { name: 'n', discovery }
    t.true(validate(c), `schema accepts ${JSON.stringify(discovery)}: ${JSON.stringify(validate.errors)}`)
    t.deepEqual(parseConfig(c).discovery, discovery)
  }
  const bad = [true, { mdns: 'yes' }, { mdns: 1 }, { mdns: { serviceTag: 'spikewire' } }, { mdns: { serviceTag: '_a._udp.local.evil' } },
    { mdns: { serviceTag: `_${'a'.repeat(40)}._udp.local` } }, { mdns: { intervalMs: 999 } }, { mdns: { intervalMs: 1.5 } }, { mdns: { port: 5353 } }, { dht: true }]
  for (const discovery of bad) {
    const c = { name: 'n', discovery }
    t.false(validate(c), `schema refuses ${JSON.stringify(discovery)}`)
    const e = t.throws(() => parseConfig(c), { instanceOf: ConfigError }, `parseConfig refuses ${JSON.stringify(discovery)}`)
    t.regex(e?.message ?? '', /config\.discovery/)
  }
  t.is(mdnsOptions(undefined), undefined)
  t.is(mdnsOptions({ mdns: false }), undefined)
  t.deepEqual(mdnsOptions({ mdns: true }), {})
  t.is(MDNS_SERVICE_TAG, '_spikewire._udp.local')
})

test('ls filters by name, role and port; a node without a description matches no filter; the table', t => {
  const rig: ListedNode = { peer: 'P1', sources: ['mdns'], addresses: ['/ip4/10.0.0.1/tcp/1/p2p/P1'], name: 'rig', role: 'source', ports: [{ name: 'spikes', direction: 'out', kind: 'spike', channels: 64 }] }
  const broken: ListedNode = { peer: 'P2', sources: ['mdns'], addresses: ['/ip4/10.0.0.2/tcp/1/p2p/P2'], error: { code: 'timeout', message: 'no description within 5 s' } }
  t.true(matches(rig, {}))
  t.true(matches(broken, {}))
  t.true(matches(rig, { name: 'rig', role: 'source', port: 'spikes' }))
  t.false(matches(rig, { port: 'stim' }))
  t.false(matches(rig, { role: 'neuron' }))
  t.false(matches(broken, { role: 'source' }))
  const lines = lsText([rig, broken])
  t.regex(lines[0], /^NAME\s+ROLE\s+PEER\s+PORTS\s+ADDRESSES$/)
  t.regex(lines[1], /^rig\s+source\s+P1\s+spikes\(out spike 64\)\s+\/ip4\/10\.0\.0\.1/)
  t.regex(lines[2], /^\?\s+\?\s+P2\s+error timeout: no description within 5 s\s+\/ip4\/10\.0\.0\.2/)
})
