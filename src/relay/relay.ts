/**
 * A spikewire relay (docs/relay.md, spec §4.1.3): a js-libp2p peer (TCP, optionally WebSockets; Noise,
 * Yamux, identify) running the circuit relay v2 server, with
 * - who may reserve (`reservations`) and who may open relayed connections (`connect`), refused at libp2p's
 *   connection gater and counted by reason;
 * - no duration or data limit on relayed connections to the peers of `unlimited` (spike streams run for
 *   hours), libp2p's limits (or the configured ones) for the others;
 * - statistics: reservations held and made, relayed connections open and in total, bytes relayed each way,
 *   refusals by reason (`relay.stats()`, a plain object of counters);
 * - the directory protocol (spec §9.4, directory.ts) when `list` is true.
 *
 * The per-peer limits and the relayed byte counts need hooks the server does not offer: this module wraps
 * three of its methods (reservationStore.reserve, handleConnect, stopHop) and refuses to start when they are
 * missing, so a libp2p upgrade that renames them fails loudly (test/relay/relay.test.ts checks the counts).
 */
import { SpikewireError } from '../codec/index.ts'
import { createLibp2p } from 'libp2p'
import type { Libp2pOptions } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Libp2p, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import { isAllowed } from '../ports/acl.ts'
import { resolveKey } from '../node/identity.ts'
import { DEFAULTS } from '../wire/defaults.ts'
import { circuitAddress, isRelayed } from '../wire/relay-dial.ts'
import { RELAY } from './config.ts'
import type { RelayConfig } from './config.ts'
import { DirectoryServer } from './directory.ts'
import type { DirectoryStats } from './directory.ts'

const log = logger('spikewire:relay')

/** What a relay counts (relay.stats()); every number only grows except the `…Open`/`held` gauges. */
export interface RelayStats {
  peer: string
  reservations: {
    /** Reservations held now. */
    held: number
    /** New reservations granted. */
    made: number
    /** Reservations refreshed by their holder. */
    refreshed: number
  }
  relayed: {
    /** Relayed connections open now. */
    open: number
    /** Relayed connections opened in total. */
    total: number
    /** Bytes relayed from the dialling peer to the peer holding the reservation. */
    bytesToReserved: number
    /** Bytes relayed from the peer holding the reservation back to the dialling peer. */
    bytesFromReserved: number
    /** Relayed connections cut by a limit (duration or data) — only peers outside `unlimited` have one. */
    limited: number
  }
  refusals: {
    /** Reservation requests from peers not in `reservations`. */
    reservationNotAllowed: number
    /** Reservation requests refused because `maxReservations` are held. */
    reservationsFull: number
    /** Relayed connections refused: the dialling peer is not in `connect`. */
    connectNotAllowed: number
    /** Relayed connections refused: the peer asked for holds no reservation. */
    noReservation: number
  }
  directory: DirectoryStats
}

export interface RelayOptions {
  privateKey?: PrivateKey
  /** libp2p's own metrics (src/metrics/libp2p.ts), passed to createLibp2p. */
  libp2pMetrics?: Libp2pOptions['metrics']
}

type Limit = { duration?: number, data?: bigint }
interface ReservationEntry { limit?: Limit }

/** The parts of the circuit relay server this module wraps (see the header). */
interface ServerInternals {
  reservationStore: {
    reserve: (peer: PeerId, addr: unknown, limit?: Limit) => { status: number, expire?: number }
    get: (peer: PeerId) => ReservationEntry | undefined
    reservations: Map<PeerId, ReservationEntry> & { size: number }
  }
  handleConnect: (args: { stream: { unwrap: () => Stream }, request: { peer?: { id: Uint8Array } }, connection: unknown }, options: unknown) => Promise<void>
  stopHop: (args: unknown, options: unknown) => Promise<Stream | undefined>
}

