/**
 * mDNS discovery of spikewire nodes on a LAN (opt-in: `discovery: { mdns: … }` in the config).
 *
 * A node with mDNS on answers queries for the spikewire service tag (`_spikewire._udp.local` unless the
 * config names another) with its private and loopback listen addresses, and asks the LAN for the same tag
 * every `intervalMs`. What it hears goes into a bounded table of discovered peers (`node.discovered()`, the
 * node's `discovered` event) and nowhere else: not into libp2p's peer store (which has no bound) and never
 * dialled. What to do with a discovered peer — describe it, subscribe to it — is the application's choice.
 *
 * Everything heard is hostile input: the table holds at most `maxPeers` peers (the least recently heard is
 * dropped for a new one) and `maxAddresses` addresses per peer, an entry not heard again within `ttlMs` is
 * forgotten, and the node answers at most `answersPerSecond` queries (a flood of queries would otherwise
 * make it flood the LAN with answers).
 */
import { mdns } from '@libp2p/mdns'
import type { MulticastDNSComponents } from '@libp2p/mdns'
import { TypedEventEmitter } from 'main-event'
import { peerDiscoverySymbol } from '@libp2p/interface'
import type { PeerDiscovery, PeerDiscoveryEvents, PeerInfo, Startable } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { SystemClock } from '../base/clock.ts'
import { TokenBucket } from '../protocols/clock/rate.ts'

const log = logger('spikewire:discovery')

/** The mDNS service tag spikewire nodes announce and look for (libp2p's generic tag is `_p2p._udp.local`). */
export const MDNS_SERVICE_TAG = '_spikewire._udp.local'

/** A DNS-SD service name on the local link: `_name._udp.local` (or `._tcp.local`), name up to 32 characters. */
export const MDNS_SERVICE_TAG_PATTERN = /^_[A-Za-z0-9][A-Za-z0-9-]{0,31}\._(udp|tcp)\.local$/

/** The range of `discovery.mdns.intervalMs` in a config. */
export const MDNS_INTERVAL_MS = { min: 1000, max: 3_600_000 } as const

export const MDNS_DEFAULTS = {
  intervalMs: 10_000,
  maxPeers: 256,
  maxAddresses: 16,
  answersPerSecond: 4,
  answerBurst: 16
} as const

export interface MdnsOptions {
  /** The mDNS service tag (default `_spikewire._udp.local`): nodes with another tag do not see each other. */
  serviceTag?: string
  /** How often the node asks the LAN, ms (default 10,000). */
  intervalMs?: number
  /** Answer queries with this node's addresses (default true; `spikewire ls` only listens). */
  announce?: boolean
  /** Most peers remembered (default 256). */
  maxPeers?: number
  /** A peer not heard again within this time is forgotten, ms (default 3 × intervalMs, at least 30 s). */
  ttlMs?: number
  /** UDP port and multicast group (defaults 5353 and 224.0.0.251: standard mDNS). */
  port?: number
  ip?: string
}

export interface DiscoveryConfig {
  /** true: mDNS with the defaults. */
  mdns?: boolean | MdnsOptions
}

/** A peer heard on the LAN. */
export interface DiscoveredPeer {
  peer: string
  /** Its announced addresses, each with /p2p/<peer>. */
  addresses: string[]
  source: 'mdns'
  firstSeenMs: number
  lastSeenMs: number
}

export interface DiscoveryStats {
  /** Peers in the table now. */
  peers: number
  /** Announcements heard (of peers other than this one). */
  announcements: number
  /** Peers dropped to make room for a new one (table full). */
  evicted: number
  /** Peers forgotten because they were not heard within ttlMs. */
  expired: number
  /** Queries answered, and not answered because of the answer rate. */
  answered: number
  unanswered: number
  /** Errors of the mDNS socket (e.g. UDP port 5353 held by a program that does not share it). */
  socketErrors: number
}

/** The counts the table of discovered peers keeps. */
export type TableStats = Pick<DiscoveryStats, 'peers' | 'announcements' | 'evicted' | 'expired'>

/** The bounded table of discovered peers (exported for tests). */
export class DiscoveredTable {
  readonly #peers = new Map<string, DiscoveredPeer>()
  readonly #max: number
  readonly #maxAddresses: number
  readonly #ttlMs: number
  readonly #now: () => number
  readonly #counters = { announcements: 0, evicted: 0, expired: 0 }

  constructor (init: { maxPeers: number, maxAddresses: number, ttlMs: number, now?: () => number }) {
    this.#max = init.maxPeers
    this.#maxAddresses = init.maxAddresses
    this.#ttlMs = init.ttlMs
    this.#now = init.now ?? Date.now
  }

