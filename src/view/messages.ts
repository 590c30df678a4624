/**
 * What the page (page.ts, the main thread) and its worker (worker.ts: the libp2p peer) say to each other.
 * The page asks for new events once per animation frame (`pull`); the worker answers with one `data`
 * message that carries every port's events since the last answer as transferred typed arrays, and the
 * counts, latency and clock as they stand. So the main thread handles at most one message per frame,
 * whatever the event rate, and the network's many small messages never compete with drawing. No DOM.
 */
import type { Description, PortInfo } from '../codec/index.ts'
import type { ViewConfig } from './config.ts'

export type ToWorker =
  | { type: 'start', config: ViewConfig }
  | { type: 'pull' }
  | { type: 'close' }

/** One port's counts as the worker holds them, and its events new since the previous `data`. */
export interface PortData {
  /** The subscription's state, with the error code when it closed or retries after one. */
  state: string
  /** Batches the worker received so far (its events are the page's count: every one is handed over or skipped). */
  batches: number
  gaps: number
  losses: number
  connects: number
  latencyP50Us: number | null
  latencyP99Us: number | null
  /** New events the worker did not keep for the page (more than a ring's worth piled up between pulls). */
  skipped: number
  /** The new events kept: count, the node's times (µs), the same times in the local clock, channels. */
  count: number
  times: Float64Array
  locals: Float64Array
  channels: Uint32Array
}

export type FromWorker =
  | { type: 'open', description: Description & { peer: string }, ports: PortInfo[] }
  | { type: 'error', error: string }
  | { type: 'data', ports: PortData[], clock?: { offsetUs: number | null, uncertaintyUs: number | null } }
