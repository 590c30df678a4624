/**
 * A spikewire node: a libp2p peer (TCP, Noise, Yamux) that serves its ports over the describe, events
 * and clock protocols, and opens subscriptions and push links to other nodes.
 */
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import {
  CLOCK_PROTOCOL, DEFAULT_MAX_EVENTS, DEFAULT_MAX_FRAME_BYTES, DESCRIBE_PROTOCOL, EVENTS_PROTOCOL, OPEN_TIMEOUT_MS
} from '../codec/index.ts'
import type { Batch, Description, ErrorCodeName, ModelInfo, Open } from '../codec/index.ts'
import { SystemClock } from '../base/clock.ts'
import type { Clock } from '../base/clock.ts'
import { handleClockStream } from '../protocols/clock/clock-server.ts'
import { InPort } from '../ports/in-port.ts'
import type { InPortInit } from '../ports/in-port.ts'
import { OutPort } from '../ports/out-port.ts'
import type { OutPortInit } from '../ports/out-port.ts'
import { describeRemote, handleDescribeStream } from '../protocols/describe/describe.ts'
import { handleEventsStream } from '../protocols/events/events-server.ts'
import type { EventsServerContext, OutPortEntry } from '../protocols/events/events-server.ts'
import { PushLink } from '../protocols/events/push-link.ts'
import type { PushOptions } from '../protocols/events/push-link.ts'
import { Subscription } from '../protocols/events/subscription.ts'
import type { SubscribeOptions } from '../protocols/events/subscription.ts'
import type { Target } from '../wire/target.ts'
import { adex, culture, lif, pacemaker, poisson, replayFile, synapse } from '../models/index.ts'
import type { Model, AdexInit, CultureEmulatorInit, LifInit, StimulationLimits, SynapseInit } from '../models/index.ts'
import { DeviceHost, SynapseHost } from '../hosting/hosting.ts'
import { isAllowed } from '../ports/acl.ts'
import type { PeerList } from '../ports/acl.ts'
import type { NodeConfig } from '../hosting/config.ts'
import { RealTimeDriver } from '../hosting/driver.ts'
import { loadOrCreateKey } from './identity.ts'
import { PeerClock } from '../protocols/clock/peer-clock.ts'
import type { PeerClockOptions, PeerClockStats } from '../protocols/clock/peer-clock.ts'
import { LatencyTracker } from '../protocols/clock/latency.ts'
import type { LatencySnapshot } from '../protocols/clock/latency.ts'
import type { OutPortStats } from '../ports/out-port.ts'
import type { InPortStats } from '../ports/in-port.ts'
import type { SenderStats } from '../wire/sender.ts'
import type { SubscriptionStats } from '../protocols/events/subscription.ts'
import type { PushLinkStats } from '../protocols/events/push-link.ts'
import { RealTimeScheduler } from '../timing/scheduler.ts'
import type { Scheduler } from '../timing/scheduler.ts'
import { Merge, Playout } from '../timing/compensate.ts'
import { slewedMap } from '../protocols/clock/slewed-map.ts'
import type { EventSource, MergeInit, PlayoutInit } from '../timing/compensate.ts'
import { isMultiaddr } from '@multiformats/multiaddr'
import { parseTarget } from '../wire/target.ts'
import { SOFTWARE } from './version.ts'

const log = logger('spikewire:node')

export interface RefusedDetail {
  peer: string
  /** What was refused: a whole connection, or an open on a port. */
  what: 'connection' | 'open'
  port?: string
  code: ErrorCodeName
  reason: string
}

export interface NodeEvents {
  refused: CustomEvent<RefusedDetail>
}

export interface CreateNodeOptions {
  clock?: Clock
  /** Timers for playout and merge (default: real timers on the node's clock). */
  scheduler?: Scheduler
  /** Options of the clock sync the node runs with every peer it exchanges events with. */
  clockSync?: PeerClockOptions | false
  /** The node's key; otherwise config.identity is loaded or created; otherwise a new key each start. */
  privateKey?: PrivateKey
}

/** A snapshot of everything a node counts (plain JSON). */
export interface NodeStats {
  peer: string
  refusals: { connections: number, opens: number }
  outPorts: Record<string, { stats: OutPortStats, streams: Array<SenderStats & { peer: string }> }>
  inPorts: Record<string, InPortStats & { latency: Record<string, LatencySnapshot> }>
  subscriptions: Array<{ peer: string, port: string, state: string, stats: SubscriptionStats, latency: LatencySnapshot }>
  links: Array<{ peer: string, from: string, to: string, state: string, stats: PushLinkStats }>
  clocks: Record<string, { state: string, offsetUs: number, uncertaintyUs: number, driftPpm: number, rttUs: number, converged: boolean, stats: PeerClockStats }>
}

