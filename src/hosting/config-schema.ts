/**
 * The node config as a JSON Schema (draft-07), built from the same constants the validator uses
 * (config.ts, wire/defaults.ts, codec/constants.ts). `npm run schema` writes it to
 * schema/node-config.schema.json, the published copy; a test keeps the two equal and checks that the schema
 * and `parseConfig` agree on every example config in the repository and on a set of invalid ones.
 *
 * The schema checks each field's type, range and pattern. What it cannot express, `parseConfig` checks in
 * addition (SCHEMA_GAPS below); a config valid under the schema can still be refused for those.
 */
import { MAX_CHANNELS, MAX_PORTS, PORT_NAME_PATTERN } from '../codec/constants.ts'
import { LIMITS, OUT_PORT } from '../wire/defaults.ts'
import { RELAY_ADDRESS } from './config.ts'
import { PEER_ID_PATTERN } from './validate.ts'
import type { Tunable } from '../wire/defaults.ts'
import { MDNS_DEFAULTS, MDNS_INTERVAL_MS, MDNS_SERVICE_TAG, MDNS_SERVICE_TAG_PATTERN } from '../node/discovery.ts'

type Schema = Record<string, unknown>

/** The rules of parseConfig that a JSON Schema cannot state. */
export const SCHEMA_GAPS: readonly string[] = [
  'port names are unique within ports',
  'a channel list is strictly ascending (the schema checks only that its ids are unique)',
  'links[].from, subscriptions[].to and the ports a host names (input, output, pre, post, weight) name a local port of the right direction',
  'a host\'s params and limits are at most 64 KiB of JSON; the model checks each parameter when the node starts'
]

const text = (description: string, extra: Schema = {}): Schema => ({ type: 'string', minLength: 1, maxLength: 256, ...extra, description })
const integer = (min: number, max: number, description: string): Schema => ({ type: 'integer', minimum: min, maximum: max, description })
const number = (min: number, max: number, description: string): Schema => ({ type: 'number', minimum: min, maximum: max, description })
const tunable = (t: Tunable, description: string): Schema => ({ type: 'integer', minimum: t.min, maximum: t.max, default: t.default, description })
const portName = (description: string): Schema => text(description, { pattern: PORT_NAME_PATTERN.source })
const peerAddress = (description: string): Schema => text(description, { pattern: '^/.*/p2p/' })
const closed = (properties: Record<string, Schema>, required: string[], description: string, extra: Schema = {}): Schema =>
  ({ type: 'object', description, properties, required, additionalProperties: false, ...extra })

const peerList = (description: string): Schema => ({
  description,
  oneOf: [
    { const: '*', description: 'every peer' },
    { type: 'array', items: text('a PeerId', { pattern: PEER_ID_PATTERN.source }), description: 'only these PeerIds' }
  ]
})

const channelList = (description: string): Schema => ({
  type: 'array',
  minItems: 1,
  maxItems: 65536,
  uniqueItems: true,
  items: integer(0, MAX_CHANNELS - 1, 'a channel id'),
  description: `${description} Strictly ascending.`
})

const model: Schema = closed({
  name: text('the model\'s name, e.g. "lif", "electrode"'),
  params: {
    type: 'array',
    maxItems: 256,
    description: 'parameters shown in the node description (spec §8.2)',
    items: {
      type: 'array',
      minItems: 3,
      maxItems: 3,
      items: [
        text('the parameter\'s name'),
        { type: 'number', description: 'its value' },
        { type: 'string', description: 'its unit: an SI symbol such as "ms", "mV", "Hz", or "" when dimensionless' }
      ],
      additionalItems: false,
      description: '[name, value, unit]'
    }
  }
}, ['name'], 'a model shown in the node description (spec §8.2): name and parameters')

const source: Schema = {
  description: 'a built-in driver of an out port',
  oneOf: [
    closed({
      type: { const: 'poisson' },
      rateHz: number(0, 1e5, 'spikes per second on each channel (the port\'s total rate is rateHz × channels)'),
      seed: integer(0, 2 ** 32 - 1, 'seed of the random generator (default 0): a seed fixes the whole train')
    }, ['type', 'rateHz'], 'independent Poisson spike trains, one per channel'),
    closed({
      type: { const: 'pacemaker' },
      rateHz: number(1e-6, 1e5, 'spikes per second on each channel'),
      phase: number(0, 0.999999, 'offset of the first spike, as a fraction of the period (default 0)')
    }, ['type', 'rateHz'], 'regular spikes on every channel'),
    closed({
      type: { const: 'replay' },
      file: text('the spike-train file, relative to the config file (src/models/REPLAY-FORMAT.md)'),
      format: { enum: ['csv', 'ndjson'], description: 'the file format (default: from the extension .csv, .ndjson or .jsonl, else from the first line)' },
      timeBase: { enum: ['relative', 'absolute'], description: 'times in the file are relative to the start (default) or absolute µs since the Unix epoch' },
      start: { enum: ['first-subscriber', 'now'], description: 'when the train starts: when the port gets its first stream (default) or when the node starts' }
    }, ['type', 'file'], 'a recorded spike train, played once in real time')
  ]
}