export class Relay {
  readonly libp2p: Libp2p
  readonly config: RelayConfig
  readonly #server: CircuitRelayService
  readonly #directory: DirectoryServer | undefined
  readonly #counts = {
    made: 0,
    refreshed: 0,
    open: 0,
    total: 0,
    bytesToReserved: 0,
    bytesFromReserved: 0,
    limited: 0,
    reservationNotAllowed: 0,
    reservationsFull: 0,
    connectNotAllowed: 0,
    noReservation: 0
  }

  constructor (libp2p: Libp2p, config: RelayConfig) {
    this.libp2p = libp2p
    this.config = config
    this.#server = (libp2p.services as { relay: CircuitRelayService }).relay
    this.#wrap(this.#server as unknown as ServerInternals)
    this.#directory = config.list === true
      ? new DirectoryServer(libp2p, {
        maxListed: config.maxListed ?? RELAY.maxListed.default,
        mayList: peer => this.#holdsOrMayConnect(peer),
        listed: () => this.listed()
      })
      : undefined
  }

  get peerId (): string {
    return this.libp2p.peerId.toString()
  }

  /** The relay's addresses, each ending in /p2p/RELAY: what nodes put in `relays`. */
  get multiaddrs (): string[] {
    return this.libp2p.getMultiaddrs().map(String)
  }

  async start (): Promise<void> {
    await this.#directory?.start()
  }

  /** The peers holding a reservation, with their addresses through this relay (what the directory lists). */
  listed (): Array<{ peer: string, addrs: string[] }> {
    const relayAddrs = this.libp2p.getMultiaddrs().filter(a => !isRelayed(a))
    return [...this.#server.reservations.keys()].map(peer => ({
      peer: peer.toString(),
      addrs: relayAddrs.map(a => circuitAddress(a, peer).toString())
    }))
  }

  stats (): RelayStats {
    const c = this.#counts
    return {
      peer: this.peerId,
      reservations: { held: this.#server.reservations.size, made: c.made, refreshed: c.refreshed },
      relayed: { open: c.open, total: c.total, bytesToReserved: c.bytesToReserved, bytesFromReserved: c.bytesFromReserved, limited: c.limited },
      refusals: { reservationNotAllowed: c.reservationNotAllowed, reservationsFull: c.reservationsFull, connectNotAllowed: c.connectNotAllowed, noReservation: c.noReservation },
      directory: this.#directory?.stats() ?? { requests: 0, answered: 0, refused: 0, invalid: 0 }
    }
  }

  async stop (): Promise<void> {
    await this.#directory?.stop()
    await this.libp2p.stop()
    log('relay %s stopped', this.peerId)
  }

  /** The gate of the connection gater: reservations (true denies). */
  denyReservation (peer: PeerId): boolean {
    const id = peer.toString()
    if (!isAllowed(this.config.reservations, id, false)) {
      this.#counts.reservationNotAllowed++
      log('refused a reservation for %s: not in reservations', id)
      return true
    }
    const held = this.#server.reservations
    if (held.size >= (this.config.maxReservations ?? RELAY.maxReservations.default) && !held.has(peer)) {
      // The server refuses it (RESERVATION_REFUSED); counted here, where the reason is known.
      this.#counts.reservationsFull++
      log('a reservation for %s will be refused: %d held', id, held.size)
    }
    return false
  }

  /** The gate of the connection gater: relayed connections from `src` to `dst` (true denies). */
  denyConnect (src: PeerId): boolean {
    if (isAllowed(this.config.connect, src.toString(), true)) return false
    this.#counts.connectNotAllowed++
    log('refused a relayed connection from %s: not in connect', src.toString())
    return true
  }

  #holdsOrMayConnect (peer: string): boolean {
    return this.#server.reservations.has(peerIdFromString(peer)) || isAllowed(this.config.connect, peer, true)
  }

  #unlimited (peer: string): boolean {
    return isAllowed(this.config.unlimited ?? this.config.reservations, peer, false)
  }

  /** The limit of a reservation held by a peer outside `unlimited`; `{}` (none) for the others. */
  #limitFor (peer: string): Limit {
    if (this.#unlimited(peer)) return {}
    const durationMs = this.config.limits?.durationMs ?? RELAY.durationMs.default
    const dataBytes = this.config.limits?.dataBytes ?? RELAY.dataBytes.default
    return {
      ...(durationMs === 0 ? {} : { duration: durationMs }),
      ...(dataBytes === 0 ? {} : { data: BigInt(dataBytes) })
    }
  }

  #wrap (server: ServerInternals): void {
    const store = server.reservationStore
    if (typeof store?.reserve !== 'function' || typeof server.handleConnect !== 'function' || typeof server.stopHop !== 'function') {
      throw new SpikewireError('internal-error', 'this version of @libp2p/circuit-relay-v2 has no reservationStore.reserve, handleConnect or stopHop: the relay cannot set per-peer limits or count relayed bytes')
    }
    const c = this.#counts
    const reserve = store.reserve.bind(store)
    store.reserve = (peer, addr) => {
      const had = store.get(peer) !== undefined
      const result = reserve(peer, addr, this.#limitFor(peer.toString()))
      // protons enums are strings ('OK'); the wire value of OK is 100.
      if ((result.status as unknown) === 'OK' || result.status === 100) {
        if (had) c.refreshed++
        else c.made++
      }
      return result
    }
    const handleConnect = server.handleConnect.bind(server)
    server.handleConnect = async (args, options) => {
      const id = args.request.peer?.id
      // The request names the peer by its multihash bytes; PeerId.equals compares those.
      if (id !== undefined && ![...store.reservations.keys()].some(p => p.equals(id))) c.noReservation++
      await handleConnect(args, options)
      // The hop request has been answered. When the connection is relayed, the server has unwrapped the
      // stream already (unwrap() then returns the same stream): what the dialling peer sends from now on is
      // relayed. Unwrapping before the server has read the request would break it.
      const src = args.stream.unwrap()
      if (src.status === 'open') src.addEventListener('message', (evt: Event) => { c.bytesToReserved += byteLengthOf(evt) })
    }
    const stopHop = server.stopHop.bind(server)
    server.stopHop = async (args, options) => {
      const dst = await stopHop(args, options)
      if (dst !== undefined) {
        c.open++
        c.total++
        dst.addEventListener('message', (evt: Event) => { c.bytesFromReserved += byteLengthOf(evt) })
        dst.addEventListener('close', (evt: Event) => {
          c.open--
          const name = (evt as Event & { error?: Error }).error?.name
          if (name === 'DurationLimitError' || name === 'TransferLimitError') c.limited++
        }, { once: true })
      }
      return dst
    }
  }
}

