/**
 * The relay config as a JSON Schema (draft-07), built from the constants the validator uses (config.ts).
 * `npm run schema` writes it to schema/relay.schema.json; test/relay/config.test.ts keeps the two equal and
 * checks that the schema and `parseRelayConfig` agree on valid and invalid configs.
 */
import { PEER_ID_PATTERN } from '../hosting/validate.ts'
import { MAX_PEER_LIST, RELAY } from './config.ts'

type Schema = Record<string, unknown>

const range = (t: { default: number, min: number, max: number }, description: string): Schema => ({ type: 'integer', minimum: t.min, maximum: t.max, default: t.default, description })
const text = (description: string, extra: Schema = {}): Schema => ({ type: 'string', minLength: 1, maxLength: 256, ...extra, description })
const peerList = (description: string): Schema => ({
  description,
  oneOf: [
    { const: '*', description: 'every peer' },
    { type: 'array', maxItems: MAX_PEER_LIST, items: text('a PeerId', { pattern: PEER_ID_PATTERN.source }), description: 'only these PeerIds' }
  ]
})

export function relayConfigSchema (): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'spikewire relay config',
    description: 'The JSON config of a spikewire circuit relay (`spikewire relay --config FILE`, `createRelay(config)`), as `parseRelayConfig` validates it; docs/relay.md explains every field.',
    type: 'object',
    additionalProperties: false,
    required: ['reservations'],
    properties: {
      name: text('a label for logs and the start line (default "relay")'),
      listen: {
        type: 'array',
        minItems: 1,
        maxItems: 16,
        items: text('a TCP multiaddr, optionally ending in /ws for WebSockets', { pattern: '^/(ip4|ip6|dns|dns4|dns6)/[^/]+/tcp/\\d+(/ws)?$' }),
        description: `addresses to listen on (default ${JSON.stringify(RELAY.listen)})`
      },
      identity: text('the Ed25519 key file (spikewire keygen), relative to the config file; created when missing (default: a new PeerId at every start, which nodes\' "relays" then no longer match)'),
      reservations: peerList('who may hold a reservation, and so be reached through the relay: "*" opens the relay to every peer'),
      connect: peerList('who may open a relayed connection to a peer holding a reservation (default "*")'),
      unlimited: peerList('peers whose relayed connections carry no duration or data limit (default: the reservations list); relayed connections to other peers get "limits"'),
      limits: {
        type: 'object',
        additionalProperties: false,
        description: 'limits of relayed connections to peers not in "unlimited"',
        properties: {
          durationMs: range(RELAY.durationMs, 'longest relayed connection, ms (0: no limit; default libp2p\'s 2 minutes)'),
          dataBytes: range(RELAY.dataBytes, 'most bytes relayed per connection, both ways together (0: no limit; default libp2p\'s 128 KiB)')
        }
      },
      maxReservations: range(RELAY.maxReservations, 'reservations held at once; one more is refused'),
      reservationTtlMs: range(RELAY.reservationTtlMs, 'a reservation lasts this long unless its holder refreshes it (nodes do, before it ends), ms'),
      maxRelayedConnections: range(RELAY.maxRelayedConnections, 'relayed connections open at once'),
      maxConnections: range(RELAY.maxConnections, 'connections of the relay in total'),
      list: { type: 'boolean', default: false, description: 'answer the directory protocol (spec §9.4): the peers holding a reservation and their relayed addresses, to peers that hold a reservation or may connect' },
      maxListed: range(RELAY.maxListed, 'most peers one directory answer lists')
    }
  }
}