  /** Record an announcement; returns the entry when the peer is new (or was forgotten), else undefined. */
  heard (peer: string, addresses: string[]): DiscoveredPeer | undefined {
    const now = this.#now()
    this.#counters.announcements++
    this.#expire(now)
    const addrs = [...new Set(addresses)].slice(0, this.#maxAddresses)
    const known = this.#peers.get(peer)
    if (known !== undefined) {
      // Least recently heard first: move to the end.
      this.#peers.delete(peer)
      known.lastSeenMs = now
      known.addresses = addrs
      this.#peers.set(peer, known)
      return undefined
    }
    if (this.#peers.size >= this.#max) {
      const oldest = this.#peers.keys().next().value
      if (oldest !== undefined) this.#peers.delete(oldest)
      this.#counters.evicted++
    }
    const entry: DiscoveredPeer = { peer, addresses: addrs, source: 'mdns', firstSeenMs: now, lastSeenMs: now }
    this.#peers.set(peer, entry)
    return entry
  }

  /** The peers heard within ttlMs, least recently heard first (copies). */
  list (): DiscoveredPeer[] {
    this.#expire(this.#now())
    return [...this.#peers.values()].map(p => ({ ...p, addresses: [...p.addresses] }))
  }

  /** Its counts; `peers` is the peers heard within ttlMs. */
  stats (): TableStats {
    this.#expire(this.#now())
    return { peers: this.#peers.size, ...this.#counters }
  }

  #expire (now: number): void {
    for (const [id, p] of this.#peers) {
      if (now - p.lastSeenMs <= this.#ttlMs) break
      this.#peers.delete(id)
      this.#counters.expired++
    }
  }
}

/** The part of @libp2p/mdns's MulticastDNS this module relies on. */
interface MdnsInner extends PeerDiscovery, Startable {
  _onMdnsQuery: (event: unknown) => void
  /** The multicast-dns instance, once started. */
  mdns?: { on: (event: 'error', listener: (err: Error) => void) => unknown }
}

/**
 * mDNS for the node: @libp2p/mdns with spikewire's tag, the bounded table and the answer rate. It is given
 * to libp2p as a peer discovery so that it starts and stops with the peer, but it emits no `peer` events:
 * libp2p never stores or dials what it hears.
 */
export class SpikewireMdns extends TypedEventEmitter<PeerDiscoveryEvents & { discovered: CustomEvent<DiscoveredPeer> }> implements Startable {
  readonly [peerDiscoverySymbol] = this
  readonly [Symbol.toStringTag] = 'spikewire-mdns'
  readonly table: DiscoveredTable
  readonly serviceTag: string
  readonly #inner: MdnsInner
  readonly #self: string
  readonly #counters = { answered: 0, unanswered: 0, socketErrors: 0 }
  /** The last error of the mDNS socket: with one, nothing may be heard at all. */
  lastError: Error | undefined

  constructor (components: MulticastDNSComponents & { peerId: { toString: () => string } }, options: MdnsOptions) {
    super()
    const intervalMs = options.intervalMs ?? MDNS_DEFAULTS.intervalMs
    this.serviceTag = options.serviceTag ?? MDNS_SERVICE_TAG
    this.#self = components.peerId.toString()
    this.table = new DiscoveredTable({
      maxPeers: options.maxPeers ?? MDNS_DEFAULTS.maxPeers,
      maxAddresses: MDNS_DEFAULTS.maxAddresses,
      ttlMs: options.ttlMs ?? Math.max(30_000, 3 * intervalMs)
    })
    this.#inner = mdns({
      serviceTag: this.serviceTag,
      interval: intervalMs,
      broadcast: options.announce !== false,
      port: options.port,
      ip: options.ip
    })(components) as MdnsInner
    // Bounded answers: @libp2p/mdns answers every query it hears with a multicast response. Without
    // announce it answers none (gotQuery returns at once), so there is nothing to bound or count.
    if (options.announce !== false) {
      const answer = this.#inner._onMdnsQuery.bind(this.#inner)
      const rate = new TokenBucket(MDNS_DEFAULTS.answersPerSecond, MDNS_DEFAULTS.answerBurst, new SystemClock())
      this.#inner._onMdnsQuery = (event: unknown) => {
        const q = event as { questions?: Array<{ name?: unknown }> }
        if (q.questions?.[0]?.name !== this.serviceTag) return
        if (rate.take() === 0) {
          this.#counters.answered++
          answer(event)
        } else {
          this.#counters.unanswered++
        }
      }
    }
    this.#inner.addEventListener('peer', evt => { this.#heard(evt.detail) })
  }

  #heard (info: PeerInfo): void {
    const peer = info.id.toString()
    if (peer === this.#self) return
    const entry = this.table.heard(peer, info.multiaddrs.map(a => `${a.toString()}/p2p/${peer}`))
    if (entry !== undefined) {
      log('discovered %s at %s', peer, entry.addresses.join(', '))
      this.safeDispatchEvent('discovered', { detail: entry })
    }
  }

  async start (): Promise<void> {
    await this.#inner.start()
    this.#inner.mdns?.on('error', err => {
      this.#counters.socketErrors++
      this.lastError = err
      log.error('mDNS socket: %s', err.message)
    })
  }

  async stop (): Promise<void> {
    await this.#inner.stop()
  }

  /** The table's counts (peers heard within ttlMs) and the answers and socket errors. */
  stats (): DiscoveryStats {
    return { ...this.table.stats(), ...this.#counters }
  }
}

/** The mDNS options of a discovery config, or undefined when mDNS is off. */
export function mdnsOptions (config: DiscoveryConfig | undefined): MdnsOptions | undefined {
  const m = config?.mdns
  if (m === undefined || m === false) return undefined
  return m === true ? {} : m
}
