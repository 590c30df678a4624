/**
 * The interop contract between the harness and an implementation under test (interop-tests/README.md):
 * environment variables in, JSON lines on stdout, logs on stderr, the exit code as verdict, and a
 * rendezvous for what the two sides tell each other while they run. Shared by the runner and by the
 * TypeScript implementation; an implementation in another language reimplements these few names.
 */

/** Environment variables the harness sets for every process it starts. */
export const ENV = {
  /** "dialer" or "listener". */
  role: 'SW_ROLE',
  /** The scenario id, e.g. "subscribe-receive-n". */
  scenario: 'SW_SCENARIO',
  /** Listener: the multiaddr to listen on (default /ip4/127.0.0.1/tcp/0). */
  listen: 'SW_LISTEN',
  /** Dialer: the listener's multiaddr, ending in /p2p/<peer-id>. */
  peerAddr: 'SW_PEER_ADDR',
  /** Listener: the ports to create, a JSON array of PortLayout. */
  ports: 'SW_PORTS',
  /** Both: scenario parameters, a JSON object. */
  params: 'SW_PARAMS',
  /** Listener: offset added to its clock, µs (integer, default 0). */
  clockOffsetUs: 'SW_CLOCK_OFFSET_US',
  /** Listener: rate error of its clock, ppm (default 0), anchored when the process starts. */
  clockDriftPpm: 'SW_CLOCK_DRIFT_PPM',
  /** Both: host:port of the rendezvous service. */
  rendezvous: 'SW_RENDEZVOUS',
  /** Both: the time the harness allows the whole run, ms. Finish well before it. */
  timeoutMs: 'SW_TIMEOUT_MS',
  /** Both: a label for logs. */
  runId: 'SW_RUN_ID'
} as const

export type Role = 'dialer' | 'listener'

/**
 * Capability names an implementation lists in impls.json. A scenario runs only when the dialer and the
 * listener each list what the scenario requires of its role.
 */
export const FEATURES = [
  'describe', 'subscribe', 'push', 'weighted', 'watermark', 'loss', 'clock', 'playout', 'merge',
  'authorization', 'reconnect', 'close', 'adversary', 'codec'
] as const
export type Feature = typeof FEATURES[number]

/** One port the listener creates (SW_PORTS). */
export interface PortLayout {
  name: string
  direction: 'in' | 'out'
  kind: 'spike' | 'weighted'
  channels: number
  /**
   * Who may subscribe (out) or push (in): "any" peer, only the "dialer" (its PeerId is in the rendezvous
   * under `dialer-peer`), or "none". Default: "any" for out ports, "none" for in ports (spec §11.2).
   */
  allow?: 'any' | 'dialer' | 'none'
}

/** Limits a listener or dialer should apply when SW_PARAMS.limits names them (advisory otherwise). */
export interface LimitsParams {
  max_events?: number
  max_frame_bytes?: number
  queue_events?: number
  stream_window_bytes?: number
  lateness_us?: number
  watermark_interval_ms?: number
}

/** Rendezvous keys every run uses. Scenarios add their own (documented with each scenario). */
export const KEYS = {
  /** Put by the dialer as soon as its node is up: its PeerId (string). */
  dialerPeer: 'dialer-peer',
  /** Put by the listener once it is set up for the scenario (after reading dialer-peer if it needs it). */
  listenerReady: 'listener-ready',
  /** Put by the harness after the dialer exited: {"dialer_exit": code}. The listener then finishes. */
  done: 'done'
} as const

/** Stdout lines. Every line is one JSON object with a "type". */
export interface ListeningLine {
  type: 'listening'
  peer: string
  multiaddrs: string[]
}

export interface StartedLine {
  type: 'started'
  peer: string
}

/** The last line of every process: what it observed. `ok` mirrors its exit code. */
export interface ResultLine {
  type: 'result'
  ok: boolean
  error?: string
  [key: string]: unknown
}

export type StdoutLine = ListeningLine | StartedLine | ResultLine | { type: string, [key: string]: unknown }

/** Exit codes. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unsupported: 3 } as const

export const PROTOCOLS = {
  describe: '/spikewire/describe/1.0.0',
  events: '/spikewire/events/1.0.0',
  clock: '/spikewire/clock/1.0.0'
} as const
