/**
 * Node configuration: a JSON file for the CLI, an object for the library. `parseConfig` validates
 * everything and names the broken field; nothing is trusted until it passes.
 */
import { readFile, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { MAX_CHANNELS, MAX_PORTS, PORT_NAME_PATTERN } from '../codec/index.ts'
import type { DirectionName, ModelInfo, Param } from '../codec/index.ts'
import { ConfigError } from '../node/errors.ts'
import type { LimitsConfig, NodeInit, PlainPortConfig } from '../node/init.ts'
import { MDNS_INTERVAL_MS, MDNS_SERVICE_TAG_PATTERN } from '../node/discovery.ts'
import type { DiscoveryConfig, MdnsOptions } from '../node/discovery.ts'
import { LIMITS, OUT_PORT } from '../wire/defaults.ts'
import { RELAY_ADDRESS } from '../wire/relay-dial.ts'
import type { Tunable } from '../wire/defaults.ts'
import { fail, int, known, num, obj, opt, peerList, str, tunable } from './validate.ts'

/** A built-in driver for an `out` port (demos and tests). */
export type SourceConfig =
  | { type: 'poisson', rateHz: number, seed?: number }
  | { type: 'pacemaker', rateHz: number, phase?: number }
  /**
   * A recorded spike train (src/models/REPLAY-FORMAT.md), paced in real time; the path is relative to the
   * config file. `start`: when the train starts, "first-subscriber" (default: when the port gets its first
   * stream, a subscriber or a push link) or "now" (when the node starts).
   */
  | { type: 'replay', file: string, format?: 'csv' | 'ndjson', timeBase?: 'relative' | 'absolute', start?: 'first-subscriber' | 'now' }

/** A port of a config: a plain port (src/node/init.ts), optionally driven by a built-in source. */
export interface PortConfig extends PlainPortConfig {
  source?: SourceConfig
}

/** Push a local out port into a remote in port. */
export interface LinkConfig {
  from: string
  to: string
  port: string
  channels?: number[]
  delay?: number
}

/** Subscribe to a remote out port and deliver into a local in port. */
export interface SubscriptionConfig {
  from: string
  port: string
  to: string
  channels?: number[]
}

/**
 * A model the node runs in real time (see hosting.ts). `params` go to the model's factory as they are
 * (the model validates them and names any bad one).
 */
export type HostConfig =
  | { model: 'lif' | 'adex', input: string, output: string, params?: Record<string, unknown>, delayUs?: number }
  | { model: 'culture', input: string, output: string, params?: Record<string, unknown>, limits?: Record<string, unknown>, delayUs?: number }
  | { model: 'synapse', pre: string, post: string, output: string, weight?: string, params?: Record<string, unknown>, stallAfterUs?: number }

/** A whole node: the node itself (src/node/init.ts) and what the hosting layer starts in it. */
export interface NodeConfig extends NodeInit {
  ports?: PortConfig[]
  links?: LinkConfig[]
  subscriptions?: SubscriptionConfig[]
  hosts?: HostConfig[]
}

export type { LimitsConfig }

const MAX_CONFIG_BYTES = 1024 * 1024

/** A relay's multiaddr: ends in /p2p/<relay PeerId>, and is not itself relayed (defined in wire/relay-dial.ts). */
export { RELAY_ADDRESS }

function channelList (v: unknown, path: string): number[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > 65536) fail(path, 'must be a non-empty array of channel ids')
  let prev = -1
  return v.map((c, i) => {
    const n = int(c, `${path}[${i}]`, 0, MAX_CHANNELS - 1)
    if (n <= prev) fail(path, 'must be strictly ascending')
    prev = n
    return n
  })
}

function model (v: unknown, path: string): ModelInfo {
  const o = obj(v, path)
  known(o, path, ['name', 'params'])
  const m: ModelInfo = { name: str(o.name, `${path}.name`) }
  if (o.params !== undefined) {
    if (!Array.isArray(o.params) || o.params.length > 256) fail(`${path}.params`, 'must be an array of [name, value, unit]')
    m.params = o.params.map((p, i): Param => {
      if (!Array.isArray(p) || p.length !== 3) fail(`${path}.params[${i}]`, 'must be [name, value, unit]')
      if (typeof p[2] !== 'string') fail(`${path}.params[${i}][2]`, 'must be a unit string ("" when dimensionless)')
      return [str(p[0], `${path}.params[${i}][0]`), num(p[1], `${path}.params[${i}][1]`, -Number.MAX_VALUE, Number.MAX_VALUE), p[2]]
    })
  }
  return m
}

