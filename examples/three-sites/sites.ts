/**
 * The three sites, built with the library API. Each returns its nodes and a `report()` of what the site
 * measures itself (read at phase boundaries).
 *
 * - Padova: node `padova`, the culture emulator. In port `stim` (weighted; only synapse-a may push),
 *   out port `spikes` (channel 0 spontaneous, channel 1 evoked).
 * - Zurich: node `zurich`, the neuromorphic chip. Out port `pacemaker` (a pacemaker neuron whose rate
 *   follows the phase schedule), in port `in` (weighted; only synapse-b may push) driving a LIF neuron,
 *   out port `neuron` (its spikes).
 * - Southampton: nodes `synapse-a` and `synapse-b`, one memristive synapse each (the 2020 rate rule).
 *   A: pre = Zurich `pacemaker`, post = Padova `spikes`, out pushed into Padova `stim`.
 *   B: pre = Padova `spikes`, post = Zurich `neuron`, out pushed into Zurich `in`.
 *   Each has out ports `out` (pre spikes × weight) and `weight` (the weight trace).
 *
 * Devices take their input through real-time playout with a synaptic delay; synapses take pre and post
 * through the time-ordered merge (see src/node/hosting.ts).
 */
import { DeviceHost, SynapseHost, createNode, hostSource, models } from '../../src/index.ts'
import type { Clock, EventSource, RealTimeDriver, SpikewireNode } from '../../src/index.ts'
import {
  BASE_RATE_HZ, CULTURE, NEURON, PLAYOUT_DELAY_US, SYNAPSE_A, SYNAPSE_B, WATERMARK_INTERVAL_MS
} from './params.ts'
import type { NodeName, Phase, SiteName } from './params.ts'
import { KeyframedSynapse, PhasedPacemaker, relabel, subscribeTo } from './wiring.ts'

export interface SiteContext {
  site: SiteName
  /** Key file of each of this site's nodes. */
  keys: Partial<Record<NodeName, string>>
  /** PeerId of every node of the experiment. */
  peers: Record<NodeName, string>
  /** Southampton only: the multiaddrs of Padova and Zurich (through a delay proxy, or a relay). */
  connect: Partial<Record<'padova' | 'zurich', string>>
  seed: number
  clock: Clock
  /**
   * A circuit relay (multiaddr ending in /p2p/RELAY): every node listens on all interfaces, reserves a slot
   * on it and is reached through it (examples/nat, sites behind NAT). Without it, nodes listen on 127.0.0.1.
   */
  relay?: string
}

export interface Site {
  nodes: Map<NodeName, SpikewireNode>
  /** The phase schedule, in this site's clock. */
  setSchedule: (phases: Phase[]) => void
  report: () => Record<string, unknown>
}

const synaptic = { mode: 'synaptic' as const, us: PLAYOUT_DELAY_US }

/** The models and drivers each node runs, for the final report; each is attached to its node (stopped with it). */
const parts = new WeakMap<SpikewireNode, { hosts: Array<DeviceHost | SynapseHost>, drivers: RealTimeDriver[] }>()

export function partsOf (node: SpikewireNode): { hosts: Array<DeviceHost | SynapseHost>, drivers: RealTimeDriver[] } {
  let p = parts.get(node)
  if (p === undefined) parts.set(node, p = { hosts: [], drivers: [] })
  return p
}

function addHost<T extends DeviceHost | SynapseHost> (node: SpikewireNode, host: T): T {
  partsOf(node).hosts.push(node.attach(host))
  return host
}

async function startNode (ctx: SiteContext, name: NodeName, role: string, talksTo: NodeName[]): Promise<SpikewireNode> {
  const key = ctx.keys[name]
  if (key === undefined) throw new Error(`no key file for node ${name}`)
  return await createNode({
    name,
    role,
    identity: key,
    listen: [ctx.relay === undefined ? '/ip4/127.0.0.1/tcp/0' : '/ip4/0.0.0.0/tcp/0'],
    ...(ctx.relay === undefined ? {} : { relays: [ctx.relay] }),
    allow: talksTo.map(n => ctx.peers[n]),
    watermarkIntervalMs: WATERMARK_INTERVAL_MS
  }, { clock: ctx.clock })
}

export async function startPadova (ctx: SiteContext): Promise<Site> {
  const node = await startNode(ctx, 'padova', 'culture', ['synapse-a', 'synapse-b', 'recorder'])
  const culture = models.culture({ ...CULTURE, seed: ctx.seed, startUs: ctx.clock.nowUs() })
  node.addOutPort({
    name: 'spikes', channels: 2 * CULTURE.electrodes, kind: 'spike', model: culture.describe(),
    subscribe: [ctx.peers['synapse-a'], ctx.peers['synapse-b'], ctx.peers.recorder]
  })
  const stim = node.addInPort({ name: 'stim', channels: CULTURE.electrodes, kind: 'weighted', push: [ctx.peers['synapse-a']] })
  const host = addHost(node, new DeviceHost(node, culture, { input: stim, output: 'spikes', delay: synaptic }))
  return {
    nodes: new Map([['padova', node]]),
    setSchedule: () => {},
    report: () => ({ culture: culture.stats(), playout: pick(host.playout.stats(), ['received', 'delivered', 'violations', 'late']) })
  }
}

