/**
 * The clock service (spec §9.3): serves /spikewire/clock/1.0.0 to every peer, and owns the node's time
 * of each peer it exchanges events with — one PeerTime per peer, with the clock sync started on first use.
 */
import { isMultiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from '@libp2p/interface'
import type { Clock } from '../../base/clock.ts'
import type { Startable } from '../../base/service.ts'
import { CLOCK_PROTOCOL } from '../../codec/index.ts'
import type { ErrorCodeName } from '../../codec/index.ts'
import { DEFAULTS, LIMITS } from '../../wire/defaults.ts'
import { refuseStream } from '../../wire/peer-streams.ts'
import { parseTarget } from '../../wire/target.ts'
import type { Target } from '../../wire/target.ts'
import { handleClockStream, newClockServerStats } from './clock-server.ts'
import type { ClockServerLimits, ClockServerStats } from './clock-server.ts'
import { TokenBucket } from './rate.ts'
import { PeerClock } from './peer-clock.ts'
import type { PeerClockOptions } from './peer-clock.ts'
import { PeerTime } from './peer-time.ts'
import type { PeerTimeInit } from './peer-time.ts'
import { InvalidArgumentError } from '../../base/errors.ts'

export interface ClockServiceComponents {
  libp2p: Libp2p
  clock: Clock
  /** A stream was refused (for the node's counts and its 'refused' event). */
  onRefused?: (peer: string, code: ErrorCodeName, reason: string) => void
}

export interface ClockServiceInit {
  /** Options of the clock sync run with every peer; false: serve only, map peers' times as they are. */
  sync?: PeerClockOptions | false
  /** Per peer: mapping slew and latency bounds. */
  time?: PeerTimeInit
  maxInboundStreams?: number
  /** Clock streams one peer may hold at once, all connections together (spec §11.4). */
  maxStreamsPerPeer?: number
  /** Serving: idle and stall deadlines, requests waiting per stream (defaults: LIMITS, DEFAULTS). */
  server?: Partial<ClockServerLimits>
  /** Serving: answers per second per peer, and the burst a peer may send at once. */
  requestsPerSecond?: number
  burst?: number
}

/** Peers whose answer rate is remembered while none of their clock streams is open. */
const MAX_IDLE_BUCKETS = 1024

export class ClockService implements Startable {
  readonly #components: ClockServiceComponents
  readonly #init: ClockServiceInit
  readonly #peers = new Map<string, PeerTime>()
  /** The answer rate of each peer that has clock streams to this node (spec §9.3.1). */
  readonly #buckets = new Map<string, { bucket: TokenBucket, streams: number }>()
  readonly #serverStats: ClockServerStats = newClockServerStats()

  constructor (components: ClockServiceComponents, init: ClockServiceInit = {}) {
    this.#components = components
    this.#init = init
  }

  /** Whether the node syncs clocks with its peers. */
  get syncing (): boolean {
    return this.#init.sync !== false
  }

  async start (): Promise<void> {
    const max = this.#init.maxInboundStreams ?? DEFAULTS.maxInboundStreams.clock
    const i = this.#init
    const limits: ClockServerLimits = {
      idleMs: i.server?.idleMs ?? LIMITS.clockIdleMs.default,
      stallMs: i.server?.stallMs ?? LIMITS.slowConsumerMs.default,
      maxPending: i.server?.maxPending ?? DEFAULTS.clockPendingRequests
    }
    const perPeer = i.maxStreamsPerPeer ?? LIMITS.maxClockStreamsPerPeer.default
    await this.#components.libp2p.handle(CLOCK_PROTOCOL, (stream, connection) => {
      const peer = connection.remotePeer.toString()
      const entry = this.#bucketOf(peer)
      if (entry.streams >= perPeer) {
        const reason = `this peer holds ${perPeer} clock streams already`
        this.#components.onRefused?.(peer, 'too-many-streams', reason)
        refuseStream(stream, 'too-many-streams', reason, limits.stallMs)
        return
      }
      entry.streams++
      handleClockStream(stream, {
        clock: this.#components.clock,
        limits,
        bucket: entry.bucket,
        stats: this.#serverStats,
        onClose: () => { entry.streams-- }
      })
    }, {
      maxInboundStreams: max, maxOutboundStreams: max, runOnLimitedConnection: true
    })
  }

  /** What the clock server has counted (streams served, answers, delays, streams it closed). */
  get serverStats (): ClockServerStats {
    return { ...this.#serverStats }
  }

  #bucketOf (peer: string): { bucket: TokenBucket, streams: number } {
    let entry = this.#buckets.get(peer)
    if (entry === undefined) {
      if (this.#buckets.size >= MAX_IDLE_BUCKETS) {
        // Forget peers without a clock stream whose rate has recovered: they start full anyway.
        for (const [p, e] of this.#buckets) if (e.streams === 0 && e.bucket.full) this.#buckets.delete(p)
      }
      const i = this.#init
      entry = {
        bucket: new TokenBucket(i.requestsPerSecond ?? LIMITS.clockRequestsPerSecond.default, i.burst ?? LIMITS.clockBurst.default, this.#components.clock),
        streams: 0
      }
      this.#buckets.set(peer, entry)
    }
    return entry
  }

  /** Close every clock sync; streams end with close{normal}. */
  async stop (): Promise<void> {
    await Promise.allSettled([...this.#peers.values()].map(async t => { await t.sync?.close() }))
    await this.#components.libp2p.unhandle(CLOCK_PROTOCOL).catch(() => {})
  }

  /**
   * The time of a peer (a PeerId string, or a multiaddr ending in /p2p/…, which is also where its clock
   * sync dials), created on first use with its clock sync started.
   */
  peer (target: Target): PeerTime {
    const t = parseTarget(target)
    const id = isMultiaddr(t) ? (t.getComponents().find(c => c.name === 'p2p')?.value ?? '') : t.toString()
    if (id === '') throw new InvalidArgumentError('a clock sync target needs a peer id (/p2p/…)')
    let pt = this.#peers.get(id)
    if (pt === undefined) {
      const sync = this.#init.sync === false
        ? undefined
        : new PeerClock(this.#components.libp2p, isMultiaddr(t) ? t : id, this.#components.clock, this.#init.sync ?? {})
      pt = new PeerTime(id, this.#components.clock, sync, this.#init.time)
      this.#peers.set(id, pt)
    }
    return pt
  }

  /** The time of a peer if the node has one already. */
  get (peer: string): PeerTime | undefined {
    return this.#peers.get(peer)
  }

  /** Every peer's time, by PeerId. */
  peers (): ReadonlyMap<string, PeerTime> {
    return this.#peers
  }
}

/** `clockService(init)(components)`, the factory the node composes. */
export function clockService (init: ClockServiceInit = {}): (components: ClockServiceComponents) => ClockService {
  return components => new ClockService(components, init)
}