const port: Schema = closed({
  name: portName('the port\'s name: 1 to 64 characters of a-z, 0-9, "_", ".", "-", starting with a letter or digit'),
  direction: { enum: ['in', 'out'], description: '"out": peers subscribe to it; "in": peers push into it' },
  kind: { enum: ['spike', 'weighted'], description: 'events without a value (default) or with a float32 value' },
  channels: integer(1, MAX_CHANNELS, 'the channel count'),
  subscribe: peerList('out ports: who may subscribe (default "*": every peer allowed to connect)'),
  push: peerList('in ports: who may push (default: nobody)'),
  source: source,
  model
}, ['name', 'direction', 'channels'], 'a port of the node', {
  if: { properties: { direction: { const: 'in' } } },
  then: { properties: { subscribe: false, source: false } },
  else: { properties: { push: false } }
})

const link: Schema = closed({
  from: text('the local out port to push'),
  to: peerAddress('the remote node\'s multiaddr, with its /p2p/ PeerId'),
  port: portName('the remote in port'),
  channels: channelList('only these channels of the local port are pushed.'),
  delay: integer(0, 60_000_000, 'requested delay at the receiver, µs (spec §9.2.8); a spikewire reference node refuses it (unsupported): it does not schedule pushed events, its hosts apply delayUs')
}, ['from', 'to', 'port'], 'push a local out port into a remote in port (reconnects)')

const subscription: Schema = closed({
  from: peerAddress('the remote node\'s multiaddr, with its /p2p/ PeerId'),
  port: portName('the remote out port'),
  to: text('the local in port its events go to'),
  channels: channelList('only these channels.')
}, ['from', 'port', 'to'], 'subscribe to a remote out port and deliver into a local in port (reconnects)')

const hostParams = { type: 'object', description: 'the model\'s parameters, checked by the model when the node starts' }
const delayUs = integer(0, 60_000_000, 'input delay applied before the model, µs (absorbs network latency)')
const host: Schema = {
  description: 'a model the node runs in real time',
  oneOf: [
    closed({
      model: { enum: ['lif', 'adex'] },
      input: text('local in port of the neuron\'s input'),
      output: text('local out port of its spikes'),
      params: hostParams,
      delayUs
    }, ['model', 'input', 'output'], 'a neuron population (LIF or AdEx)'),
    closed({
      model: { const: 'culture' },
      input: text('local in port of stimulation pulses'),
      output: text('local out port of its spikes'),
      params: hostParams,
      limits: { type: 'object', description: 'stimulation safety limits' },
      delayUs
    }, ['model', 'input', 'output'], 'the emulated culture behind its stimulation guard'),
    closed({
      model: { const: 'synapse' },
      pre: text('local in port of presynaptic spikes'),
      post: text('local in port of postsynaptic spikes'),
      output: text('local out port of the weighted output events'),
      weight: text('local weighted out port of the weight trace (one event per weight change)'),
      params: hostParams,
      stallAfterUs: integer(1000, 600_000_000, 'an input silent this long stops holding the other back in the merge, µs (default 2000000)')
    }, ['model', 'pre', 'post', 'output'], 'memristive synapses with a plasticity rule')
  ]
}

