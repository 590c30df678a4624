/**
 * The gateway config as a JSON Schema (draft-07): the node part is the node config schema
 * (src/hosting/config-schema.ts), the udp2020 part is built from the same constants the validator uses
 * (config.ts). `npm run schema` writes it to schema/gateway-udp2020.schema.json; a test keeps the two
 * equal and checks that the schema and `parseGatewayConfig` agree on valid and invalid configs.
 */
import { PORT_NAME_PATTERN } from '../../codec/constants.ts'
import { configSchema } from '../../hosting/config-schema.ts'
import { UDP2020 } from './config.ts'

type Schema = Record<string, unknown>

/** The rules of parseGatewayConfig that a JSON Schema cannot state. */
export const GATEWAY_SCHEMA_GAPS: readonly string[] = [
  'sender codes are unique and port names do not clash with each other or with node.ports',
  'a reply with registered false has at least one "to" address',
  'a "to" address has a port from 1 to 65535 (the schema checks the shape only)'
]

const address = (description: string): Schema => ({ type: 'string', maxLength: 300, pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\[\\]]+):[0-9]{1,5}$', description })
const range = (t: { default: number, min: number, max: number }, description: string): Schema => ({ type: 'integer', minimum: t.min, maximum: t.max, default: t.default, description })

export function gatewayConfigSchema (): Schema {
  const node = configSchema()
  const { $schema: _s, title: _t, ...nodeRoot } = node
  const peerList = (nodeRoot.properties as Record<string, Record<string, unknown>>).allow
  const model = (nodeRoot.properties as Record<string, Record<string, unknown>>).model
  const sender: Schema = {
    type: 'object',
    additionalProperties: false,
    required: ['code', 'port', 'channels'],
    description: 'a legacy sender: its datagrams become events of its own weighted out port (channel = neuron id, value = event type)',
    properties: {
      code: { type: 'string', pattern: '^[A-QT-Z]$', description: 'one ASCII capital letter, not R (ready) or S (the hub): "A" axon side, "D" dendrite side' },
      port: { type: 'string', minLength: 1, maxLength: 256, pattern: PORT_NAME_PATTERN.source, description: 'the out port\'s name' },
      channels: { type: 'integer', minimum: 1, maximum: 0x100_0000, description: 'the port\'s channels: neuron ids 0 to channels − 1' },
      subscribe: { ...peerList, description: 'peers allowed to subscribe to the port (default "*")' },
      model: { ...model, description: 'the port\'s model in the node description (default udp2020-sender with code and tick)' }
    }
  }
  const reply: Schema = {
    type: 'object',
    additionalProperties: false,
    required: ['from', 'port'],
    description: 'a spikewire subscription whose events go out as S datagrams',
    properties: {
      from: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^/.*/p2p/', description: 'the publisher\'s multiaddr, ending in /p2p/<PeerId>' },
      port: { type: 'string', minLength: 1, maxLength: 256, pattern: PORT_NAME_PATTERN.source, description: 'the publisher\'s out port' },
      channels: { type: 'array', minItems: 1, maxItems: 65536, uniqueItems: true, items: { type: 'integer', minimum: 0, maximum: 0xffff_fffe }, description: 'only these channels (strictly ascending)' },
      to: { type: 'array', maxItems: 64, items: address('a legacy address, "host:port"'), description: 'addresses that always get the datagrams' },
      registered: { type: 'boolean', default: true, description: 'also send to every address an R datagram registered' },
      spikeWeight: { type: 'integer', minimum: 0, maximum: 255, default: UDP2020.spikeWeight, description: 'weight byte of events without a value (spike ports)' }
    }
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'spikewire gateway udp2020 config',
    description: 'The JSON config of `spikewire gateway udp2020 --config FILE`, as parseGatewayConfig validates it; docs/gateway-udp2020.md explains every field. ' +
      `parseGatewayConfig also checks: ${GATEWAY_SCHEMA_GAPS.join('; ')}; and everything the node config schema leaves to parseConfig.`,
    type: 'object',
    additionalProperties: false,
    required: ['node', 'udp2020'],
    properties: {
      node: nodeRoot,
      udp2020: {
        type: 'object',
        additionalProperties: false,
        required: ['senders'],
        description: 'the UDP side',
        properties: {
          listen: { ...address('the UDP address to listen and reply on ("host:port", port 0: any free port)'), default: UDP2020.listen },
          senders: { type: 'array', minItems: 1, maxItems: 24, items: sender, description: 'one per sender code' },
          replies: { type: 'array', maxItems: 64, items: reply, description: 'subscriptions sent out as S datagrams' },
          reanchorUs: range(UDP2020.reanchorUs, 'anchor a sender\'s time again when the rebuilt time is off the arrival by more than this, µs'),
          maxAheadUs: range(UDP2020.maxAheadUs, 'refuse (delta-overflow) a delta that puts its event more than this after its arrival and exceeds the time since the sender\'s previous datagram by more than this, µs'),
          maxRegistered: range(UDP2020.maxRegistered, 'addresses kept from R datagrams'),
          maxSendQueue: range(UDP2020.maxSendQueue, 'datagrams waiting in the socket beyond which replies are dropped and counted')
        }
      }
    }
  }
}