function source (v: unknown, path: string): SourceConfig {
  const o = obj(v, path)
  if (o.type === 'poisson') {
    known(o, path, ['type', 'rateHz', 'seed'])
    const s: SourceConfig = { type: 'poisson', rateHz: num(o.rateHz, `${path}.rateHz`, 0, 1e5) }
    if (o.seed !== undefined) s.seed = int(o.seed, `${path}.seed`, 0, 2 ** 32 - 1)
    return s
  }
  if (o.type === 'pacemaker') {
    known(o, path, ['type', 'rateHz', 'phase'])
    const s: SourceConfig = { type: 'pacemaker', rateHz: num(o.rateHz, `${path}.rateHz`, 1e-6, 1e5) }
    if (o.phase !== undefined) s.phase = num(o.phase, `${path}.phase`, 0, 0.999999)
    return s
  }
  if (o.type === 'replay') {
    known(o, path, ['type', 'file', 'format', 'timeBase', 'start'])
    const s: SourceConfig = { type: 'replay', file: str(o.file, `${path}.file`) }
    if (o.format !== undefined) {
      if (o.format !== 'csv' && o.format !== 'ndjson') fail(`${path}.format`, 'must be "csv" or "ndjson"')
      s.format = o.format
    }
    if (o.timeBase !== undefined) {
      if (o.timeBase !== 'relative' && o.timeBase !== 'absolute') fail(`${path}.timeBase`, 'must be "relative" or "absolute"')
      s.timeBase = o.timeBase
    }
    if (o.start !== undefined) {
      if (o.start !== 'first-subscriber' && o.start !== 'now') fail(`${path}.start`, 'must be "first-subscriber" or "now"')
      s.start = o.start
    }
    return s
  }
  return fail(`${path}.type`, 'must be "poisson", "pacemaker" or "replay"')
}

function params (v: unknown, path: string): Record<string, unknown> {
  const o = obj(v, path)
  if (JSON.stringify(o).length > 65536) fail(path, 'is too large')
  return o
}

function host (v: unknown, path: string, portNamed: (name: string, dir: DirectionName, path: string) => void): HostConfig {
  const o = obj(v, path)
  const delay = (): number | undefined => o.delayUs === undefined ? undefined : int(o.delayUs, `${path}.delayUs`, 0, 60_000_000)
  switch (o.model) {
    case 'lif':
    case 'adex':
    case 'culture': {
      known(o, path, ['model', 'input', 'output', 'params', 'limits', 'delayUs'])
      if (o.model !== 'culture' && o.limits !== undefined) fail(`${path}.limits`, 'applies to the culture model only')
      const input = str(o.input, `${path}.input`)
      const output = str(o.output, `${path}.output`)
      portNamed(input, 'in', `${path}.input`)
      portNamed(output, 'out', `${path}.output`)
      const h = { model: o.model, input, output } as HostConfig & { params?: Record<string, unknown>, limits?: Record<string, unknown>, delayUs?: number }
      if (o.params !== undefined) h.params = params(o.params, `${path}.params`)
      if (o.limits !== undefined) h.limits = params(o.limits, `${path}.limits`)
      const d = delay()
      if (d !== undefined) h.delayUs = d
      return h
    }
    case 'synapse': {
      known(o, path, ['model', 'pre', 'post', 'output', 'weight', 'params', 'stallAfterUs'])
      const h: HostConfig = { model: 'synapse', pre: str(o.pre, `${path}.pre`), post: str(o.post, `${path}.post`), output: str(o.output, `${path}.output`) }
      portNamed(h.pre, 'in', `${path}.pre`)
      portNamed(h.post, 'in', `${path}.post`)
      portNamed(h.output, 'out', `${path}.output`)
      if (o.weight !== undefined) {
        h.weight = str(o.weight, `${path}.weight`)
        portNamed(h.weight, 'out', `${path}.weight`)
      }
      if (o.params !== undefined) h.params = params(o.params, `${path}.params`)
      if (o.stallAfterUs !== undefined) h.stallAfterUs = int(o.stallAfterUs, `${path}.stallAfterUs`, 1000, 600_000_000)
      return h
    }
    default:
      return fail(`${path}.model`, 'must be "lif", "adex", "culture" or "synapse"')
  }
}

