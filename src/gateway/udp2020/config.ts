/**
 * The gateway's config file: the node it runs (a whole node config, validated by the hosting layer) and
 * the UDP side. `parseGatewayConfig` names the broken field like the node config does (`udp2020.…`).
 */
import { splitHostPort } from '../../base/host-port.ts'
import type { HostPort } from '../../base/host-port.ts'
import { MAX_CHANNELS, PORT_NAME_PATTERN } from '../../codec/constants.ts'
import type { ModelInfo } from '../../codec/index.ts'
import { parseConfig, readConfigJson, resolveConfigPaths } from '../../hosting/config.ts'
import { fail, int, known, obj } from '../../hosting/validate.ts'
import type { NodeConfig } from '../../hosting/config.ts'
import { ConfigError } from '../../node/errors.ts'
import type { PeerList } from '../../ports/acl.ts'
import { CODE, FIELD_24 } from './datagram.ts'

/** Defaults of the UDP side, read by the validator, the schema and the gateway alike. */
export const UDP2020 = {
  listen: '127.0.0.1:5020',
  /** Re-anchor a sender's time when its rebuilt time is off the arrival by more than this, µs. */
  reanchorUs: { default: 500_000, min: 1_000, max: 60_000_000 },
  /** Refuse a delta that puts its event this far after its arrival and exceeds the arrival interval by as much, µs. */
  maxAheadUs: { default: 100_000, min: 0, max: 60_000_000 },
  /** Addresses registered by `R` datagrams (the oldest is forgotten beyond this). */
  maxRegistered: { default: 16, min: 1, max: 1024 },
  /** Datagrams waiting in the socket's send queue beyond which replies are dropped (and counted). */
  maxSendQueue: { default: 4096, min: 16, max: 1_000_000 },
  /** Weight of a reply for an event of a spike port (no value). */
  spikeWeight: 255
} as const

/** A legacy sender: the datagrams with its code become events of its own out port. */
export interface SenderConfig {
  /** One ASCII capital letter: "A" (axon side), "D" (dendrite side) or another; never "R" or "S". */
  code: string
  /** The out port its events go to (a weighted port: channel = neuron id, value = event type). */
  port: string
  /** The port's channels: neuron ids from 0 to channels − 1 (at most 2^24). */
  channels: number
  /** Peers allowed to subscribe to the port (default "*"). */
  subscribe?: PeerList
  model?: ModelInfo
}

/** A spikewire subscription whose events go out as `S` datagrams. */
export interface ReplyConfig {
  /** The publisher's multiaddr, ending in /p2p/<PeerId>. */
  from: string
  port: string
  channels?: number[]
  /** Legacy addresses ("host:port") that always get the datagrams. */
  to?: string[]
  /** Also send to every address an `R` datagram registered (default true). */
  registered?: boolean
  /** Weight byte for events without a value (spike ports), 0..255 (default 255). */
  spikeWeight?: number
}

export interface Udp2020Config {
  /** The UDP address ("host:port") the gateway listens and replies on (default 127.0.0.1:5020). */
  listen?: string
  senders: SenderConfig[]
  replies?: ReplyConfig[]
  reanchorUs?: number
  maxAheadUs?: number
  maxRegistered?: number
  maxSendQueue?: number
}

export interface GatewayConfig {
  node: NodeConfig
  udp2020: Udp2020Config
}

export type UdpAddress = HostPort

/** "127.0.0.1:5020", "localhost:5020" or "[::1]:5020"; port 0 (any free port) only where `anyPort`. */
export function parseUdpAddress (v: unknown, path: string, anyPort = false): UdpAddress {
  if (typeof v !== 'string' || v.length > 300) fail(path, 'must be a "host:port" string')
  const hp = splitHostPort(v)
  if (hp === undefined || (hp.port === 0 && !anyPort)) fail(path, `must be "host:port" with a port from ${anyPort ? 0 : 1} to 65535, IPv6 hosts in brackets (got ${JSON.stringify(v)})`)
  return hp
}

function sender (v: unknown, path: string): SenderConfig {
  const o = obj(v, path)
  known(o, path, ['code', 'port', 'channels', 'subscribe', 'model'])
  if (typeof o.code !== 'string' || !/^[A-Z]$/.test(o.code)) fail(`${path}.code`, 'must be one ASCII capital letter, e.g. "A" or "D"')
  const c = o.code.charCodeAt(0)
  if (c === CODE.ready || c === CODE.hub) fail(`${path}.code`, 'must not be "R" (ready) or "S" (the hub: the gateway itself)')
  if (typeof o.port !== 'string' || !PORT_NAME_PATTERN.test(o.port)) fail(`${path}.port`, `must be a port name matching ${PORT_NAME_PATTERN}`)
  const s: SenderConfig = { code: o.code, port: o.port, channels: int(o.channels, `${path}.channels`, 1, FIELD_24) }
  if (o.subscribe !== undefined) s.subscribe = o.subscribe as PeerList
  if (o.model !== undefined) s.model = o.model as ModelInfo
  return s
}

