/**
 * A spikewire node: a thin facade over a libp2p peer and its three protocol services — describe, clock
 * (which owns every peer's time) and events — and the node's ports. Each service declares the components
 * it may use; the node composes them, starts them in order and stops them in reverse.
 */
import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { Libp2pOptions } from 'libp2p'
import { CLOCK_PROTOCOL, DESCRIBE_PROTOCOL, EVENTS_PROTOCOL } from '../codec/index.ts'
import type { Description, ErrorCodeName } from '../codec/index.ts'
import { SystemClock } from '../base/clock.ts'
import type { Clock } from '../base/clock.ts'
import type { Startable, Stoppable } from '../base/service.ts'
import { InvalidArgumentError } from '../base/errors.ts'
import { InPort } from '../ports/in-port.ts'
import type { InPortInit, InPortStats } from '../ports/in-port.ts'
import { OutPort } from '../ports/out-port.ts'
import type { OutPortInit, OutPortStats } from '../ports/out-port.ts'
import type { PeerList } from '../ports/acl.ts'
import { PortRegistry } from '../ports/registry.ts'
import type { OutPortEntry } from '../ports/registry.ts'
import { DEFAULTS, OUT_PORT } from '../wire/defaults.ts'
import type { SenderStats } from '../wire/sender.ts'
import type { Target } from '../wire/target.ts'
import { clockService } from '../protocols/clock/service.ts'
import type { ClockService } from '../protocols/clock/service.ts'
import type { PeerClock, PeerClockOptions, PeerClockStats } from '../protocols/clock/peer-clock.ts'
import type { ClockServerStats } from '../protocols/clock/clock-server.ts'
import type { PeerTime } from '../protocols/clock/peer-time.ts'
import type { LatencyObserver, LatencySnapshot } from '../protocols/clock/latency.ts'
import { describeService } from '../protocols/describe/service.ts'
import type { DescribeService } from '../protocols/describe/service.ts'
import { eventsService, inPortStream } from '../protocols/events/service.ts'
import type { EventsService } from '../protocols/events/service.ts'
import type { PushLink, PushOptions, PushLinkStats } from '../protocols/events/push-link.ts'
import type { Subscription, SubscribeOptions, SubscriptionStats } from '../protocols/events/subscription.ts'
import { RealTimeScheduler } from '../timing/scheduler.ts'
import type { Scheduler } from '../timing/scheduler.ts'
import { Merge, Playout } from '../timing/compensate.ts'
import type { EventSource, MergeInit, PlayoutInit } from '../timing/compensate.ts'
import type { NodeInit } from './init.ts'
import { resolveKey } from './identity.ts'
import { connectionStats, createPeer, discoveryOf } from './libp2p.ts'
import type { DiscoveredPeer, DiscoveryStats } from './discovery.ts'
import type { ConnectionGuardStats } from './connection-guard.ts'
import { SOFTWARE } from './version.ts'
import { RelayClient } from './relay-client.ts'
import type { RelayStatus } from './relay-client.ts'
import { isRelayAddress, setRelays } from '../wire/relay-dial.ts'

const log = logger('spikewire:node')

export interface RefusedDetail {
  peer: string
  /** What was refused: a whole connection, an open on a port, or a describe or clock stream (a per-peer limit). */
  what: 'connection' | 'open' | 'describe' | 'clock'
  port?: string
  code: ErrorCodeName
  reason: string
}

export interface NodeEvents {
  refused: CustomEvent<RefusedDetail>
  /** A peer heard on the LAN for the first time (mDNS discovery on); the node does not dial it. */
  discovered: CustomEvent<DiscoveredPeer>
  /** A relay of NodeInit.relays changed state: reserved (with the node's addresses through it), or retrying. */
  relay: CustomEvent<RelayStatus>
}