export class SpikewireNode extends TypedEventEmitter<NodeEvents> {
  readonly libp2p: Libp2p
  readonly clock: Clock
  readonly config: NodeConfig
  readonly outPorts = new Map<string, OutPortEntry>()
  readonly inPorts = new Map<string, InPort>()
  readonly subscriptions = new Set<Subscription>()
  readonly links = new Set<PushLink>()
  readonly drivers: RealTimeDriver[] = []
  readonly hosts: Array<DeviceHost | SynapseHost> = []
  readonly refusals = { connections: 0, opens: 0 }
  readonly clocks = new Map<string, PeerClock>()
  readonly scheduler: Scheduler
  /** Hand-over timers of playouts that deliver from a DeliveryThread: no precision needed, no spinning. */
  readonly #handoffScheduler: Scheduler
  readonly #clockSync: PeerClockOptions | false
  readonly #active = new Set<(code: ErrorCodeName) => Promise<void>>()
  #stopped = false

  constructor (libp2p: Libp2p, config: NodeConfig, clock: Clock, options: CreateNodeOptions = {}) {
    super()
    this.libp2p = libp2p
    this.config = config
    this.clock = clock
    this.scheduler = options.scheduler ?? new RealTimeScheduler(clock)
    this.#handoffScheduler = options.scheduler ?? new RealTimeScheduler(clock, { spinUs: 0 })
    this.#clockSync = options.clockSync ?? {}
  }

