/**
 * Config interpretation: a node from a whole config — its plain ports and limits go to the node layer;
 * sources, hosted models, push links and subscriptions into local in ports are started here and returned
 * keyed by the config entry that asked for them. Everything started is attached to the node, so stopping
 * the node stops it first.
 */
import { logger } from '@libp2p/logger'
import { SystemClock } from '../base/clock.ts'
import type { ModelInfo } from '../codec/index.ts'
import { adex, culture, lif, pacemaker, poisson, replayFile, synapse } from '../models/index.ts'
import type { AdexInit, CultureEmulatorInit, LifInit, Model, StimulationLimits, SynapseInit } from '../models/index.ts'
import { createSpikewireNode } from '../node/node.ts'
import type { CreateNodeOptions, SpikewireNode } from '../node/node.ts'
import type { NodeInit } from '../node/init.ts'
import type { PushLink } from '../protocols/events/push-link.ts'
import type { Subscription } from '../protocols/events/subscription.ts'
import type { HostConfig, LinkConfig, NodeConfig, PortConfig, SubscriptionConfig } from './config.ts'
import { RealTimeDriver } from './driver.ts'
import { DeviceHost, SynapseHost } from './hosting.ts'

const log = logger('spikewire:hosting')

/** What a config started, each next to the config entry it came from. */
export interface Hosted {
  node: SpikewireNode
  /** Out ports driven by a built-in source. */
  sources: Array<{ config: PortConfig, driver: RealTimeDriver }>
  hosts: Array<{ config: HostConfig, host: DeviceHost | SynapseHost }>
  links: Array<{ config: LinkConfig, link: PushLink }>
  subscriptions: Array<{ config: SubscriptionConfig, subscription: Subscription }>
}

/**
 * The node part of a config: plain ports (without their sources; a driven port describes its source's
 * model unless the config gives one) and everything else the node reads.
 */
export function nodeInit (config: NodeConfig, sources: ReadonlyMap<string, Model> = new Map()): NodeInit {
  const { links: _l, subscriptions: _s, hosts: _h, ports, ...rest } = config
  return {
    ...rest,
    ports: ports?.map(({ source: _src, ...p }) => {
      const model: ModelInfo | undefined = p.model ?? sources.get(p.name)?.describe()
      return model === undefined ? p : { ...p, model }
    })
  }
}

/** The model behind a source config, starting now. */
async function sourceModel (p: PortConfig, startUs: number): Promise<Model | undefined> {
  const src = p.source
  if (src?.type === 'poisson') return poisson({ channels: p.channels, rateHz: src.rateHz, seed: src.seed, startUs })
  if (src?.type === 'pacemaker') return pacemaker({ channels: p.channels, rateHz: src.rateHz, phase: src.phase, startUs })
  if (src?.type === 'replay') return await replayFile(src.file, { channels: p.channels, format: src.format, timeBase: src.timeBase, start: src.start, startUs })
  return undefined
}

function hostModel (node: SpikewireNode, h: HostConfig): DeviceHost | SynapseHost {
  const startUs = node.clock.nowUs()
  if (h.model === 'synapse') {
    const m = synapse({ ...(h.params as SynapseInit), startUs })
    return new SynapseHost(node, m, { pre: node.inPort(h.pre), post: node.inPort(h.post), output: h.output, weight: h.weight, stallAfterUs: h.stallAfterUs })
  }
  const m = h.model === 'lif'
    ? lif({ ...(h.params as LifInit), startUs })
    : h.model === 'adex'
      ? adex({ ...(h.params as AdexInit), startUs })
      : culture({ ...(h.params as CultureEmulatorInit), startUs, limits: (h as { limits?: StimulationLimits }).limits })
  const delay = h.delayUs === undefined ? undefined : { mode: 'synaptic' as const, us: h.delayUs }
  return new DeviceHost(node, m, { input: node.inPort(h.input), output: h.output, delay })
}

/** Start a node from a validated config; returns the node and what the config started in it. */
export async function startNode (config: NodeConfig, options: CreateNodeOptions = {}): Promise<Hosted> {
  const clock = options.clock ?? new SystemClock()
  const models = new Map<string, Model>()
  for (const p of config.ports ?? []) {
    const m = p.direction === 'out' ? await sourceModel(p, clock.nowUs()) : undefined
    if (m !== undefined) models.set(p.name, m)
  }
  const node = await createSpikewireNode(nodeInit(config, models), { ...options, clock })
  const hosted: Hosted = { node, sources: [], hosts: [], links: [], subscriptions: [] }
  try {
    for (const p of config.ports ?? []) {
      const m = models.get(p.name)
      if (m !== undefined) hosted.sources.push({ config: p, driver: node.attach(new RealTimeDriver(m, node.outPort(p.name), clock)) })
    }
    for (const h of config.hosts ?? []) hosted.hosts.push({ config: h, host: node.attach(hostModel(node, h)) })
    for (const l of config.links ?? []) {
      hosted.links.push({ config: l, link: node.push(l.from, l.to, l.port, { channels: l.channels, delay: l.delay }) })
    }
    for (const s of config.subscriptions ?? []) {
      const inPort = node.inPort(s.to)
      const subscription = node.subscribe(s.from, s.port, { channels: s.channels, source: s.to })
      subscription.onBatch(d => { inPort.inbox.push(d) })
      subscription.inbox.onWatermark(w => { inPort.inbox.watermark(w) })
      hosted.subscriptions.push({ config: s, subscription })
    }
  } catch (err) {
    await node.stop().catch(() => {})
    throw err
  }
  log('node %s hosts %d sources, %d models, %d links, %d subscriptions', config.name, hosted.sources.length, hosted.hosts.length, hosted.links.length, hosted.subscriptions.length)
  return hosted
}

/** Create and start a node from a validated config (the library's entry point). */
export async function createNode (config: NodeConfig, options: CreateNodeOptions = {}): Promise<SpikewireNode> {
  return (await startNode(config, options)).node
}
