/**
 * The relay config: the published schema (schema/relay.schema.json) is the generated one, and the schema and
 * parseRelayConfig agree on valid and invalid configs; the node config takes relays ending in /p2p/RELAY.
 */
import test from 'ava'
import { readFileSync } from 'node:fs'
import Ajv from 'ajv'
import { relayConfigSchema } from '../../src/relay/config-schema.ts'
import { RELAY, parseRelayConfig } from '../../src/relay/config.ts'
import { parseConfig } from '../../src/hosting/config.ts'

const schema = relayConfigSchema()
const validate = new Ajv({ allErrors: true }).compile(schema)
const PEER = '12D3KooWDGjkNcHsXtaNPELLmTEjVKSRT18BNzFY2GM8LEpvdGPV'

test('schema/relay.schema.json is the generated schema (npm run schema)', t => {
  t.deepEqual(JSON.parse(readFileSync(new URL('../../schema/relay.schema.json', import.meta.url), 'utf8')), schema)
})

const valid: unknown[] = [
  { reservations: '*' },
  { reservations: [PEER], connect: '*', unlimited: [], limits: { durationMs: 0, dataBytes: 0 }, list: true, maxListed: 1024 },
  { name: 'hub', listen: ['/ip4/0.0.0.0/tcp/4020', '/ip4/0.0.0.0/tcp/4021/ws'], identity: 'relay.key', reservations: '*', maxReservations: RELAY.maxReservations.max, reservationTtlMs: RELAY.reservationTtlMs.min }
]
const invalid: unknown[] = [
  {},
  { reservations: 'all' },
  { reservations: ['not-a-peer-id'] },
  { reservations: '*', limts: {} },
  { reservations: '*', limits: { durationMs: -1 } },
  { reservations: '*', limits: { seconds: 1 } },
  { reservations: '*', list: 'yes' },
  { reservations: '*', maxListed: 1025 },
  { reservations: '*', maxReservations: 0 },
  { reservations: '*', listen: [] },
  { reservations: '*', listen: ['/ip4/0.0.0.0/udp/4020/quic'] },
  { reservations: '*', reservationTtlMs: 1.5 }
]

test('the schema and parseRelayConfig agree', t => {
  for (const c of valid) {
    t.true(validate(c), JSON.stringify(c) + JSON.stringify(validate.errors))
    t.notThrows(() => parseRelayConfig(c), JSON.stringify(c))
  }
  for (const c of invalid) {
    t.false(validate(c), JSON.stringify(c))
    t.throws(() => parseRelayConfig(c), { message: /^relay/ }, JSON.stringify(c))
  }
})

test('a node config takes relays ending in /p2p/RELAY, not a relayed address', t => {
  const relay = `/ip4/203.0.113.7/tcp/4020/p2p/${PEER}`
  t.deepEqual(parseConfig({ name: 'n', relays: [relay] }).relays, [relay])
  t.throws(() => parseConfig({ name: 'n', relays: ['/ip4/203.0.113.7/tcp/4020'] }), { message: /config\.relays\[0\]/ })
  t.throws(() => parseConfig({ name: 'n', relays: [`${relay}/p2p-circuit/p2p/${PEER}`] }), { message: /config\.relays\[0\]/ })
  t.throws(() => parseConfig({ name: 'n', relays: relay }), { message: /config\.relays/ })
})