  /**
   * The clock sync with a peer (spec §9.3), started on first use. The node starts one by itself for
   * every peer it subscribes to or that pushes into it, unless created with `clockSync: false`.
   */
  clockFor (target: Target): PeerClock {
    const t = parseTarget(target)
    const peer = isMultiaddr(t) ? (t.getComponents().find(c => c.name === 'p2p')?.value ?? '') : t.toString()
    if (peer === '') throw new RangeError('a clock sync target needs a peer id (/p2p/…)')
    let pc = this.clocks.get(peer)
    if (pc === undefined) {
      pc = new PeerClock(this.libp2p, isMultiaddr(t) ? t : peer, this.clock, this.#clockSync === false ? {} : this.#clockSync)
      this.clocks.set(peer, pc)
    }
    return pc
  }

  /**
   * Map a peer's timestamps to local time with its clock estimate (identity before any). The mapping
   * follows refinements of the estimate at a bounded slew (slewed-map.ts), so intervals are not broken
   * by small steps; each call returns a new mapping with its own state.
   */
  clockMap (peer: string): (remoteUs: number) => number {
    const pc = this.clocks.get(peer) ?? (this.#clockSync === false ? undefined : this.clockFor(peer))
    if (pc === undefined) return t => t
    return slewedMap(t => pc.toLocal(t).localUs)
  }

  /**
   * Real-time playout of a subscription or in port (spec §9.2.8). With `thread`, events are handed to
   * that DeliveryThread `leadUs` ahead and delivered by it; the hand-over timers do not spin.
   */
  playout (source: EventSource, init: Omit<PlayoutInit, 'scheduler' | 'clockMap'>): Playout {
    const scheduler = init.thread === undefined ? this.scheduler : this.#handoffScheduler
    return new Playout(source, { scheduler, clockMap: peer => this.clockMap(peer), ...init })
  }

  /** Time-ordered merge of named subscriptions or in ports (spec §9.2.8). */
  merge (sources: Array<{ name: string, source: EventSource }>, init: Omit<MergeInit, 'scheduler' | 'clockMap'>): Merge {
    return new Merge(sources, { scheduler: this.scheduler, clockMap: peer => this.clockMap(peer), ...init })
  }

  get peerId (): string {
    return this.libp2p.peerId.toString()
  }

  /** Listening multiaddrs, each ending in /p2p/<peer-id>. */
  get multiaddrs (): string[] {
    return this.libp2p.getMultiaddrs().map(String)
  }

  /** Add an `out` port (any time). */
  addOutPort (init: Omit<OutPortInit, 'clock'> & { subscribe?: PeerList }): OutPort {
    this.#checkName(init.name)
    const port = new OutPort({
      watermarkIntervalMs: this.config.watermarkIntervalMs,
      maxBatchEvents: this.config.maxBatchEvents,
      latenessUs: this.config.latenessUs,
      ...init,
      clock: this.clock
    })
    this.outPorts.set(init.name, { port, subscribe: init.subscribe })
    return port
  }

  /** Add an `in` port (any time). It is closed to pushers unless `push` lists them. */
  addInPort (init: InPortInit): InPort {
    this.#checkName(init.name)
    const port = new InPort(init)
    this.inPorts.set(init.name, port)
    port.inbox.observe(({ peer, port: source, batch }) => {
      const key = `${peer}/${source}`
      let tracker = port.latency.get(key)
      if (tracker === undefined) {
        if (port.latency.size >= 1024) return
        tracker = new LatencyTracker()
        port.latency.set(key, tracker)
      }
      this.#recordLatency(tracker, peer, batch)
    })
    return port
  }

  outPort (name: string): OutPort {
    const p = this.outPorts.get(name)?.port
    if (p === undefined) throw new RangeError(`no out port named ${name}`)
    return p
  }

  inPort (name: string): InPort {
    const p = this.inPorts.get(name)
    if (p === undefined) throw new RangeError(`no in port named ${name}`)
    return p
  }

  /** This node's description (spec §8.2). */
  description (): Description {
    const d: Description = {
      type: 'description',
      name: this.config.name,
      role: this.config.role ?? 'other',
      ports: [...[...this.outPorts.values()].map(e => e.port.info), ...[...this.inPorts.values()].map(p => p.info)],
      software: SOFTWARE,
      protocols: [DESCRIBE_PROTOCOL, EVENTS_PROTOCOL, CLOCK_PROTOCOL]
    }
    if (this.config.model !== undefined) d.model = this.config.model
    return d
  }

  /** Ask a remote node what it is. */
  async describe (target: Target, options: { signal?: AbortSignal } = {}): Promise<Description & { peer: string }> {
    return await describeRemote(this.libp2p, target, options)
  }

  /** Subscribe to a remote `out` port; the subscription reconnects unless `reconnect: false`. */
  subscribe (target: Target, port: string, options: SubscribeOptions = {}): Subscription {
    const s = new Subscription(this.libp2p, target, port, { maxFrameBytes: this.config.limits?.maxFrameBytes, ...options })
    this.subscriptions.add(s)
    this.#trackLatency(s)
    void s.done().then(() => this.subscriptions.delete(s))
    return s
  }

  /** Push a local `out` port into a remote `in` port; the link reconnects unless `reconnect: false`. */
  push (localPort: string, target: Target, remotePort: string, options: PushOptions = {}): PushLink {
    const l = new PushLink(this.libp2p, this.outPort(localPort), target, remotePort, {
      queueEvents: this.config.limits?.queueEvents,
      slowConsumerMs: this.config.limits?.slowConsumerMs,
      maxFrameBytes: this.config.limits?.maxFrameBytes,
      ...options
    })
    this.links.add(l)
    void l.done().then(() => this.links.delete(l))
    return l
  }

  /** Everything the node counts, as plain JSON. */
  stats (): NodeStats {
    const now = this.clock.nowUs()
    const finite = (v: number): number => Number.isFinite(v) ? v : -1
    return {
      peer: this.peerId,
      refusals: { ...this.refusals },
      outPorts: Object.fromEntries([...this.outPorts].map(([name, e]) => [name, {
        stats: { ...e.port.stats },
        streams: [...e.port.senders].map(s => ({ ...s.stats, peer: s.peer }))
      }])),
      inPorts: Object.fromEntries([...this.inPorts].map(([name, p]) => [name, {
        ...p.stats,
        latency: Object.fromEntries([...p.latency].map(([k, l]) => [k, l.snapshot()]))
      }])),
      subscriptions: [...this.subscriptions].map(s => ({ peer: s.peer, port: s.port, state: s.state, stats: { ...s.stats }, latency: s.latency.snapshot() })),
      links: [...this.links].map(l => ({ peer: l.peer, from: l.port.name, to: l.remotePort, state: l.state, stats: { ...l.stats } })),
      clocks: Object.fromEntries([...this.clocks].map(([peer, c]) => {
        const e = c.estimator.estimate(now)
        return [peer, { state: c.state, offsetUs: e.offsetUs, uncertaintyUs: finite(e.uncertaintyUs), driftPpm: e.driftPpm, rttUs: finite(e.rttUs), converged: e.converged, stats: { ...c.stats } }]
      }))
    }
  }

  /** Close every stream (close{shutdown} to peers, close{normal} on own links) and stop the peer. */
  async stop (options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    for (const d of this.drivers) d.stop()
    for (const h of this.hosts) h.stop()
    await bounded(Promise.allSettled([...this.clocks.values()].map(async c => { await c.close() })), 3000, 'clock syncs')
    for (const e of this.outPorts.values()) e.port.stop()
    const signal = options.signal ?? AbortSignal.timeout(5000)
    await Promise.allSettled([
      ...[...this.subscriptions].map(async s => { await s.close() }),
      ...[...this.links].map(async l => { await l.close() }),
      ...[...this.#active].map(async close => { await close('shutdown') })
    ].map(async p => await Promise.race([p, new Promise(resolve => { signal.addEventListener('abort', resolve, { once: true }) })])))
    for (const p of this.inPorts.values()) p.inbox.end()
    await bounded(Promise.resolve(this.libp2p.stop()), 5000, 'libp2p')
    log('node %s stopped', this.config.name)
  }

  /** Wire the protocol handlers; called once by createNode. */
  async serve (): Promise<void> {
    const limits = this.config.limits ?? {}
    const ctx: EventsServerContext = {
      clock: this.clock,
      maxFrameBytes: limits.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      maxEvents: limits.maxEvents ?? DEFAULT_MAX_EVENTS,
      openTimeoutMs: limits.openTimeoutMs ?? OPEN_TIMEOUT_MS,
      maxStreamsPerPort: limits.maxStreamsPerPort ?? 64,
      queueEvents: limits.queueEvents ?? 262_144,
      slowConsumerMs: limits.slowConsumerMs ?? 10_000,
      outPorts: this.outPorts,
      inPorts: this.inPorts,
      onPusher: peer => { if (this.#clockSync !== false) this.clockFor(peer) },
      track: closer => {
        this.#active.add(closer)
        return () => this.#active.delete(closer)
      },
      onRefused: (peer: string, open: Open | undefined, code: ErrorCodeName, reason: string) => {
        this.refusals.opens++
        this.safeDispatchEvent('refused', { detail: { peer, what: 'open', port: open?.port, code, reason } })
      }
    }
    await this.libp2p.handle(EVENTS_PROTOCOL, (stream, connection) => { handleEventsStream(ctx, stream, connection) }, {
      maxInboundStreams: 256, maxOutboundStreams: 256
    })
    await this.libp2p.handle(DESCRIBE_PROTOCOL, (stream) => { handleDescribeStream(stream, () => this.description()) }, {
      maxInboundStreams: 8, maxOutboundStreams: 8
    })
    await this.libp2p.handle(CLOCK_PROTOCOL, (stream) => { handleClockStream(stream, this.clock) }, {
      maxInboundStreams: 4, maxOutboundStreams: 4
    })
  }

  /** Called by the connection gater when it refuses a peer. */
  noteRefusedConnection (peer: string): void {
    this.refusals.connections++
    log('refused a connection from %s: not in the allow list', peer)
    this.safeDispatchEvent('refused', { detail: { peer, what: 'connection', code: 'unauthorized', reason: 'not in the allow list' } })
  }

  /** One-way latency of a subscription's events (arrival − mapped send time), once the clock is estimated. */
  #trackLatency (s: Subscription): void {
    s.addEventListener('status', e => {
      if (e.detail.state === 'open' && this.#clockSync !== false && s.peer !== '') s.clock = this.clockFor(s.peer)
    })
    s.inbox.observe(({ peer, batch }) => { this.#recordLatency(s.latency, peer, batch) })
  }

  /** Record arrival − mapped send time for (a sample of) a batch's events, once the sender's clock is estimated. */
  #recordLatency (tracker: LatencyTracker, peer: string, batch: Batch): void {
    const pc = this.clocks.get(peer)
    if (pc === undefined || pc.estimator.estimate(this.clock.nowUs()).samples === 0) return
    const now = this.clock.nowUs()
    const step = Math.max(1, Math.floor(batch.count / 64))
    for (let i = batch.count - 1; i >= 0; i -= step) tracker.record(now - pc.toLocal(batch.times[i]).localUs)
  }

  #checkName (name: string): void {
    if (this.outPorts.has(name) || this.inPorts.has(name)) throw new RangeError(`a port named ${name} exists already`)
  }
}

/** Wait for `p` at most `ms`; log and go on when it takes longer (used while stopping). */
async function bounded (p: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<void>(resolve => {
    timer = setTimeout(() => {
      log.error('stopping %s took longer than %d ms; going on', what, ms)
      resolve()
    }, ms)
  })
  try {
    await Promise.race([p.then(() => {}, err => { log.error('stopping %s failed: %e', what, err) }), late])
  } finally {
    clearTimeout(timer)
  }
}

/** Create and start a node from a validated config. */
export async function createNode (config: NodeConfig, options: CreateNodeOptions = {}): Promise<SpikewireNode> {
  const clock = options.clock ?? new SystemClock()
  let privateKey = options.privateKey
  if (privateKey === undefined && config.identity !== undefined) {
    const { key, created } = await loadOrCreateKey(config.identity)
    if (created) log('created a new identity in %s', config.identity)
    privateKey = key
  }
  const ref: { node?: SpikewireNode } = {}
  const libp2p = await createLibp2p({
    privateKey,
    addresses: { listen: config.listen ?? ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: config.limits?.streamWindowBytes } })],
    connectionGater: {
      denyInboundEncryptedConnection: (peerId) => {
        const peer = peerId.toString()
        if (isAllowed(config.allow, peer, true)) return false
        ref.node?.noteRefusedConnection(peer)
        return true
      }
    },
    connectionManager: {
      inboundConnectionThreshold: 1000,
      maxIncomingPendingConnections: 64,
      maxConnections: config.limits?.maxConnections ?? 256
    }
  })
  const node = ref.node = new SpikewireNode(libp2p, config, clock, options)
  try {
    for (const p of config.ports ?? []) {
      if (p.direction === 'out') {
        const src = p.source
        let m: Model | undefined
        if (src?.type === 'poisson') m = poisson({ channels: p.channels, rateHz: src.rateHz, seed: src.seed, startUs: clock.nowUs() })
        else if (src?.type === 'pacemaker') m = pacemaker({ channels: p.channels, rateHz: src.rateHz, phase: src.phase, startUs: clock.nowUs() })
        else if (src?.type === 'replay') m = await replayFile(src.file, { channels: p.channels, format: src.format, timeBase: src.timeBase, startUs: clock.nowUs() })
        const model: ModelInfo | undefined = p.model ?? m?.describe()
        const port = node.addOutPort({ name: p.name, channels: p.channels, kind: p.kind, model, subscribe: p.subscribe })
        if (m !== undefined) node.drivers.push(new RealTimeDriver(m, port, clock))
      } else {
        node.addInPort({ name: p.name, channels: p.channels, kind: p.kind, model: p.model, push: p.push })
      }
    }
    for (const h of config.hosts ?? []) {
      const startUs = clock.nowUs()
      if (h.model === 'synapse') {
        const m = synapse({ ...(h.params as SynapseInit), startUs })
        node.hosts.push(new SynapseHost(node, m, { pre: node.inPort(h.pre), post: node.inPort(h.post), output: h.output, weight: h.weight, stallAfterUs: h.stallAfterUs }))
      } else {
        let m
        if (h.model === 'lif') m = lif({ ...(h.params as LifInit), startUs })
        else if (h.model === 'adex') m = adex({ ...(h.params as AdexInit), startUs })
        else m = culture({ ...(h.params as CultureEmulatorInit), startUs, limits: (h as { limits?: StimulationLimits }).limits })
        const delay = h.delayUs === undefined ? undefined : { mode: 'synaptic' as const, us: h.delayUs }
        node.hosts.push(new DeviceHost(node, m, { input: node.inPort(h.input), output: h.output, delay }))
      }
    }
    await node.serve()
    for (const l of config.links ?? []) node.push(l.from, l.to, l.port, { channels: l.channels, delay: l.delay })
    for (const s of config.subscriptions ?? []) {
      const sub = node.subscribe(s.from, s.port, { channels: s.channels, source: s.to })
      const inPort = node.inPort(s.to)
      sub.onBatch(d => { inPort.inbox.push(d) })
      sub.inbox.onWatermark(w => { inPort.inbox.watermark(w) })
    }
  } catch (err) {
    await node.stop().catch(() => {})
    throw err
  }
  log('node %s started as %s on %s', config.name, node.peerId, node.multiaddrs.join(', '))
  return node
}
