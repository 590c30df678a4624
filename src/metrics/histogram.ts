/**
 * A histogram family for the hot path. prom-client's own Histogram hashes and validates the label set on
 * every observe(), even through a `labels()` child: about 2 µs per observation here (bench/metrics.ts),
 * 140 µs per batch at 64 latency samples a batch. Here each series is a plain array of bucket counts that
 * the observer of one stream holds directly: observing is a short search over the bounds and three adds
 * (tens of ns). The family is a metric object in prom-client's registry (its `get()` has the shape of
 * prom-client's histograms), so prom-client writes it in the exposition format with everything else.
 */
import type { Metric, Registry } from 'prom-client'

/** The counts of one series. Bounds and values in the unit the observer uses (µs for latency). */
export class BucketCounts {
  readonly #bounds: Float64Array
  /** Per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor (bounds: Float64Array) {
    this.#bounds = bounds
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe (v: number): void {
    const b = this.#bounds
    let i = 0
    while (i < b.length && v > b[i]) i++
    this.counts[i]++
    this.sum += v
    this.count++
  }
}

interface Value { labels: Record<string, string>, value: number, metricName: string }

export class HistogramFamily<L extends string> {
  readonly name: string
  readonly help: string
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly #bounds: Float64Array
  readonly #bucketLabels: string[]
  readonly #scale: number
  readonly #series = new Map<string, { labels: Record<L, string>, counts: BucketCounts }>()

  /**
   * `buckets` are the upper bounds in the exposed unit (seconds); `scale` converts an observed value to
   * that unit (1e-6: observers give µs).
   */
  constructor (registry: Registry, init: { name: string, help: string, buckets: readonly number[], scale?: number }) {
    this.name = init.name
    this.help = init.help
    this.#scale = init.scale ?? 1
    this.#bounds = Float64Array.from(init.buckets, b => b / this.#scale)
    this.#bucketLabels = [...init.buckets.map(String), '+Inf']
    registry.registerMetric(this as unknown as Metric)
  }

  /** The counts of the series with these labels (created on first use). */
  series (labels: Record<L, string>): BucketCounts {
    const key = JSON.stringify(labels)
    let s = this.#series.get(key)
    if (s === undefined) {
      s = { labels, counts: new BucketCounts(this.#bounds) }
      this.#series.set(key, s)
    }
    return s.counts
  }

  /** prom-client's registry reads this at scrape time. */
  async get (): Promise<{ name: string, help: string, type: string, aggregator: string, values: Value[] }> {
    const values: Value[] = []
    for (const { labels, counts } of this.#series.values()) {
      let cumulative = 0
      for (let i = 0; i < counts.counts.length; i++) {
        cumulative += counts.counts[i]
        values.push({ labels: { ...labels, le: this.#bucketLabels[i] }, value: cumulative, metricName: `${this.name}_bucket` })
      }
      values.push({ labels, value: counts.sum * this.#scale, metricName: `${this.name}_sum` })
      values.push({ labels, value: counts.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  /** Zero every series in place (the observers hold their series' counts). */
  reset (): void {
    for (const { counts } of this.#series.values()) {
      counts.counts.fill(0)
      counts.sum = 0
      counts.count = 0
    }
  }
}
