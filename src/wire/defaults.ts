/**
 * Every default of the reference implementation, in one place: read by the components that apply them
 * (`init.x ?? DEFAULTS.x`) and by the config validator, which also takes each tunable's range from here.
 * Values fixed by the spec are the codec's constants (src/codec/constants.ts) and are only referred to.
 */
import { DEFAULT_MAX_EVENTS, DEFAULT_MAX_FRAME_BYTES, DESCRIBE_TIMEOUT_MS, MIN_MAX_EVENTS, OPEN_TIMEOUT_MS } from '../codec/index.ts'

/** A tunable with its default and the range a config may set it to. */
export interface Tunable {
  readonly default: number
  readonly min: number
  readonly max: number
}

/** Node limits (`config.limits`): what one node accepts from its peers. */
export const LIMITS = {
  /** Largest frame accepted, bytes (spec §5: at least 1 MiB). */
  maxFrameBytes: { default: DEFAULT_MAX_FRAME_BYTES, min: DEFAULT_MAX_FRAME_BYTES, max: 64 * 1024 * 1024 },
  /** Per-batch receive limit announced in accept (spec §8.6: at least 4096). */
  maxEvents: { default: DEFAULT_MAX_EVENTS, min: MIN_MAX_EVENTS, max: 1 << 20 },
  /** Most concurrent streams on one port. */
  maxStreamsPerPort: { default: 64, min: 1, max: 4096 },
  /**
   * Most concurrent events streams one peer may hold on this node, all ports and connections together
   * (spec §11.4): one peer cannot take every slot of a port. Opens beyond it get reject{too-many-streams}.
   */
  maxStreamsPerPeer: { default: 16, min: 1, max: 4096 },
  /**
   * Most concurrent describe streams one peer may hold on this node, all connections together (spec §11.4).
   * One more is answered with close{too-many-streams}.
   */
  maxDescribeStreamsPerPeer: { default: 8, min: 1, max: 1024 },
  /**
   * Most concurrent clock streams one peer may hold on this node, all connections together (spec §11.4); a
   * clock sync uses one. One more is answered with close{too-many-streams}.
   */
  maxClockStreamsPerPeer: { default: 4, min: 1, max: 1024 },
  /** Most events one stream's sender holds while the stream is congested. */
  queueEvents: { default: 262_144, min: 1, max: 1 << 26 },
  /** A stream that has not drained for this long fails with slow-consumer, ms. */
  slowConsumerMs: { default: 10_000, min: 10, max: 3_600_000 },
  /** An acceptor waits this long for open, ms (spec §9.2.2). */
  openTimeoutMs: { default: OPEN_TIMEOUT_MS, min: 10, max: 600_000 },
  /** Most open connections. */
  maxConnections: { default: 256, min: 1, max: 100_000 },
  /** Most connections from one peer (spec §11.4); further inbound ones are refused after the handshake. */
  maxConnectionsPerPeer: { default: 4, min: 1, max: 1024 },
  /**
   * Most inbound connections from one network address (an IPv4 address, an IPv6 /64), handshakes in
   * progress included (spec §11.4): further sockets are closed before any handshake.
   */
  maxConnectionsPerAddress: { default: 64, min: 1, max: 100_000 },
  /** Most inbound handshakes in progress from one network address (the node's total is 64). */
  maxPendingPerAddress: { default: 8, min: 1, max: 1024 },
  /** An inbound connection must finish its handshake (encryption and multiplexer) within this, ms. */
  handshakeTimeoutMs: { default: 3000, min: 100, max: 60_000 },
  /**
   * An inbound connection without any stream for this long is closed, ms. When the node nears
   * `maxConnections`, idle inbound connections are closed sooner (see DEFAULTS.connectionReserve).
   */
  idleConnectionMs: { default: 30_000, min: 1000, max: 3_600_000 },
  /** Largest yamux receive window per stream, bytes. */
  streamWindowBytes: { default: 16 * 1024 * 1024, min: 256 * 1024, max: 16 * 1024 * 1024 },
  /**
   * Most bytes one stream's sender holds while the stream is congested (with `queueEvents`, whichever is
   * reached first): beyond it the sender drops and reports a loss (spec §9.2.9).
   */
  queueBytes: { default: 8 * 1024 * 1024, min: 64 * 1024, max: 1024 * 1024 * 1024 },
  /**
   * Most bytes of received batches an `in` port holds for its application (with DEFAULTS.inboxCapacity
   * batches). With a reader attached, a full inbox pauses its streams; with none, the oldest batches are
   * dropped and counted.
   */
  inboxBytes: { default: 16 * 1024 * 1024, min: 64 * 1024, max: 1024 * 1024 * 1024 },
  /** A clock stream that brings no request and gets no answer for this long is closed with timeout, ms. */
  clockIdleMs: { default: 20_000, min: 100, max: 3_600_000 },
  /** Clock requests answered per second, per peer (spec §9.3.1: beyond it the answers are delayed). */
  clockRequestsPerSecond: { default: 100, min: 1, max: 100_000 },
  /** Clock requests a peer may send at once before the rate applies (a burst of probes). */
  clockBurst: { default: 32, min: 1, max: 65_536 }
} as const satisfies Record<string, Tunable>

