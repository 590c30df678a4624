/**
 * What libp2p's connection manager lacks against peers that try to lock others out (spec §11.4): limits
 * per network address on handshakes in progress and on connections, a limit per peer on connections, and
 * pruning of idle inbound connections — after `idleMs` always, and as soon as their grace is over when the
 * node nears its connection limit, so that a newcomer finds a free slot; an address whose idle connections
 * keep being closed is held to fewer connections for a while. Near the limit (fewer than `reserve` slots
 * free), an address gets a new socket only while it holds less than its fair share of the slots below the
 * reserve (those slots divided by the addresses holding sockets, the asking one included): the reserve is
 * kept for addresses that hold few, so attackers spread over a few addresses cannot fill it with fresh
 * connections faster than pruning frees it. Handshakes in progress are shared the same way (a quarter of
 * libp2p's 64 kept free), so sockets that stall their handshake from several addresses cannot take every
 * handshake slot either. libp2p itself bounds the handshake
 * time (`inboundUpgradeTimeout`), the handshakes in progress in total and the connections in total; this
 * guard sits in its connection gater and listens to its connection events.
 */
import { logger } from '@libp2p/logger'
import type { Connection, Libp2p, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

const log = logger('spikewire:connection-guard')

export interface ConnectionGuardInit {
  /** Inbound handshakes in progress from one address. */
  maxPendingPerAddress: number
  /** Inbound handshakes in progress in total (libp2p's `maxIncomingPendingConnections`). */
  maxPending: number
  /** Inbound connections from one address, handshakes in progress included. */
  maxConnectionsPerAddress: number
  /** Connections (either direction) from one peer. */
  maxConnectionsPerPeer: number
  /** The node's connection limit (libp2p's `maxConnections`). */
  maxConnections: number
  /** Inbound connections without a stream for this long are closed, ms. */
  idleMs: number
  /** Slots kept free: when fewer are free, idle inbound connections past their grace are closed. */
  reserve: number
  /** Handshake slots kept free likewise: when fewer are free, only addresses below their share start one. */
  pendingReserve: number
  /** A new connection is not idle before this, ms. */
  graceMs: number
  /** Milliseconds since the epoch, as libp2p's connection timelines (default Date.now). */
  now?: () => number
}

export interface ConnectionGuardStats {
  /** Sockets refused before the handshake: too many handshakes in progress from their address. */
  refusedPending: number
  /** Sockets refused before the handshake: too many connections from their address. */
  refusedAddress: number
  /**
   * Sockets refused before the handshake: the node is near its limit of connections or of handshakes in
   * progress, and their address holds its fair share of them.
   */
  refusedShare: number
  /** Connections refused after the handshake: too many connections from their peer. */
  refusedPeer: number
  /** Inbound connections closed after `idleMs` without a stream. */
  prunedIdle: number
  /** Idle inbound connections closed early to keep slots free. */
  prunedPressure: number
  /** Inbound sockets now: handshakes in progress and connections. */
  pending: number
  inbound: number
}

/** The key an inbound socket is counted under: its IPv4 address, or the /64 prefix of its IPv6 address. */
export function addressKey (addr: Multiaddr): string | undefined {
  for (const c of addr.getComponents()) {
    if (c.name === 'ip4' && c.value !== undefined) return c.value
    if (c.name === 'ip6' && c.value !== undefined) return `${ipv6Prefix64(c.value)}::/64`
  }
  return undefined
}

/** The first four groups of an IPv6 address, expanded ("::" filled with zeros), lower case. */
function ipv6Prefix64 (ip: string): string {
  const [head, tail] = ip.toLowerCase().split('::') as [string, string | undefined]
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t]
  return groups.slice(0, 4).map(g => g.replace(/^0+(?=.)/, '')).join(':')
}

interface Socket { key: string, upgraded: boolean }

/**
 * An address whose idle connections have been closed this many times within `STRIKE_WINDOW_MS` is held to
 * `maxPendingPerAddress` connections until the window is over: fresh identities from a few addresses
 * cannot keep refilling the slots that pruning frees.
 */
const STRIKES = 8
const STRIKE_WINDOW_MS = 60_000

