/**
 * What a node is made from: its name, addresses, identity, who may connect, its plain ports and its
 * limits. Models, sources, links and subscriptions are the hosting layer's (src/hosting/config.ts).
 */
import type { DirectionName, KindName, ModelInfo } from '../codec/index.ts'
import type { PeerList } from '../ports/acl.ts'
import type { DiscoveryConfig } from './discovery.ts'

export interface LimitsConfig {
  maxFrameBytes?: number
  maxEvents?: number
  maxStreamsPerPort?: number
  /** Events streams one peer may hold, all ports together (default 16). */
  maxStreamsPerPeer?: number
  /** Describe streams one peer may hold at once (default 8). */
  maxDescribeStreamsPerPeer?: number
  /** Clock streams one peer may hold at once (default 4). */
  maxClockStreamsPerPeer?: number
  queueEvents?: number
  slowConsumerMs?: number
  openTimeoutMs?: number
  maxConnections?: number
  /** Connections from one peer (default 4). */
  maxConnectionsPerPeer?: number
  /** Inbound connections from one address, handshakes included (default 64). */
  maxConnectionsPerAddress?: number
  /** Inbound handshakes in progress from one address (default 8). */
  maxPendingPerAddress?: number
  /** Deadline of an inbound handshake, ms (default 3000). */
  handshakeTimeoutMs?: number
  /** An inbound connection without streams for this long is closed, ms (default 30,000). */
  idleConnectionMs?: number
  /** Largest yamux receive window per stream, bytes (256 KiB to 16 MiB, default 16 MiB). */
  streamWindowBytes?: number
  /** Most bytes one stream's sender queues while congested (default 8 MiB). */
  queueBytes?: number
  /** Most bytes of batches an in port holds for its application (default 16 MiB). */
  inboxBytes?: number
  /** Clock streams idle for this long are closed with timeout, ms (default 20,000). */
  clockIdleMs?: number
  /** Clock requests answered per second per peer (default 100); beyond it answers are delayed. */
  clockRequestsPerSecond?: number
  /** Clock requests a peer may send at once before the rate applies (default 32). */
  clockBurst?: number
}

/** A port as the node sees it: name, direction, shape and who may use it. */
export interface PlainPortConfig {
  name: string
  direction: DirectionName
  kind?: KindName
  channels: number
  /** out ports: peers allowed to subscribe (default "*": every peer allowed to connect). */
  subscribe?: PeerList
  /** in ports: peers allowed to push (default none). */
  push?: PeerList
  model?: ModelInfo
}

export interface NodeInit {
  name: string
  role?: string
  listen?: string[]
  /** Key file path; created when missing. */
  identity?: string
  /** Peers allowed to connect at all (default "*"). */
  allow?: PeerList
  ports?: PlainPortConfig[]
  model?: ModelInfo
  limits?: LimitsConfig
  watermarkIntervalMs?: number
  maxBatchEvents?: number
  latenessUs?: number
  /** Out ports flush at most once per this interval under load, µs (default 2000; 0: every event-loop turn). */
  flushIntervalUs?: number
  /** Discovery on the LAN (default off): `{ mdns: true }` announces this node and listens (src/node/discovery.ts). */
  discovery?: DiscoveryConfig
  /**
   * Circuit relays (multiaddrs ending in /p2p/RELAY, spec §4.1.3): the node reserves a slot on each, advertises
   * its /p2p-circuit address through it, and dials peers through them when a direct dial fails.
   */
  relays?: string[]
}