/** Batching and watermarks of `out` ports (top-level config fields). */
export const OUT_PORT = {
  /** Watermark period while idle, ms. */
  watermarkIntervalMs: { default: 100, min: 1, max: 60_000 },
  /** Largest batch a port builds (the smallest limit a receiver may announce). */
  maxBatchEvents: { default: MIN_MAX_EVENTS, min: 1, max: DEFAULT_MAX_EVENTS },
  /** How far behind the clock an event may still be emitted, µs. */
  latenessUs: { default: 1000, min: 0, max: 60_000_000 },
  /**
   * Under load a port flushes at most once per this interval, µs (0: every event-loop turn); an event
   * waits at most this long for its batch. Low rates are not delayed.
   */
  flushIntervalUs: { default: 2000, min: 0, max: 1_000_000 }
} as const satisfies Record<string, Tunable>

/** Defaults of the wire engine and the protocols that are not config fields. */
export const DEFAULTS = {
  /**
   * Sends per second (one per attached stream per flush) an out port may make for events that leave at once
   * inside emit(); beyond it, flushes wait for `flushIntervalUs`. One subscriber at 1,000 events/s stays
   * below it and is never delayed; 16 subscribers at that rate coalesce.
   */
  immediateSendsPerSecond: 8000,
  /** Most bytes written in one send when a sender's queue drains. */
  maxWriteBytes: 256 * 1024,
  /** Batches an inbox holds for a slow async iterator before its streams are paused. */
  inboxCapacity: 1024,
  /**
   * Bytes a stream may hold in libp2p's write buffer (the muxer's per-stream `maxWriteBufferLength`, unset
   * it is unbounded): beyond it the stream is reset. Every writer here stops at `send() === false`, so only
   * a writer that ignores backpressure reaches it.
   */
  maxStreamWriteBufferBytes: 4 * 1024 * 1024,
  /** Clock requests read but not answered yet, per stream, before the server stops reading it. */
  clockPendingRequests: 64,
  /** A describe exchange must finish within this, ms (spec §9.1). */
  describeTimeoutMs: DESCRIBE_TIMEOUT_MS,
  /** Deadline of one reservation on a relay (dial, reserve), ms. */
  relayReserveTimeoutMs: 10_000,
  /** How often a node checks that it still holds its reservation on each relay, ms. */
  relayCheckMs: 2000,
  /** First wait before reserving again on a relay that is down or refuses, ms (doubling up to relayRetryMaxMs). */
  relayRetryInitialMs: 250,
  /** Longest wait between attempts to reserve on a relay that is down or refuses, ms. */
  relayRetryMaxMs: 30_000,
  /** How long a direct dial may take before it is given up for the relays, ms (when relays are registered). */
  relayHeadStartMs: 4000,
  /** Addresses a node listens on when the config names none. */
  listen: ['/ip4/127.0.0.1/tcp/0'] as readonly string[],
  /** Inbound streams per connection, per protocol. */
  maxInboundStreams: { events: 256, describe: 8, clock: 4 },
  /** Connections that may be mid-handshake at once. */
  maxIncomingPendingConnections: 64,
  /**
   * Connection slots kept free for newcomers, as a fraction of `maxConnections` (as many as the handshakes that
   * may be in progress at once, by default): once fewer are free, idle
   * inbound connections (no stream for `connectionGraceMs`) are closed, the most crowded address first, and
   * an address gets a new socket only below its fair share of the other slots. The same fraction of
   * `maxIncomingPendingConnections` is kept free of handshakes the same way.
   */
  connectionReserve: 0.25,
  /** A new inbound connection counts as idle only after this, ms (time to open its first stream). */
  connectionGraceMs: 2000,
  /** New inbound connections per second from one address (libp2p's default of 5 is too few for a lab). */
  inboundConnectionThreshold: 1000,
  /** In ports: senders whose one-way latency is tracked (further senders are not tracked). */
  maxLatencyStreams: 1024,
  /** Playout through a delivery thread: hand-over lead before the due time, µs. */
  threadLeadUs: 10_000,
  /** Stopping: clock syncs, then streams, then libp2p, each bounded, ms. */
  stopClocksMs: 3000,
  stopStreamsMs: 5000,
  /**
   * Stopping: each events stream the node sends on gets this long to send what is queued for it before its
   * close{shutdown} (spec §9.2.10); one that has not drained by then is reset, ms.
   */
  stopFlushMs: 2000,
  /** Stopping: the relay client (its reservation loops) gets this long, ms. */
  stopRelaysMs: 3000,
  stopLibp2pMs: 5000
} as const