class Counts {
  readonly #n = new Map<string, number>()
  get (key: string): number { return this.#n.get(key) ?? 0 }
  keys (): IterableIterator<string> { return this.#n.keys() }
  /** Keys with a count above zero. */
  get size (): number { return this.#n.size }
  add (key: string, d: number): void {
    const v = this.get(key) + d
    if (v <= 0) this.#n.delete(key)
    else this.#n.set(key, v)
  }

  get total (): number {
    let s = 0
    for (const v of this.#n.values()) s += v
    return s
  }
}

export class ConnectionGuard {
  readonly #init: ConnectionGuardInit
  readonly #now: () => number
  readonly #sockets = new Map<MultiaddrConnection, Socket>()
  readonly #pending = new Counts()
  readonly #open = new Counts()
  /** Last time each connection was seen with a stream (by connection id). */
  readonly #busy = new Map<string, number>()
  /** Idle connections closed per address: how many, since when. */
  readonly #strikes = new Map<string, { count: number, since: number }>()
  readonly #stats = { refusedPending: 0, refusedAddress: 0, refusedShare: 0, refusedPeer: 0, prunedIdle: 0, prunedPressure: 0 }
  #libp2p: Libp2p | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  readonly #onOpen = (): void => { this.#relieve() }
  readonly #onClose = (e: CustomEvent<Connection>): void => { this.#busy.delete(e.detail.id) }

  constructor (init: ConnectionGuardInit) {
    this.#init = init
    this.#now = init.now ?? Date.now
  }

  stats (): ConnectionGuardStats {
    return { ...this.#stats, pending: this.#pending.total, inbound: this.#open.total }
  }

  /** Gater: a raw inbound socket, before any handshake. True denies it. */
  denyInboundConnection (maConn: MultiaddrConnection): boolean {
    const key = addressKey(maConn.remoteAddr)
    if (key === undefined) return false
    const pending = this.#pending.get(key)
    if (pending >= this.#init.maxPendingPerAddress) {
      this.#stats.refusedPending++
      log('refused a socket from %s: %d handshakes in progress from it', key, pending)
      return true
    }
    const pendingShare = fairShare(this.#pending.total, this.#init.maxPending - this.#init.pendingReserve, this.#pending.size + (pending === 0 ? 1 : 0))
    if (pending >= pendingShare) {
      this.#stats.refusedShare++
      log('refused a socket from %s: few handshake slots free, it has %d in progress (its share %d)', key, pending, pendingShare)
      return true
    }
    const held = pending + this.#open.get(key)
    if (held >= this.#addressLimit(key)) {
      this.#stats.refusedAddress++
      log('refused a socket from %s: %d connections from it', key, held)
      return true
    }
    const share = this.#connectionShare(held)
    if (held >= share) {
      this.#stats.refusedShare++
      log('refused a socket from %s: near the limit, it holds %d (its share %d)', key, held, share)
      return true
    }
    if (maConn.status === 'closed') return false
    this.#sockets.set(maConn, { key, upgraded: false })
    this.#pending.add(key, 1)
    maConn.addEventListener('close', () => { this.#forget(maConn) }, { once: true })
    return false
  }

  /** Gater: an inbound connection whose peer is known (after encryption). True denies it. */
  denyInboundEncryptedConnection (peerId: PeerId): boolean {
    const n = this.#libp2p?.getConnections(peerId).length ?? 0
    if (n >= this.#init.maxConnectionsPerPeer) {
      this.#stats.refusedPeer++
      log('refused a connection from %p: %d connections from it', peerId, n)
      return true
    }
    return false
  }

  /** Gater: the handshake of an inbound socket is over. */
  denyInboundUpgradedConnection (_peerId: PeerId, maConn: MultiaddrConnection): boolean {
    const s = this.#sockets.get(maConn)
    if (s !== undefined && !s.upgraded) {
      s.upgraded = true
      this.#pending.add(s.key, -1)
      this.#open.add(s.key, 1)
    }
    return false
  }

  /** Start pruning the connections of `libp2p`. */
  start (libp2p: Libp2p): void {
    this.#libp2p = libp2p
    libp2p.addEventListener('connection:open', this.#onOpen)
    libp2p.addEventListener('connection:close', this.#onClose)
    const period = Math.max(100, Math.min(1000, this.#init.idleMs / 4, this.#init.graceMs / 2))
    this.#timer = setInterval(() => { this.#sweep() }, period)
    this.#timer.unref?.()
  }

  stop (): void {
    clearInterval(this.#timer)
    this.#libp2p?.removeEventListener('connection:open', this.#onOpen)
    this.#libp2p?.removeEventListener('connection:close', this.#onClose)
  }

  /** The sockets an address that holds `held` may hold now (see fairShare). */
  #connectionShare (held: number): number {
    const used = (this.#libp2p?.getConnections().length ?? this.#open.total) + this.#pending.total
    const addresses = new Set([...this.#pending.keys(), ...this.#open.keys()]).size + (held === 0 ? 1 : 0)
    return fairShare(used, this.#init.maxConnections - this.#init.reserve, addresses)
  }

  /** The connections an address may hold: fewer while its idle connections keep being closed. */
  #addressLimit (key: string): number {
    const s = this.#strikes.get(key)
    if (s === undefined) return this.#init.maxConnectionsPerAddress
    if (this.#now() - s.since > STRIKE_WINDOW_MS) {
      this.#strikes.delete(key)
      return this.#init.maxConnectionsPerAddress
    }
    return s.count >= STRIKES ? Math.min(this.#init.maxConnectionsPerAddress, this.#init.maxPendingPerAddress) : this.#init.maxConnectionsPerAddress
  }

  #prune (c: Connection, why: 'prunedIdle' | 'prunedPressure'): void {
    this.#stats[why]++
    const key = addressKey(c.remoteAddr)
    if (key !== undefined) {
      const now = this.#now()
      const s = this.#strikes.get(key)
      if (s === undefined || now - s.since > STRIKE_WINDOW_MS) this.#strikes.set(key, { count: 1, since: now })
      else s.count++
    }
    log('closing an idle connection from %p (%a)%s', c.remotePeer, c.remoteAddr, why === 'prunedPressure' ? ' to keep slots free' : '')
    close(c)
  }

  #forget (maConn: MultiaddrConnection): void {
    const s = this.#sockets.get(maConn)
    if (s === undefined) return
    this.#sockets.delete(maConn)
    if (s.upgraded) this.#open.add(s.key, -1)
    else this.#pending.add(s.key, -1)
  }

  /** How long an inbound connection has had no stream, ms (0 if it has one now or is outbound). */
  #idleFor (c: Connection, now: number): number {
    if (c.direction !== 'inbound' || c.status !== 'open') return 0
    if (c.streams.length > 0) {
      this.#busy.set(c.id, now)
      return 0
    }
    return now - (this.#busy.get(c.id) ?? c.timeline.open)
  }

  #sweep (): void {
    const libp2p = this.#libp2p
    if (libp2p === undefined) return
    const now = this.#now()
    for (const c of libp2p.getConnections()) {
      if (this.#idleFor(c, now) >= this.#init.idleMs) this.#prune(c, 'prunedIdle')
    }
    this.#relieve()
  }

  /** Near the limit: close idle inbound connections past their grace, the most crowded address first. */
  #relieve (): void {
    const libp2p = this.#libp2p
    if (libp2p === undefined) return
    const connections = libp2p.getConnections()
    const excess = connections.length - (this.#init.maxConnections - this.#init.reserve)
    if (excess <= 0) return
    const now = this.#now()
    const perAddress = new Counts()
    const idle: Array<{ c: Connection, key: string, idle: number }> = []
    for (const c of connections) {
      const key = addressKey(c.remoteAddr) ?? c.remoteAddr.toString()
      perAddress.add(key, 1)
      const t = this.#idleFor(c, now)
      if (t >= this.#init.graceMs) idle.push({ c, key, idle: t })
    }
    idle.sort((a, b) => perAddress.get(b.key) - perAddress.get(a.key) || b.idle - a.idle)
    for (const { c } of idle.slice(0, excess)) this.#prune(c, 'prunedPressure')
  }
}

/**
 * What one address may hold of a resource of which `used` is taken: no bound below `cap` (the total minus
 * the slots kept free); at or above it, `cap` divided by the `addresses` holding some (the asking one
 * included), at least one.
 */
export function fairShare (used: number, cap: number, addresses: number): number {
  if (used < cap) return Infinity
  return Math.max(1, Math.floor(cap / Math.max(1, addresses)))
}

function close (c: Connection): void {
  c.close({ signal: AbortSignal.timeout(1000) }).catch(err => { c.abort(err as Error) })
}