export interface CreateNodeOptions {
  clock?: Clock
  /** Timers for playout and merge (default: real timers on the node's clock). */
  scheduler?: Scheduler
  /** Options of the clock sync the node runs with every peer it exchanges events with. */
  clockSync?: PeerClockOptions | false
  /** The node's key; otherwise init.identity is loaded or created; otherwise a new key each start. */
  privateKey?: PrivateKey
  /**
   * The first sequence number of every events stream this node sends, instead of 0 (spec §9.2.4). For tests
   * of the end of the sequence numbers (2^53 − 1) only: receivers count the numbers skipped as a gap.
   */
  firstSeq?: number
  /**
   * libp2p's metrics component (`createLibp2p({ metrics })`), e.g. the metrics layer's registry-bound
   * `@libp2p/prometheus-metrics`; none by default.
   */
  libp2pMetrics?: Libp2pOptions['metrics']
  /**
   * Called once per tracked stream of each peer (subscriptions `sub/PORT`, in ports `in/PORT/SOURCE`); the
   * observer it returns sees every one-way latency sample that stream records (a metrics histogram).
   */
  latencyObserver?: (peer: string, stream: string) => LatencyObserver | undefined
}

/** A snapshot of everything a node counts (plain JSON). */
export interface NodeStats {
  peer: string
  /** Refused: connections (allow list), opens of events streams, describe and clock streams (per-peer limits). */
  refusals: RefusalCounts
  /** Connection limits: sockets and connections refused per address or peer, idle connections pruned. */
  connections?: ConnectionGuardStats
  outPorts: Record<string, { stats: OutPortStats, streams: Array<SenderStats & { peer: string }> }>
  inPorts: Record<string, InPortStats & { latency: Record<string, LatencySnapshot> }>
  subscriptions: Array<{ peer: string, port: string, state: string, stats: SubscriptionStats, latency: LatencySnapshot }>
  links: Array<{ peer: string, from: string, to: string, state: string, stats: PushLinkStats }>
  clocks: Record<string, { state: string, offsetUs: number, uncertaintyUs: number, driftPpm: number, rttUs: number, converged: boolean, stats: PeerClockStats }>
  /** The clock server: streams served now, requests and answers, answers delayed by the rate, streams it closed. */
  clockServer: ClockServerStats
  /** Counts of parts the layers above attached with a name (`node.attach(x, { name, stats })`), e.g. a gateway. */
  parts?: Record<string, unknown>
  /** mDNS discovery, when on: peers remembered, announcements heard, peers dropped, queries answered. */
  discovery?: DiscoveryStats
  /** The relays of NodeInit.relays: reservation state, the node's addresses through each, counts. */
  relays?: RelayStatus[]
}

/** What a node has refused (node.refusals, node.stats().refusals). */
export interface RefusalCounts {
  /** Connections from peers outside the allow list. */
  connections: number
  /** Opens of events streams (any reject code). */
  opens: number
  /** Describe streams beyond a peer's limit (close{too-many-streams}). */
  describe: number
  /** Clock streams beyond a peer's limit (close{too-many-streams}). */
  clock: number
}

/** Refusals of connections, opens and streams: counted, logged and dispatched as 'refused' by the node. */
class Refusals {
  connections = 0
  opens = 0
  describe = 0
  clock = 0
  emit: (detail: RefusedDetail) => void = () => {}

  connection (peer: string): void {
    this.connections++
    log('refused a connection from %s: not in the allow list', peer)
    this.emit({ peer, what: 'connection', code: 'unauthorized', reason: 'not in the allow list' })
  }

  open (peer: string, port: string | undefined, code: ErrorCodeName, reason: string): void {
    this.opens++
    this.emit({ peer, what: 'open', port, code, reason })
  }

  stream (peer: string, what: 'describe' | 'clock', code: ErrorCodeName, reason: string): void {
    this[what]++
    log('refused a %s stream from %s: %s (%s)', what, peer, code, reason)
    this.emit({ peer, what, code, reason })
  }
}

export class SpikewireNode extends TypedEventEmitter<NodeEvents> {
  readonly libp2p: Libp2p
  readonly clock: Clock
  readonly init: NodeInit
  readonly scheduler: Scheduler
  readonly #ports = new PortRegistry()
  readonly #refusals: Refusals
  readonly #describe: DescribeService
  readonly #time: ClockService
  readonly #events: EventsService
  /** Hand-over timers of playouts that deliver from a DeliveryThread: no precision needed, no spinning. */
  readonly #handoffScheduler: Scheduler
  /** Attached by the layers above (hosted models, drivers): stopped first, in reverse order. */
  readonly #attached: Stoppable[] = []
  /** Statistics of attached parts, by name (node.stats().parts). */
  readonly #parts = new Map<string, () => unknown>()
  readonly #relays: RelayClient
  #started = false
  #stopped = false

