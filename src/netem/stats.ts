/** Summary of a window of samples, in milliseconds. All fields are NaN when there are no samples. */
export interface Percentiles {
  /** Samples in the window (the most recent ones, at most the window size). */
  samples: number
  min: number
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

/** Counters of one direction of the proxy, over all its connections. */
export interface DirectionStats {
  /** Bytes written to the receiving side since the proxy started. */
  bytes: number
  /** Chunks written to the receiving side since the proxy started. */
  chunks: number
  /** Bytes held now over all open connections: delay queues plus outgoing socket buffers. */
  queuedBytes: number
  /** Chunks waiting in delay queues now. */
  queuedChunks: number
  /** Most bytes held at once by one connection in this direction since the proxy started. */
  peakQueuedBytes: number
  /** Times reading from the sender was paused because `queueBytes` was exceeded. */
  pauses: number
  /** Bytes discarded because a connection was cut, reset or closed before they were due. */
  droppedBytes: number
  /** Added delay per chunk as observed: write time − read time on the proxy's clock. */
  addedDelayMs: Percentiles
  /** Timer precision: write time − due time per chunk. */
  lateMs: Percentiles
}

/** A ring of the most recent samples (µs) with percentile summaries in ms. */
export class SampleWindow {
  readonly #ring: Float64Array
  #count = 0
  #next = 0

  constructor (size = 4096) {
    this.#ring = new Float64Array(size)
  }

  add (us: number): void {
    this.#ring[this.#next] = us
    this.#next = (this.#next + 1) % this.#ring.length
    if (this.#count < this.#ring.length) this.#count++
  }

  summary (): Percentiles {
    const n = this.#count
    if (n === 0) return { samples: 0, min: NaN, mean: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN }
    const sorted = this.#ring.slice(0, n).sort()
    const at = (q: number): number => sorted[Math.min(n - 1, Math.floor(q * n))] / 1000
    let sum = 0
    for (const v of sorted) sum += v
    return { samples: n, min: sorted[0] / 1000, mean: sum / n / 1000, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[n - 1] / 1000 }
  }
}

/** Running counters of one direction; the live queue figures are added by the proxy at read time. */
export class DirectionCounters {
  bytes = 0
  chunks = 0
  peakQueuedBytes = 0
  pauses = 0
  droppedBytes = 0
  readonly addedDelay = new SampleWindow()
  readonly late = new SampleWindow()

  snapshot (queuedBytes: number, queuedChunks: number): DirectionStats {
    return {
      bytes: this.bytes,
      chunks: this.chunks,
      queuedBytes,
      queuedChunks,
      peakQueuedBytes: this.peakQueuedBytes,
      pauses: this.pauses,
      droppedBytes: this.droppedBytes,
      addedDelayMs: this.addedDelay.summary(),
      lateMs: this.late.summary()
    }
  }
}