export async function startZurich (ctx: SiteContext): Promise<Site> {
  const node = await startNode(ctx, 'zurich', 'neuromorphic', ['synapse-a', 'synapse-b', 'recorder'])
  const now = ctx.clock.nowUs()
  const pacemaker = new PhasedPacemaker(models.pacemaker({ rateHz: BASE_RATE_HZ, startUs: now }))
  node.addOutPort({ name: 'pacemaker', channels: 1, kind: 'spike', model: pacemaker.describe(), subscribe: [ctx.peers['synapse-a'], ctx.peers.recorder] })
  partsOf(node).drivers.push(node.attach(hostSource(node, pacemaker, 'pacemaker')))
  const input = node.addInPort({ name: 'in', channels: 1, kind: 'weighted', push: [ctx.peers['synapse-b']] })
  const neuron = models.lif({ ...NEURON, startUs: now })
  node.addOutPort({ name: 'neuron', channels: 1, kind: 'spike', model: neuron.describe(), subscribe: [ctx.peers['synapse-b'], ctx.peers.recorder] })
  const host = addHost(node, new DeviceHost(node, neuron, { input, output: 'neuron', delay: synaptic }))
  return {
    nodes: new Map([['zurich', node]]),
    setSchedule: phases => { pacemaker.setSchedule(phases.map(p => ({ atUs: p.startUs, rateHz: p.rateHz }))) },
    report: () => ({
      pacemaker: pacemaker.stats(),
      neuron: neuron.stats(),
      playout: pick(host.playout.stats(), ['received', 'delivered', 'violations', 'late'])
    })
  }
}

export async function startSouthampton (ctx: SiteContext): Promise<Site> {
  const padova = ctx.connect.padova
  const zurich = ctx.connect.zurich
  if (padova === undefined || zurich === undefined) throw new Error('southampton needs --connect padova=… and zurich=…')
  const nodes = new Map<NodeName, SpikewireNode>()
  const synapses = new Map<string, KeyframedSynapse>()
  try {
    const wire = async (name: 'synapse-a' | 'synapse-b'): Promise<void> => {
      const node = await startNode(ctx, name, 'synapse', ['padova', 'zurich', 'recorder'])
      nodes.set(name, node)
      const a = name === 'synapse-a'
      const syn = new KeyframedSynapse({ ...(a ? SYNAPSE_A : SYNAPSE_B), seed: ctx.seed + (a ? 1 : 2), startUs: ctx.clock.nowUs(), keyframeUs: 1_000_000 })
      synapses.set(name, syn)
      // The synapse runs behind the clock (as far as the merge has released), so its ports carry only
      // the watermarks the host sets.
      node.addOutPort({ name: 'out', channels: 1, kind: 'weighted', model: syn.describe(), autoWatermark: false, subscribe: [ctx.peers.recorder] })
      node.addOutPort({ name: 'weight', channels: 1, kind: 'weighted', autoWatermark: false, subscribe: [ctx.peers.recorder] })
      // The culture's spikes (both channels) are one neuron's spikes for the synapse: channel 0.
      const culture = (input: string): EventSource => {
        const { source } = subscribeTo(node, padova, 'spikes', { source: input })
        return relabel(source, { peer: ctx.peers.padova, channel: 0 })
      }
      const pre = a ? subscribeTo(node, zurich, 'pacemaker', { source: 'pre' }).source : culture('pre')
      const post = a ? culture('post') : subscribeTo(node, zurich, 'neuron', { source: 'post' }).source
      addHost(node, new SynapseHost(node, syn, { pre, post, output: 'out', weight: 'weight' }))
      node.push('out', a ? padova : zurich, a ? 'stim' : 'in')
    }
    await wire('synapse-a')
    await wire('synapse-b')
  } catch (err) {
    await Promise.allSettled([...nodes.values()].map(async n => { await n.stop() }))
    throw err
  }
  return {
    nodes,
    setSchedule: () => {},
    report: () => Object.fromEntries([...synapses].map(([name, s]) => [name, { weight: s.weight(0), rKOhm: s.resistanceKOhm(0), ...s.stats() }]))
  }
}

export async function startSite (ctx: SiteContext): Promise<Site> {
  if (ctx.site === 'padova') return await startPadova(ctx)
  if (ctx.site === 'zurich') return await startZurich(ctx)
  return await startSouthampton(ctx)
}

function pick<T extends object, K extends keyof T> (o: T, keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map(k => [k, o[k]])) as Pick<T, K>
}