/** The size of a stream 'message' event's data (a Uint8Array or Uint8ArrayList). */
function byteLengthOf (evt: Event): number {
  return (evt as Event & { data?: { byteLength?: number } }).data?.byteLength ?? 0
}

/** Create and start a relay from a validated config (parseRelayConfig / loadRelayConfig). */
export async function createRelay (config: RelayConfig, options: RelayOptions = {}): Promise<Relay> {
  const privateKey = await resolveKey({ privateKey: options.privateKey, identity: config.identity, onCreated: path => { log('created a new identity in %s', path) } })
  const listen = config.listen ?? [...RELAY.listen]
  const ws = listen.some(a => a.endsWith('/ws'))
  let relay: Relay | undefined
  const maxRelayed = config.maxRelayedConnections ?? RELAY.maxRelayedConnections.default
  const libp2p = await createLibp2p({
    privateKey,
    ...(options.libp2pMetrics === undefined ? {} : { metrics: options.libp2pMetrics }),
    addresses: { listen },
    transports: ws ? [tcp(), webSockets()] : [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ streamOptions: { maxWriteBufferLength: DEFAULTS.maxStreamWriteBufferBytes } })],
    connectionGater: {
      denyInboundRelayReservation: peer => relay?.denyReservation(peer) ?? true,
      denyOutboundRelayedConnection: (src) => relay?.denyConnect(src) ?? true
    },
    connectionManager: {
      inboundConnectionThreshold: DEFAULTS.inboundConnectionThreshold,
      maxConnections: config.maxConnections ?? RELAY.maxConnections.default
    },
    services: {
      identify: identify(),
      relay: circuitRelayServer({
        maxInboundHopStreams: maxRelayed,
        maxOutboundStopStreams: maxRelayed,
        reservations: {
          maxReservations: config.maxReservations ?? RELAY.maxReservations.default,
          reservationTtl: config.reservationTtlMs ?? RELAY.reservationTtlMs.default,
          // Limits are set per reservation (Relay#limitFor); this default only applies when none is given.
          applyDefaultLimit: true
        }
      })
    }
  })
  try {
    relay = new Relay(libp2p, config)
    await relay.start()
  } catch (err) {
    await libp2p.stop()
    throw err
  }
  log('relay %s started as %s on %s', config.name ?? 'relay', relay.peerId, relay.multiaddrs.join(', '))
  return relay
}
