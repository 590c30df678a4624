/**
 * The relay's config file (`spikewire relay --config FILE`, docs/relay.md): where it listens, its identity,
 * who may hold a reservation, who may open relayed connections, whose relayed connections carry no limits,
 * the limits for the others, and whether it lists its peers (the directory, spec §9.4). `parseRelayConfig`
 * names the broken field like the node config does (`relay.…`); the JSON Schema is config-schema.ts.
 */
import { dirname, resolve } from 'node:path'
import { readConfigJson } from '../hosting/config.ts'
import { fail, known, obj, peerList, str, tunable } from '../hosting/validate.ts'
import type { PeerList } from '../ports/acl.ts'

/** Ranges and defaults, read by the validator, the schema and the relay alike. */
export const RELAY = {
  listen: ['/ip4/0.0.0.0/tcp/4020'] as readonly string[],
  /** Reservations held at once (libp2p's default is 15). */
  maxReservations: { default: 128, min: 1, max: 100_000 },
  /** A reservation lasts this long unless refreshed (nodes refresh before it ends), ms. */
  reservationTtlMs: { default: 2 * 60 * 60 * 1000, min: 10_000, max: 7 * 24 * 60 * 60 * 1000 },
  /** Relayed connections open at once (one stop stream each). */
  maxRelayedConnections: { default: 1024, min: 1, max: 100_000 },
  /** Connections of the relay's libp2p peer in total. */
  maxConnections: { default: 1024, min: 16, max: 100_000 },
  /**
   * Limits of a relayed connection to a peer not in `unlimited`: libp2p's defaults (2 minutes, 128 KiB);
   * 0 turns a limit off.
   */
  durationMs: { default: 2 * 60 * 1000, min: 0, max: 2 ** 31 - 1 },
  dataBytes: { default: 128 * 1024, min: 0, max: Number.MAX_SAFE_INTEGER },
  /** Most peers a directory answer lists (spec §9.4). */
  maxListed: { default: 256, min: 1, max: 1024 }
} as const

export interface RelayLimitsConfig {
  /** Longest relayed connection to a peer not in `unlimited`, ms (0: none). */
  durationMs?: number
  /** Most bytes (both ways together) of a relayed connection to a peer not in `unlimited` (0: none). */
  dataBytes?: number
}

export interface RelayConfig {
  /** A name for logs and the start line (default "relay"). */
  name?: string
  /** Listen multiaddrs: TCP, and /ws addresses for WebSockets. */
  listen?: string[]
  /** Key file path (the `spikewire keygen` format); created when missing. Without it, a new PeerId each start. */
  identity?: string
  /** Peers that may hold a reservation, and so be reached through the relay. Required: "*" opens the relay to every peer. */
  reservations: PeerList
  /** Peers that may open a relayed connection to a peer holding a reservation (default "*"). */
  connect?: PeerList
  /**
   * Peers whose relayed connections carry no duration or data limit (default: `reservations`, so a relay that
   * names its peers streams for them without limits). Relayed connections to any other peer get `limits`.
   */
  unlimited?: PeerList
  limits?: RelayLimitsConfig
  maxReservations?: number
  reservationTtlMs?: number
  maxRelayedConnections?: number
  maxConnections?: number
  /** Answer the directory protocol (spec §9.4): who holds a reservation and their relayed addresses (default false). */
  list?: boolean
  /** Most peers one directory answer lists (default 256, at most 1024). */
  maxListed?: number
}

/** Most PeerIds one allow list of a relay config may name. */
export const MAX_PEER_LIST = 100_000

const FIELDS = ['name', 'listen', 'identity', 'reservations', 'connect', 'unlimited', 'limits', 'maxReservations', 'reservationTtlMs', 'maxRelayedConnections', 'maxConnections', 'list', 'maxListed']

/** Validate a relay config object (e.g. parsed JSON). */
export function parseRelayConfig (v: unknown): RelayConfig {
  const o = obj(v, 'relay')
  known(o, 'relay', FIELDS)
  if (o.reservations === undefined) fail('relay.reservations', 'is required: "*" (every peer) or an array of PeerIds')
  const c: RelayConfig = { reservations: peerList(o.reservations, 'relay.reservations', MAX_PEER_LIST) }
  if (o.name !== undefined) c.name = str(o.name, 'relay.name')
  if (o.listen !== undefined) {
    if (!Array.isArray(o.listen) || o.listen.length === 0 || o.listen.length > 16) fail('relay.listen', 'must be an array of 1 to 16 multiaddr strings')
    c.listen = o.listen.map((a, i) => str(a, `relay.listen[${i}]`, /^\/(ip4|ip6|dns|dns4|dns6)\/[^/]+\/tcp\/\d+(\/ws)?$/))
  }
  if (o.identity !== undefined) c.identity = str(o.identity, 'relay.identity')
  if (o.connect !== undefined) c.connect = peerList(o.connect, 'relay.connect', MAX_PEER_LIST)
  if (o.unlimited !== undefined) c.unlimited = peerList(o.unlimited, 'relay.unlimited', MAX_PEER_LIST)
  if (o.limits !== undefined) {
    const l = obj(o.limits, 'relay.limits')
    known(l, 'relay.limits', ['durationMs', 'dataBytes'])
    c.limits = {}
    if (l.durationMs !== undefined) c.limits.durationMs = tunable(l.durationMs, 'relay.limits.durationMs', RELAY.durationMs)
    if (l.dataBytes !== undefined) c.limits.dataBytes = tunable(l.dataBytes, 'relay.limits.dataBytes', RELAY.dataBytes)
  }
  for (const k of ['maxReservations', 'reservationTtlMs', 'maxRelayedConnections', 'maxConnections', 'maxListed'] as const) {
    if (o[k] !== undefined) c[k] = tunable(o[k], `relay.${k}`, RELAY[k])
  }
  if (o.list !== undefined) {
    if (typeof o.list !== 'boolean') fail('relay.list', 'must be true or false')
    c.list = o.list
  }
  return c
}

/** Read and validate a relay config file; the identity path is resolved against the file's folder. */
export async function loadRelayConfig (path: string): Promise<RelayConfig> {
  const c = parseRelayConfig(await readConfigJson(path))
  if (c.identity !== undefined) c.identity = resolve(dirname(path), c.identity)
  return c
}