  constructor (libp2p: Libp2p, init: NodeInit, refusals: Refusals, options: CreateNodeOptions = {}) {
    super()
    this.libp2p = libp2p
    this.init = init
    this.clock = options.clock ?? new SystemClock()
    this.scheduler = options.scheduler ?? new RealTimeScheduler(this.clock)
    this.#handoffScheduler = options.scheduler ?? new RealTimeScheduler(this.clock, { spinUs: 0 })
    this.#refusals = refusals
    for (const r of init.relays ?? []) {
      if (!isRelayAddress(r)) throw new InvalidArgumentError(`relay ${r} must be a multiaddr ending in /p2p/<relay PeerId>`)
    }
    this.#relays = new RelayClient(libp2p, init.relays ?? [], status => { this.safeDispatchEvent('relay', { detail: status }) })
    setRelays(libp2p, init.relays ?? [])
    refusals.emit = detail => { this.safeDispatchEvent('refused', { detail }) }
    discoveryOf(libp2p)?.addEventListener('discovered', evt => { this.safeDispatchEvent('discovered', { detail: evt.detail }) })
    const limits = init.limits ?? {}
    this.#describe = describeService({ maxStreamsPerPeer: limits.maxDescribeStreamsPerPeer })({
      libp2p,
      description: () => this.description(),
      onRefused: (peer, code, reason) => { refusals.stream(peer, 'describe', code, reason) }
    })
    this.#time = clockService({
      sync: options.clockSync ?? {},
      server: { idleMs: limits.clockIdleMs, stallMs: limits.slowConsumerMs },
      requestsPerSecond: limits.clockRequestsPerSecond,
      burst: limits.clockBurst,
      maxStreamsPerPeer: limits.maxClockStreamsPerPeer,
      time: options.latencyObserver === undefined ? undefined : { observe: options.latencyObserver }
    })({ libp2p, clock: this.clock, onRefused: (peer, code, reason) => { refusals.stream(peer, 'clock', code, reason) } })
    this.#events = eventsService({ ...limits, firstSeq: options.firstSeq })({
      libp2p,
      clock: this.clock,
      ports: this.#ports,
      time: this.#time,
      onRefused: (peer, open, code, reason) => { refusals.open(peer, open?.port, code, reason) }
    })
    for (const p of init.ports ?? []) {
      if (p.direction === 'out') this.addOutPort({ name: p.name, channels: p.channels, kind: p.kind, model: p.model, subscribe: p.subscribe })
      else this.addInPort({ name: p.name, channels: p.channels, kind: p.kind, model: p.model, push: p.push })
    }
  }

  /** The services in start order. */
  get #services (): Startable[] {
    return [this.#describe, this.#time, this.#events]
  }

  /** Register the protocol handlers (called once by createNode). */
  async start (): Promise<void> {
    if (this.#started) return
    this.#started = true
    for (const s of this.#services) await s.start()
    this.#relays.start()
  }

  /** Each relay of NodeInit.relays: whether the node holds its reservation, its addresses through it, counts. */
  get relays (): RelayStatus[] {
    return this.#relays.status()
  }

  /**
   * Resolves once the node holds a reservation on every relay of NodeInit.relays; rejects when `signal` aborts
   * first, or with ClosedError once the node is stopping.
   */
  async relaysReserved (options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#relays.reserved(options)
  }

  get peerId (): string {
    return this.libp2p.peerId.toString()
  }

  /** Listening multiaddrs, each ending in /p2p/<peer-id>; the /p2p-circuit ones through each relay it holds a reservation on. */
  get multiaddrs (): string[] {
    return this.libp2p.getMultiaddrs().map(String)
  }

  get outPorts (): ReadonlyMap<string, OutPortEntry> {
    return this.#ports.outPorts
  }

  get inPorts (): ReadonlyMap<string, InPort> {
    return this.#ports.inPorts
  }

  get subscriptions (): ReadonlySet<Subscription> {
    return this.#events.subscriptions
  }

  get links (): ReadonlySet<PushLink> {
    return this.#events.links
  }

  /** Connections refused at the gate and opens refused on ports, so far. */
  get refusals (): RefusalCounts {
    const r = this.#refusals
    return { connections: r.connections, opens: r.opens, describe: r.describe, clock: r.clock }
  }

  /** Every peer's time (clock sync, mapping, stream latencies), by PeerId. */
  get peers (): ReadonlyMap<string, PeerTime> {
    return this.#time.peers()
  }

  /**
   * A peer's time, with its clock sync (spec §9.3) started on first use. The node starts one by itself for
   * every peer it subscribes to or that pushes into it, unless created with `clockSync: false`.
   */
  timeOf (target: Target): PeerTime {
    return this.#time.peer(target)
  }

  /** The clock sync with a peer (started on first use). Throws when the node runs without clock sync. */
  clockFor (target: Target): PeerClock {
    const sync = this.#time.peer(target).sync
    if (sync === undefined) throw new InvalidArgumentError('this node runs without clock sync (clockSync: false)')
    return sync
  }

  /**
   * Map a peer's timestamps to local time: the peer's slewed mapping (it follows refinements of the clock
   * estimate without stepping); identity before any estimate, or without clock sync.
   */
  clockMap (peer: string): (remoteUs: number) => number {
    const time = this.#time.syncing ? this.#time.peer(peer) : undefined
    return time === undefined ? t => t : t => time.toLocal(t)
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

  /** Add an `out` port (any time). */
  addOutPort (init: Omit<OutPortInit, 'clock'> & { subscribe?: PeerList }): OutPort {
    const port = new OutPort({
      watermarkIntervalMs: this.init.watermarkIntervalMs ?? OUT_PORT.watermarkIntervalMs.default,
      maxBatchEvents: this.init.maxBatchEvents ?? OUT_PORT.maxBatchEvents.default,
      latenessUs: this.init.latenessUs ?? OUT_PORT.latenessUs.default,
      flushIntervalUs: this.init.flushIntervalUs ?? OUT_PORT.flushIntervalUs.default,
      ...init,
      clock: this.clock
    })
    this.#ports.addOut(port, init.subscribe)
    return port
  }

  /** Add an `in` port (any time). It is closed to pushers unless `push` lists them. */
  addInPort (init: InPortInit): InPort {
    const port = new InPort({ inboxBytes: this.init.limits?.inboxBytes, ...init })
    this.#ports.addIn(port)
    port.inbox.observe(({ peer, port: source, batch }) => { this.#time.get(peer)?.record(inPortStream(port.name, source), batch) })
    return port
  }

  outPort (name: string): OutPort {
    return this.#ports.out(name)
  }

  inPort (name: string): InPort {
    return this.#ports.in(name)
  }

  /** This node's description (spec §8.2). */
  description (): Description {
    const d: Description = {
      type: 'description',
      name: this.init.name,
      role: this.init.role ?? 'other',
      ports: this.#ports.info(),
      software: SOFTWARE,
      protocols: [DESCRIBE_PROTOCOL, EVENTS_PROTOCOL, CLOCK_PROTOCOL]
    }
    if (this.init.model !== undefined) d.model = this.init.model
    return d
  }

  /** Ask a remote node what it is. */
  async describe (target: Target, options: { signal?: AbortSignal } = {}): Promise<Description & { peer: string }> {
    return await this.#describe.describe(target, options)
  }

  /** Subscribe to a remote `out` port; the subscription reconnects unless `reconnect: false`. */
  subscribe (target: Target, port: string, options: SubscribeOptions = {}): Subscription {
    return this.#events.subscribe(target, port, options)
  }

  /** Push a local `out` port into a remote `in` port; the link reconnects unless `reconnect: false`. */
  push (localPort: string, target: Target, remotePort: string, options: PushOptions = {}): PushLink {
    return this.#events.push(this.outPort(localPort), target, remotePort, options)
  }

  /**
   * Stop `x` when the node stops, before its streams close (hosted models, drivers, gateways). With a `name`
   * and `stats`, `node.stats().parts[name]` reports what `stats()` returns.
   */
  attach<T extends Stoppable> (x: T, options: { name?: string, stats?: () => unknown } = {}): T {
    this.#attached.push(x)
    if (options.name !== undefined && options.stats !== undefined) {
      if (this.#parts.has(options.name)) throw new InvalidArgumentError(`a part named ${options.name} is attached already`)
      this.#parts.set(options.name, options.stats)
    }
    return x
  }

  /**
   * The peers heard by mDNS within its ttl, least recently heard first ([] with discovery off). They are
   * only remembered: nothing is dialled or subscribed to.
   */
  discovered (): DiscoveredPeer[] {
    return discoveryOf(this.libp2p)?.table.list() ?? []
  }

  /** Everything the node counts, as plain JSON. */
  stats (): NodeStats {
    const finite = (v: number): number => Number.isFinite(v) ? v : -1
    const peers = [...this.#time.peers().values()]
    return {
      peer: this.peerId,
      refusals: this.refusals,
      connections: connectionStats(this.libp2p),
      outPorts: Object.fromEntries([...this.#ports.outPorts].map(([name, e]) => [name, {
        stats: { ...e.port.stats },
        streams: [...e.port.senders].map(s => ({ ...s.stats, peer: s.peer }))
      }])),
      inPorts: Object.fromEntries([...this.#ports.inPorts].map(([name, p]) => [name, {
        ...p.stats,
        latency: Object.fromEntries(peers.flatMap(t => Object.entries(t.latencies(`in/${name}/`)).map(([source, l]) => [`${t.peer}/${source}`, l])))
      }])),
      subscriptions: [...this.subscriptions].map(s => ({ peer: s.peer, port: s.port, state: s.state, stats: { ...s.stats }, latency: s.latency.snapshot() })),
      links: [...this.links].map(l => ({ peer: l.peer, from: l.port.name, to: l.remotePort, state: l.state, stats: { ...l.stats } })),
      clocks: Object.fromEntries(peers.flatMap(t => {
        const e = t.estimate()
        if (t.sync === undefined || e === undefined) return []
        return [[t.peer, { state: t.sync.state, offsetUs: e.offsetUs, uncertaintyUs: finite(e.uncertaintyUs), driftPpm: e.driftPpm, rttUs: finite(e.rttUs), converged: e.converged, stats: { ...t.sync.stats } }]]
      })),
      clockServer: this.#time.serverStats,
      ...discoveryStats(this.libp2p),
      ...((this.init.relays ?? []).length === 0 ? {} : { relays: this.relays }),
      ...(this.#parts.size === 0 ? {} : { parts: Object.fromEntries([...this.#parts].map(([name, read]) => [name, read()])) })
    }
  }

  /** Stop what is attached, then the clock syncs, the ports and every stream (close{shutdown} to peers), then the peer. */
  async stop (options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    for (const x of [...this.#attached].reverse()) {
      try { await x.stop() } catch (err) { log.error('stopping an attached part failed: %e', err) }
    }
    await bounded(Promise.resolve(this.#time.stop()), DEFAULTS.stopClocksMs, 'clock syncs')
    for (const e of this.#ports.outPorts.values()) e.port.stop()
    await this.#events.stop(options)
    await this.#describe.stop()
    for (const p of this.#ports.inPorts.values()) p.inbox.end()
    await bounded(this.#relays.stop(), DEFAULTS.stopRelaysMs, 'relay reservations')
    await bounded(Promise.resolve(this.libp2p.stop()), DEFAULTS.stopLibp2pMs, 'libp2p')
    log('node %s stopped', this.init.name)
  }
}

function discoveryStats (libp2p: Libp2p): { discovery?: DiscoveryStats } {
  const d = discoveryOf(libp2p)
  return d === undefined ? {} : { discovery: d.stats() }
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

/**
 * Create and start a node with plain ports (no models, sources, links or subscriptions: those are
 * the hosting layer's `createNode`, which takes a whole config).
 */
export async function createSpikewireNode (init: NodeInit, options: CreateNodeOptions = {}): Promise<SpikewireNode> {
  const privateKey = await resolveKey({ privateKey: options.privateKey, identity: init.identity, onCreated: path => { log('created a new identity in %s', path) } })
  const refusals = new Refusals()
  const libp2p = await createPeer(init, { privateKey, metrics: options.libp2pMetrics, onRefused: peer => { refusals.connection(peer) } })
  let node: SpikewireNode
  try {
    node = new SpikewireNode(libp2p, init, refusals, options)
    await node.start()
  } catch (err) {
    await Promise.resolve(libp2p.stop()).catch(() => {})
    throw err
  }
  log('node %s started as %s on %s', init.name, node.peerId, node.multiaddrs.join(', '))
  return node
}
