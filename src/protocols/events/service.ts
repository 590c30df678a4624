/**
 * The events service (spec §9.2): serves /spikewire/events/1.0.0 for the node's ports (subscribers of
 * `out` ports, pushers into `in` ports), opens subscriptions and push links to other nodes, and hands
 * every stream's peer its time (clock sync, mapping, latency) from the clock service.
 */
import type { Libp2p } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import type { Clock } from '../../base/clock.ts'
import type { Startable } from '../../base/service.ts'
import { EVENTS_PROTOCOL } from '../../codec/index.ts'
import type { ErrorCodeName, Open } from '../../codec/index.ts'
import type { OutPort } from '../../ports/out-port.ts'
import type { PortRegistry } from '../../ports/registry.ts'
import { DEFAULTS, LIMITS } from '../../wire/defaults.ts'
import type { Target } from '../../wire/target.ts'
import type { ClockService } from '../clock/service.ts'
import { handleEventsStream } from './events-server.ts'
import { PeerStreams } from '../../wire/peer-streams.ts'
import type { EventsServerContext } from './events-server.ts'
import { PushLink } from './push-link.ts'
import type { PushOptions } from './push-link.ts'
import { Subscription } from './subscription.ts'
import type { SubscribeOptions } from './subscription.ts'

const log = logger('spikewire:events')

export interface EventsServiceComponents {
  libp2p: Libp2p
  clock: Clock
  ports: PortRegistry
  time: ClockService
  /** An open was refused (for the node's counts and its 'refused' event). */
  onRefused: (peer: string, open: Open | undefined, code: ErrorCodeName, reason: string) => void
}

export interface EventsServiceInit {
  maxFrameBytes?: number
  maxEvents?: number
  openTimeoutMs?: number
  maxStreamsPerPort?: number
  /** Events streams one peer may hold on this node, all ports together (spec §11.4). */
  maxStreamsPerPeer?: number
  queueEvents?: number
  queueBytes?: number
  slowConsumerMs?: number
  maxInboundStreams?: number
  /** The first sequence number of every events stream this node sends (tests of the 2^53 − 1 bound; default 0). */
  firstSeq?: number
}

/** Latency stream names in a peer's PeerTime: what a subscription or an in port receives from that peer. */
export const subscriptionStream = (port: string): string => `sub/${port}`
export const inPortStream = (inPort: string, source: string): string => `in/${inPort}/${source}`

export class EventsService implements Startable {
  readonly #c: EventsServiceComponents
  readonly #init: EventsServiceInit
  readonly #subscriptions = new Set<Subscription>()
  readonly #links = new Set<PushLink>()
  readonly #active = new Set<(code: ErrorCodeName) => Promise<void>>()

  constructor (components: EventsServiceComponents, init: EventsServiceInit = {}) {
    this.#c = components
    this.#init = init
  }

  get subscriptions (): ReadonlySet<Subscription> {
    return this.#subscriptions
  }

  get links (): ReadonlySet<PushLink> {
    return this.#links
  }

  async start (): Promise<void> {
    const i = this.#init
    const ctx: EventsServerContext = {
      clock: this.#c.clock,
      maxFrameBytes: i.maxFrameBytes ?? LIMITS.maxFrameBytes.default,
      maxEvents: i.maxEvents ?? LIMITS.maxEvents.default,
      openTimeoutMs: i.openTimeoutMs ?? LIMITS.openTimeoutMs.default,
      maxStreamsPerPort: i.maxStreamsPerPort ?? LIMITS.maxStreamsPerPort.default,
      peerStreams: new PeerStreams(i.maxStreamsPerPeer ?? LIMITS.maxStreamsPerPeer.default),
      queueEvents: i.queueEvents ?? LIMITS.queueEvents.default,
      queueBytes: i.queueBytes ?? LIMITS.queueBytes.default,
      slowConsumerMs: i.slowConsumerMs ?? LIMITS.slowConsumerMs.default,
      firstSeq: i.firstSeq,
      stopFlushMs: DEFAULTS.stopFlushMs,
      outPorts: this.#c.ports.outPorts,
      inPorts: this.#c.ports.inPorts,
      onPusher: peer => { if (this.#c.time.syncing) this.#c.time.peer(peer) },
      track: closer => {
        this.#active.add(closer)
        return () => this.#active.delete(closer)
      },
      onRefused: this.#c.onRefused
    }
    const max = i.maxInboundStreams ?? DEFAULTS.maxInboundStreams.events
    await this.#c.libp2p.handle(EVENTS_PROTOCOL, (stream, connection) => { handleEventsStream(ctx, stream, connection) }, {
      maxInboundStreams: max, maxOutboundStreams: max, runOnLimitedConnection: true
    })
  }

  /**
   * Close every open events stream with close{shutdown} (spec §9.2.10): our own subscriptions and push links
   * (after what they have queued) and the streams peers opened to us. An application's own close() of a
   * subscription or link sends close{normal}.
   */
  async stop (options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = options.signal ?? AbortSignal.timeout(DEFAULTS.stopStreamsMs)
    const aborted = new Promise(resolve => { signal.addEventListener('abort', resolve, { once: true }) })
    await Promise.allSettled([
      ...[...this.#subscriptions].map(async s => { await s.shutdown() }),
      ...[...this.#links].map(async l => { await l.shutdown() }),
      ...[...this.#active].map(async close => { await close('shutdown') })
    ].map(async p => await Promise.race([p, aborted])))
    await this.#c.libp2p.unhandle(EVENTS_PROTOCOL).catch(() => {})
    log('events service stopped')
  }

  /** Subscribe to a remote `out` port; the subscription reconnects unless `reconnect: false`. */
  subscribe (target: Target, port: string, options: SubscribeOptions = {}): Subscription {
    const s = new Subscription(this.#c.libp2p, target, port, { maxFrameBytes: this.#init.maxFrameBytes, ...options })
    this.#subscriptions.add(s)
    void s.done().then(() => this.#subscriptions.delete(s))
    const time = this.#c.time
    s.addEventListener('status', e => {
      if (e.detail.state === 'open' && time.syncing && s.peer !== '') s.time = time.peer(s.peer)
    })
    const stream = subscriptionStream(port)
    s.inbox.observe(({ peer, batch }) => { time.get(peer)?.record(stream, batch) })
    return s
  }

  /** Push a local `out` port into a remote `in` port; the link reconnects unless `reconnect: false`. */
  push (port: OutPort, target: Target, remotePort: string, options: PushOptions = {}): PushLink {
    const l = new PushLink(this.#c.libp2p, port, target, remotePort, {
      queueEvents: this.#init.queueEvents,
      queueBytes: this.#init.queueBytes,
      slowConsumerMs: this.#init.slowConsumerMs,
      maxFrameBytes: this.#init.maxFrameBytes,
      firstSeq: this.#init.firstSeq,
      ...options
    })
    this.#links.add(l)
    void l.done().then(() => this.#links.delete(l))
    return l
  }
}

export function eventsService (init: EventsServiceInit = {}): (components: EventsServiceComponents) => EventsService {
  return components => new EventsService(components, init)
}
