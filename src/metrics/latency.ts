/**
 * One-way latency histograms, fed by the node's own latency trackers: the node calls `observer(peer,
 * stream)` once when it starts tracking a stream's latency (CreateNodeOptions.latencyObserver), and the
 * function returned sees every sample that tracker records — the same samples, so the histogram's count
 * equals the tracker's `count` (up to 64 per batch, spread over it, once the peer's clock is estimated).
 * On the hot path this costs one short bucket search per sample (HistogramFamily: prom-client's own
 * Histogram costs ≈2 µs per observation); the label lookup happens once per stream.
 *
 * Labels: peer (bounded by PeerLabels) and stream, the node's name for it: `sub/PORT` for a subscription
 * to the peer's out port PORT, `in/PORT/SOURCE` for what the peer pushes from its port SOURCE into the
 * local in port PORT. The node tracks at most 1024 streams per peer (PeerTimeInit.maxStreams); the metrics
 * name at most `maxStreams` streams in all (default 256), further ones go under stream="other".
 */
import type { Registry } from 'prom-client'
import { HistogramFamily } from './histogram.ts'
import type { LatencyObserver } from '../protocols/clock/latency.ts'
import type { PeerLabels } from './peers.ts'

/**
 * Bucket bounds, seconds: loopback (≈0.1 ms) to intercontinental links and stalls (2.5 s). The first
 * bound, 0, holds the negative latencies an off clock estimate can give.
 */
export const LATENCY_BUCKETS = [0, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
export const DEFAULT_MAX_LATENCY_STREAMS = 256
export const OTHER_STREAMS = 'other'

export class LatencyHistograms {
  readonly histogram: HistogramFamily<'peer' | 'stream'>
  readonly #peers: PeerLabels
  readonly #maxStreams: number
  readonly #streams = new Set<string>()

  constructor (registry: Registry, peers: PeerLabels, options: { maxStreams?: number, buckets?: number[] } = {}) {
    this.#peers = peers
    this.#maxStreams = options.maxStreams ?? DEFAULT_MAX_LATENCY_STREAMS
    this.histogram = new HistogramFamily(registry, {
      name: 'spikewire_latency_seconds',
      help: 'One-way latency of received events (arrival minus send time mapped by the clock estimate), sampled up to 64 per batch once the peer\'s clock is estimated.',
      buckets: options.buckets ?? LATENCY_BUCKETS,
      scale: 1e-6
    })
  }

  /** CreateNodeOptions.latencyObserver. */
  readonly observer = (peer: string, stream: string): LatencyObserver => {
    const p = this.#peers.label(peer)
    const key = `${p}\n${stream}`
    let s = stream
    if (!this.#streams.has(key)) {
      if (this.#streams.size < this.#maxStreams) this.#streams.add(key)
      else s = OTHER_STREAMS
    }
    const counts = this.histogram.series({ peer: p, stream: s })
    return us => { counts.observe(us) }
  }
}
