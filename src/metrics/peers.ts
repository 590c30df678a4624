/**
 * The bound on `peer` label values. A node may meet any number of peers (an allow list of "*"), and every
 * distinct label value is a new time series in Prometheus, so each node's metrics name at most `max`
 * peers (default 256): the first ones met, for as long as the process runs. Further peers are reported
 * together under peer="other" where a sum makes sense (counters, histograms) and left out where it does
 * not (gauges such as a clock offset); `spikewire_metrics_peers_over_limit` counts them.
 */
export const OTHER_PEERS = 'other'
export const DEFAULT_MAX_PEERS = 256

export class PeerLabels {
  readonly max: number
  readonly #known = new Set<string>()
  readonly #over = new Set<string>()

  constructor (max = DEFAULT_MAX_PEERS) {
    this.max = max
  }

  /** The label value of a peer: its PeerId, or "other" past the bound. */
  label (peer: string): string {
    if (this.#known.has(peer)) return peer
    if (this.#known.size < this.max) {
      this.#known.add(peer)
      return peer
    }
    // Remember at most as many again, so the count stays bounded too (it then reads "at least").
    if (this.#over.size < this.max) this.#over.add(peer)
    return OTHER_PEERS
  }

  /** Peers met past the bound (at most `max`). */
  get over (): number {
    return this.#over.size
  }
}