function port (v: unknown, path: string): PortConfig {
  const o = obj(v, path)
  known(o, path, ['name', 'direction', 'kind', 'channels', 'subscribe', 'push', 'source', 'model'])
  const direction = o.direction
  if (direction !== 'in' && direction !== 'out') fail(`${path}.direction`, 'must be "in" or "out"')
  const p: PortConfig = { name: str(o.name, `${path}.name`, PORT_NAME_PATTERN), direction, channels: int(o.channels, `${path}.channels`, 1, MAX_CHANNELS) }
  if (o.kind !== undefined) {
    if (o.kind !== 'spike' && o.kind !== 'weighted') fail(`${path}.kind`, 'must be "spike" or "weighted"')
    p.kind = o.kind
  }
  if (o.subscribe !== undefined) {
    if (direction !== 'out') fail(`${path}.subscribe`, 'applies to out ports only')
    p.subscribe = peerList(o.subscribe, `${path}.subscribe`)
  }
  if (o.push !== undefined) {
    if (direction !== 'in') fail(`${path}.push`, 'applies to in ports only')
    p.push = peerList(o.push, `${path}.push`)
  }
  if (o.source !== undefined) {
    if (direction !== 'out') fail(`${path}.source`, 'applies to out ports only')
    p.source = source(o.source, `${path}.source`)
  }
  const m = opt(o, 'model', x => model(x, `${path}.model`))
  if (m !== undefined) p.model = m
  return p
}

