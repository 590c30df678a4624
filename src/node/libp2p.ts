/**
 * The libp2p peer under a node: TCP (and WebSockets, optional), Noise, Yamux, the allow list at the gate, and the connection limits
 * (spec §11.4): libp2p's own (connections in total, handshakes in progress in total, the handshake
 * deadline, new connections per second from one address) and the connection guard's (per address, per
 * peer, idle pruning).
 */
import { createLibp2p } from 'libp2p'
import type { Libp2pOptions } from 'libp2p'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { isAllowed } from '../ports/acl.ts'
import { DEFAULTS, LIMITS } from '../wire/defaults.ts'
import { ConnectionGuard } from './connection-guard.ts'
import type { ConnectionGuardStats } from './connection-guard.ts'
import type { NodeInit } from './init.ts'
import { checkListen, transports } from './transports.ts'
import { SpikewireMdns, mdnsOptions } from './discovery.ts'
import { captureRelayTransport, claimRelayTransport } from './relay-client.ts'
import type { RelayCapture } from './relay-client.ts'

export interface PeerInit {
  privateKey?: PrivateKey
  /** Called for every peer refused at the gate (not in `allow`). */
  onRefused: (peer: string) => void
  /** libp2p's metrics component (the metrics layer's Prometheus registry), none by default. */
  metrics?: Libp2pOptions['metrics']
}

const guards = new WeakMap<Libp2p, ConnectionGuard>()
const discoveries = new WeakMap<Libp2p, SpikewireMdns>()

/** The mDNS discovery of a peer made by `createPeer`, when its init turned it on. */
export function discoveryOf (libp2p: Libp2p): SpikewireMdns | undefined {
  return discoveries.get(libp2p)
}

/** What the connection guard of a peer made by `createPeer` refused and pruned so far. */
export function connectionStats (libp2p: Libp2p): ConnectionGuardStats | undefined {
  return guards.get(libp2p)?.stats()
}

export async function createPeer (init: NodeInit, peer: PeerInit): Promise<Libp2p> {
  const limits = init.limits ?? {}
  const maxConnections = limits.maxConnections ?? LIMITS.maxConnections.default
  const guard = new ConnectionGuard({
    maxPendingPerAddress: limits.maxPendingPerAddress ?? LIMITS.maxPendingPerAddress.default,
    maxConnectionsPerAddress: limits.maxConnectionsPerAddress ?? LIMITS.maxConnectionsPerAddress.default,
    maxConnectionsPerPeer: limits.maxConnectionsPerPeer ?? LIMITS.maxConnectionsPerPeer.default,
    maxConnections,
    idleMs: limits.idleConnectionMs ?? LIMITS.idleConnectionMs.default,
    reserve: Math.floor(maxConnections * DEFAULTS.connectionReserve),
    maxPending: DEFAULTS.maxIncomingPendingConnections,
    pendingReserve: Math.floor(DEFAULTS.maxIncomingPendingConnections * DEFAULTS.connectionReserve),
    graceMs: DEFAULTS.connectionGraceMs
  })
  const listen = init.listen ?? [...DEFAULTS.listen]
  checkListen(listen)
  const mdns = mdnsOptions(init.discovery)
  let discovery: SpikewireMdns | undefined
  const relayCapture: RelayCapture = {}
  const libp2p = await createLibp2p({
    privateKey: peer.privateKey,
    ...(peer.metrics === undefined ? {} : { metrics: peer.metrics }),
    addresses: { listen },
    // TCP and WebSockets (transports.ts), and circuit relay v2 (spec §4.1.3): dialling /p2p-circuit addresses,
    // and the reservations of NodeInit.relays (relay-client.ts). It needs identify.
    transports: [...transports(), captureRelayTransport(circuitRelayTransport({ reservationCompletionTimeout: DEFAULTS.relayReserveTimeoutMs }), relayCapture)],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({
      streamOptions: {
        maxStreamWindowSize: limits.streamWindowBytes ?? LIMITS.streamWindowBytes.default,
        // Unset, a stream whose remote does not read would buffer without bound (every writer here honours
        // send()'s backpressure; this is the backstop for one that does not).
        maxWriteBufferLength: DEFAULTS.maxStreamWriteBufferBytes
      }
    })],
    connectionGater: {
      denyInboundConnection: maConn => guard.denyInboundConnection(maConn),
      denyInboundEncryptedConnection: (peerId) => {
        const id = peerId.toString()
        if (!isAllowed(init.allow, id, true)) {
          peer.onRefused(id)
          return true
        }
        return guard.denyInboundEncryptedConnection(peerId)
      },
      denyInboundUpgradedConnection: (peerId, maConn) => guard.denyInboundUpgradedConnection(peerId, maConn)
    },
    // The circuit relay transport needs identify. Run on every new connection, identify puts the remote's
    // listen addresses into the peer store, and a later dial by PeerId alone (clock sync, a reconnect) then
    // goes to them instead of the address the application gave (through a proxy, a tunnel, a gateway): only
    // a node with relays runs it on its own; every node answers it.
    services: { identify: identify({ runOnConnectionOpen: (init.relays?.length ?? 0) > 0 }) },
    connectionManager: {
      inboundConnectionThreshold: DEFAULTS.inboundConnectionThreshold,
      maxIncomingPendingConnections: DEFAULTS.maxIncomingPendingConnections,
      inboundUpgradeTimeout: limits.handshakeTimeoutMs ?? LIMITS.handshakeTimeoutMs.default,
      maxConnections
    },
    peerDiscovery: mdns === undefined ? [] : [components => (discovery = new SpikewireMdns(components, mdns))]
  })
  claimRelayTransport(libp2p, relayCapture)
  guard.start(libp2p)
  libp2p.addEventListener('stop', () => { guard.stop() }, { once: true })
  guards.set(libp2p, guard)
  if (discovery !== undefined) discoveries.set(libp2p, discovery)
  return libp2p
}