function reply (v: unknown, path: string): ReplyConfig {
  const o = obj(v, path)
  known(o, path, ['from', 'port', 'channels', 'to', 'registered', 'spikeWeight'])
  if (typeof o.from !== 'string' || !/^\/.*\/p2p\//.test(o.from) || o.from.length > 1024) fail(`${path}.from`, 'must be a multiaddr ending in /p2p/<PeerId>')
  if (typeof o.port !== 'string' || !PORT_NAME_PATTERN.test(o.port)) fail(`${path}.port`, `must be a port name matching ${PORT_NAME_PATTERN}`)
  const r: ReplyConfig = { from: o.from, port: o.port }
  if (o.channels !== undefined) {
    if (!Array.isArray(o.channels) || o.channels.length === 0 || o.channels.length > 65536) fail(`${path}.channels`, 'must be a non-empty array of channel ids')
    let prev = -1
    r.channels = o.channels.map((c, i) => {
      const n = int(c, `${path}.channels[${i}]`, 0, MAX_CHANNELS - 1)
      if (n <= prev) fail(`${path}.channels`, 'must be strictly ascending')
      prev = n
      return n
    })
  }
  if (o.to !== undefined) {
    if (!Array.isArray(o.to) || o.to.length > 64) fail(`${path}.to`, 'must be an array of at most 64 "host:port" addresses')
    r.to = o.to.map((a, i) => { parseUdpAddress(a, `${path}.to[${i}]`); return a as string })
  }
  if (o.registered !== undefined) {
    if (typeof o.registered !== 'boolean') fail(`${path}.registered`, 'must be true or false')
    r.registered = o.registered
  }
  if (o.spikeWeight !== undefined) r.spikeWeight = int(o.spikeWeight, `${path}.spikeWeight`, 0, 255)
  if (r.registered === false && (r.to ?? []).length === 0) fail(path, 'sends nowhere: give "to" addresses or leave "registered" true')
  return r
}

/** Run the node validator on a part of this file, its errors naming the field by its path here. */
function within<T> (from: string, to: string, f: () => T): T {
  try {
    return f()
  } catch (err) {
    if (err instanceof ConfigError && err.message.startsWith(from)) throw new ConfigError(err.code, to + err.message.slice(from.length))
    throw err
  }
}

/** Validate a gateway config object (e.g. parsed JSON). */
export function parseGatewayConfig (v: unknown): GatewayConfig {
  const o = obj(v, 'gateway')
  known(o, 'gateway', ['node', 'udp2020'])
  if (o.node === undefined) fail('gateway.node', 'is required (the node the gateway runs: name, listen, identity, allow, …)')
  const node = within('config', 'node', () => parseConfig(o.node))
  const u = obj(o.udp2020, 'udp2020')
  known(u, 'udp2020', ['listen', 'senders', 'replies', 'reanchorUs', 'maxAheadUs', 'maxRegistered', 'maxSendQueue'])
  if (!Array.isArray(u.senders) || u.senders.length === 0 || u.senders.length > 24) fail('udp2020.senders', 'must be an array of 1 to 24 senders')
  const udp: Udp2020Config = { senders: u.senders.map((s, i) => sender(s, `udp2020.senders[${i}]`)) }
  const portNames = new Set((node.ports ?? []).map(p => p.name))
  const codes = new Set<string>()
  udp.senders.forEach((s, i) => {
    if (codes.has(s.code)) fail(`udp2020.senders[${i}].code`, `"${s.code}" is configured twice`)
    codes.add(s.code)
    if (portNames.has(s.port)) fail(`udp2020.senders[${i}].port`, `"${s.port}" is already a port of the node (node.ports or another sender)`)
    portNames.add(s.port)
  })
  if (u.listen !== undefined) {
    parseUdpAddress(u.listen, 'udp2020.listen', true)
    udp.listen = u.listen as string
  }
  if (u.replies !== undefined) {
    if (!Array.isArray(u.replies) || u.replies.length > 64) fail('udp2020.replies', 'must be an array of at most 64 subscriptions')
    udp.replies = u.replies.map((r, i) => reply(r, `udp2020.replies[${i}]`))
  }
  for (const k of ['reanchorUs', 'maxAheadUs', 'maxRegistered', 'maxSendQueue'] as const) {
    if (u[k] !== undefined) udp[k] = int(u[k], `udp2020.${k}`, UDP2020[k].min, UDP2020[k].max)
  }
  // The sender ports are node ports too: the node validator checks their subscribe list and model.
  within('config.ports', 'udp2020.senders', () => parseConfig({ name: node.name, ports: udp.senders.map(s => ({ name: s.port, direction: 'out', kind: 'weighted', channels: s.channels, subscribe: s.subscribe, model: s.model })) }))
  return { node, udp2020: udp }
}

/** Read and validate a gateway config file; paths in the node part resolve against the file's folder. */
export async function loadGatewayConfig (path: string): Promise<GatewayConfig> {
  const config = parseGatewayConfig(await readConfigJson(path))
  resolveConfigPaths(config.node, path)
  return config
}