/** Validate a config object (e.g. parsed JSON). */
export function parseConfig (v: unknown): NodeConfig {
  const o = obj(v, 'config')
  known(o, 'config', ['name', 'role', 'listen', 'identity', 'allow', 'ports', 'links', 'subscriptions', 'hosts', 'model', 'limits', 'watermarkIntervalMs', 'maxBatchEvents', 'latenessUs', 'flushIntervalUs', 'discovery', 'relays'])
  const c: NodeConfig = { name: str(o.name, 'config.name') }
  const set = <K extends keyof NodeConfig>(k: K, val: NodeConfig[K] | undefined): void => { if (val !== undefined) c[k] = val }
  set('role', opt(o, 'role', x => str(x, 'config.role')))
  set('listen', opt(o, 'listen', x => {
    if (!Array.isArray(x) || x.length > 16) fail('config.listen', 'must be an array of multiaddr strings')
    return x.map((a, i) => str(a, `config.listen[${i}]`, /^\//))
  }))
  set('identity', opt(o, 'identity', x => str(x, 'config.identity')))
  set('relays', opt(o, 'relays', x => {
    if (!Array.isArray(x) || x.length > 16) fail('config.relays', 'must be an array of at most 16 relay multiaddrs')
    return x.map((a, i) => str(a, `config.relays[${i}]`, RELAY_ADDRESS))
  }))
  set('allow', opt(o, 'allow', x => peerList(x, 'config.allow')))
  set('ports', opt(o, 'ports', x => {
    if (!Array.isArray(x) || x.length > MAX_PORTS) fail('config.ports', `must be an array of at most ${MAX_PORTS} ports`)
    const ports = x.map((p, i) => port(p, `config.ports[${i}]`))
    const names = new Set<string>()
    for (const p of ports) {
      if (names.has(p.name)) fail('config.ports', `name "${p.name}" is used twice`)
      names.add(p.name)
    }
    return ports
  }))
  const portNamed = (name: string, dir: DirectionName, path: string): void => {
    const p = c.ports?.find(q => q.name === name)
    if (p === undefined || p.direction !== dir) fail(path, `must name a local ${dir} port`)
  }
  set('links', opt(o, 'links', x => {
    if (!Array.isArray(x)) fail('config.links', 'must be an array')
    return x.map((l, i): LinkConfig => {
      const path = `config.links[${i}]`
      const lo = obj(l, path)
      known(lo, path, ['from', 'to', 'port', 'channels', 'delay'])
      const link: LinkConfig = { from: str(lo.from, `${path}.from`), to: str(lo.to, `${path}.to`, /^\/.*\/p2p\//), port: str(lo.port, `${path}.port`, PORT_NAME_PATTERN) }
      portNamed(link.from, 'out', `${path}.from`)
      if (lo.channels !== undefined) link.channels = channelList(lo.channels, `${path}.channels`)
      if (lo.delay !== undefined) link.delay = int(lo.delay, `${path}.delay`, 0, 60_000_000)
      return link
    })
  }))
  set('subscriptions', opt(o, 'subscriptions', x => {
    if (!Array.isArray(x)) fail('config.subscriptions', 'must be an array')
    return x.map((s, i): SubscriptionConfig => {
      const path = `config.subscriptions[${i}]`
      const so = obj(s, path)
      known(so, path, ['from', 'port', 'to', 'channels'])
      const sub: SubscriptionConfig = { from: str(so.from, `${path}.from`, /^\/.*\/p2p\//), port: str(so.port, `${path}.port`, PORT_NAME_PATTERN), to: str(so.to, `${path}.to`) }
      portNamed(sub.to, 'in', `${path}.to`)
      if (so.channels !== undefined) sub.channels = channelList(so.channels, `${path}.channels`)
      return sub
    })
  }))
  set('hosts', opt(o, 'hosts', x => {
    if (!Array.isArray(x) || x.length > 64) fail('config.hosts', 'must be an array of at most 64 hosted models')
    return x.map((h, i) => host(h, `config.hosts[${i}]`, portNamed))
  }))
  set('model', opt(o, 'model', x => model(x, 'config.model')))
  set('limits', opt(o, 'limits', x => {
    const lo = obj(x, 'config.limits')
    known(lo, 'config.limits', Object.keys(LIMITS))
    const l: LimitsConfig = {}
    for (const [k, range] of Object.entries(LIMITS) as Array<[keyof LimitsConfig, Tunable]>) {
      if (lo[k] !== undefined) l[k] = tunable(lo[k], `config.limits.${k}`, range)
    }
    return l
  }))
  for (const [k, range] of Object.entries(OUT_PORT) as Array<[keyof typeof OUT_PORT, Tunable]>) {
    set(k, opt(o, k, x => tunable(x, `config.${k}`, range)))
  }
  set('discovery', opt(o, 'discovery', x => discovery(x)))
  return c
}

/** `discovery`: `{ mdns: true | false | { serviceTag?, intervalMs? } }` (src/node/discovery.ts). */
function discovery (v: unknown): DiscoveryConfig {
  const o = obj(v, 'config.discovery')
  known(o, 'config.discovery', ['mdns'])
  const d: DiscoveryConfig = {}
  if (o.mdns === undefined || typeof o.mdns === 'boolean') {
    if (o.mdns !== undefined) d.mdns = o.mdns
    return d
  }
  const m = obj(o.mdns, 'config.discovery.mdns')
  known(m, 'config.discovery.mdns', ['serviceTag', 'intervalMs'])
  const mdns: MdnsOptions = {}
  if (m.serviceTag !== undefined) mdns.serviceTag = str(m.serviceTag, 'config.discovery.mdns.serviceTag', MDNS_SERVICE_TAG_PATTERN)
  if (m.intervalMs !== undefined) mdns.intervalMs = int(m.intervalMs, 'config.discovery.mdns.intervalMs', MDNS_INTERVAL_MS.min, MDNS_INTERVAL_MS.max)
  d.mdns = mdns
  return d
}

/**
 * Read a JSON config file, bounded in size: ConfigError `config-unreadable` when it cannot be read,
 * `config-invalid` when it is too large or not JSON. Shared by the node and gateway config loaders.
 */
export async function readConfigJson (path: string): Promise<unknown> {
  let text: string
  try {
    const s = await stat(path)
    if (s.size > MAX_CONFIG_BYTES) throw new ConfigError('config-invalid', `${path} is larger than ${MAX_CONFIG_BYTES} bytes`)
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError('config-unreadable', `cannot read ${path}: ${(err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new ConfigError('config-invalid', `${path} is not valid JSON: ${(err as Error).message}`)
  }
}

/** Resolve a node config's file paths (identity, replay files) against the folder of the file it came from. */
export function resolveConfigPaths (config: NodeConfig, path: string): NodeConfig {
  if (config.identity !== undefined) config.identity = resolve(dirname(path), config.identity)
  for (const p of config.ports ?? []) {
    if (p.source?.type === 'replay') p.source.file = resolve(dirname(path), p.source.file)
  }
  return config
}

/** Read and validate a config file; the identity path is resolved against the file's folder. */
export async function loadConfig (path: string): Promise<NodeConfig> {
  return resolveConfigPaths(parseConfig(await readConfigJson(path)), path)
}