const limitDescriptions: Record<keyof typeof LIMITS, string> = {
  maxFrameBytes: 'largest frame accepted, bytes (spec §5: at least 1 MiB)',
  maxEvents: 'per-batch receive limit announced in accept (spec §8.6: at least 4096)',
  maxStreamsPerPort: 'most concurrent streams on one port (subscribers of an out port, pushers into an in port)',
  queueEvents: 'most events one stream\'s sender holds while the stream is congested; beyond it events are dropped and reported',
  slowConsumerMs: 'a stream that has not drained for this long fails with slow-consumer, ms',
  openTimeoutMs: 'an acceptor waits this long for open, ms (spec §9.2.2)',
  maxConnections: 'most open connections',
  streamWindowBytes: 'largest yamux receive window per stream, bytes',
  queueBytes: 'most bytes one stream\'s sender holds while the stream is congested (with queueEvents: whichever is reached first); beyond it events are dropped and reported',
  inboxBytes: 'most bytes of received batches an in port holds for its application; with a reader attached a full inbox pauses its streams, with none the batches that arrive while it is full are dropped and counted',
  clockIdleMs: 'a clock stream with no request and no answer for this long is closed with timeout, ms',
  clockRequestsPerSecond: 'clock requests answered per second per peer; beyond it answers are delayed',
  clockBurst: 'clock requests a peer may send at once before the rate applies',
  maxStreamsPerPeer: 'most events streams one peer holds, all ports and connections together; one more gets reject{too-many-streams}',
  maxDescribeStreamsPerPeer: 'most describe streams one peer holds at once, all connections together; one more gets close{too-many-streams}',
  maxClockStreamsPerPeer: 'most clock streams one peer holds at once, all connections together; one more gets close{too-many-streams}',
  maxConnectionsPerPeer: 'most connections from one peer',
  maxConnectionsPerAddress: 'most connections from one address (an IPv4 address or an IPv6 /64)',
  maxPendingPerAddress: 'most handshakes in progress from one address',
  handshakeTimeoutMs: 'an inbound connection must finish its handshake within this time, ms',
  idleConnectionMs: 'an inbound connection without a stream for this long is closed, ms'
}

const outPortDescriptions: Record<keyof typeof OUT_PORT, string> = {
  watermarkIntervalMs: 'watermark period of an idle out port, ms',
  maxBatchEvents: 'largest batch an out port builds',
  latenessUs: 'how far behind the clock an event may still be emitted, µs',
  flushIntervalUs: 'under load, an out port flushes at most once per this interval so batches carry more events (an event at a low rate still leaves at once; 0: every event-loop turn), µs'
}

const discovery: Schema = closed({
  mdns: {
    description: 'mDNS on the LAN: announce this node and remember the spikewire nodes heard (never dialled); true for the defaults',
    oneOf: [
      { type: 'boolean' },
      closed({
        serviceTag: text(`the mDNS service tag (default "${MDNS_SERVICE_TAG}"); nodes with another tag do not see each other`, { pattern: MDNS_SERVICE_TAG_PATTERN.source }),
        intervalMs: { ...integer(MDNS_INTERVAL_MS.min, MDNS_INTERVAL_MS.max, 'how often the node asks the LAN, ms'), default: MDNS_DEFAULTS.intervalMs }
      }, [], 'mDNS with options')
    ]
  }
}, [], 'how the node is found on the LAN (default: not at all)')

/** Describe a tunable that has no description here (a new limit): its range still comes from defaults.ts. */
function described<K extends string> (table: Record<string, Tunable>, descriptions: Partial<Record<K, string>>): Record<string, Schema> {
  return Object.fromEntries(Object.entries(table).map(([k, t]) => [k, tunable(t, descriptions[k as K] ?? k)]))
}

/** The node config schema (a plain JSON value). */
export function configSchema (): Schema {
  const root = closed({
    name: text('a label for people, sent in the node description; not an identity'),
    role: text('what the node is, sent in the node description: "neuron", "synapse", "culture", "source", "sink", "bridge", "other" or any text (spec §10.3)'),
    listen: { type: 'array', maxItems: 16, items: text('a multiaddr', { pattern: '^/' }), description: 'addresses to listen on (default ["/ip4/127.0.0.1/tcp/0"])' },
    identity: text('the Ed25519 key file, relative to the config file; created when missing (default: a new identity at every start)'),
    allow: peerList('who may connect at all (default "*")'),
    relays: { type: 'array', maxItems: 16, items: text('a relay\'s multiaddr, ending in /p2p/<relay PeerId>', { pattern: RELAY_ADDRESS.source }), description: 'circuit relays (docs/relay.md): the node reserves a slot on each, advertises its /p2p-circuit address through it and dials peers through them when a direct dial fails' },
    ports: { type: 'array', maxItems: MAX_PORTS, items: port, description: 'the node\'s ports; names are unique' },
    links: { type: 'array', items: link, description: 'push links to remote in ports' },
    subscriptions: { type: 'array', items: subscription, description: 'subscriptions to remote out ports' },
    hosts: { type: 'array', maxItems: 64, items: host, description: 'models run in real time' },
    model,
    limits: closed(described(LIMITS, limitDescriptions), [], 'what the node accepts from its peers'),
    ...described(OUT_PORT, outPortDescriptions),
    discovery
  }, ['name'], 'The JSON config of a spikewire node (`spikewire node --config FILE`, `startNode(config)`), as `parseConfig` ' +
    `validates it; docs/config.md explains every field. parseConfig also checks what a schema cannot express: ${SCHEMA_GAPS.join('; ')}.`)
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: 'spikewire node config', ...root }
}
