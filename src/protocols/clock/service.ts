/**
 * The clock service (spec §9.3): serves /spikewire/clock/1.0.0 to every peer, and owns the node's time
 * of each peer it exchanges events with — one PeerTime per peer, with the clock sync started on first use.
 */
import { isMultiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from '@libp2p/interface'
import type { Clock } from '../../base/clock.ts'
import type { Startable } from '../../base/service.ts'
import { CLOCK_PROTOCOL } from '../../codec/index.ts'
import { DEFAULTS } from '../../wire/defaults.ts'
import { parseTarget } from '../../wire/target.ts'
import type { Target } from '../../wire/target.ts'
import { handleClockStream } from './clock-server.ts'
import { PeerClock } from './peer-clock.ts'
import type { PeerClockOptions } from './peer-clock.ts'
import { PeerTime } from './peer-time.ts'
import type { PeerTimeInit } from './peer-time.ts'
import { InvalidArgumentError } from '../../base/errors.ts'

export interface ClockServiceComponents {
  libp2p: Libp2p
  clock: Clock
}

export interface ClockServiceInit {
  /** Options of the clock sync run with every peer; false: serve only, map peers' times as they are. */
  sync?: PeerClockOptions | false
  /** Per peer: mapping slew and latency bounds. */
  time?: PeerTimeInit
  maxInboundStreams?: number
}

export class ClockService implements Startable {
  readonly #components: ClockServiceComponents
  readonly #init: ClockServiceInit
  readonly #peers = new Map<string, PeerTime>()

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
    await this.#components.libp2p.handle(CLOCK_PROTOCOL, (stream) => { handleClockStream(stream, this.#components.clock) }, {
      maxInboundStreams: max, maxOutboundStreams: max
    })
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
