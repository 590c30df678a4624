/**
 * Metric families read at scrape time: each one is a prom-client Counter or Gauge whose collect() callback
 * replaces every series with what `read()` returns now, so a series whose subject is gone (a stream that
 * ended, a port removed) disappears instead of repeating its last value. Nothing is counted twice: the
 * counts stay where the node keeps them, and a scrape reads them.
 */
import { Counter, Gauge } from 'prom-client'
import type { Registry } from 'prom-client'

export type Labels = Record<string, string>
/** One series: its labels and its value. */
export type Sample = readonly [Labels, number]

export interface FamilyInit {
  name: string
  help: string
  labelNames?: readonly string[]
  /** The series now. A counter's values must never decrease for the same labels (except after a restart). */
  read: () => Iterable<Sample>
}

/** A counter read at scrape time (its name ends in `_total`; its values are counts so far). */
export function counterFamily (registry: Registry, init: FamilyInit): Counter {
  const labelNames = [...(init.labelNames ?? [])]
  return new Counter({
    name: init.name,
    help: init.help,
    labelNames,
    registers: [registry],
    collect () {
      this.reset()
      for (const [labels, value] of init.read()) {
        if (!Number.isFinite(value) || value < 0) continue
        if (labelNames.length === 0) this.inc(value)
        else this.inc(labels, value)
      }
    }
  })
}

/** A gauge read at scrape time. Series with a non-finite value are left out. */
export function gaugeFamily (registry: Registry, init: FamilyInit): Gauge {
  const labelNames = [...(init.labelNames ?? [])]
  return new Gauge({
    name: init.name,
    help: init.help,
    labelNames,
    registers: [registry],
    collect () {
      this.reset()
      for (const [labels, value] of init.read()) {
        if (!Number.isFinite(value)) continue
        if (labelNames.length === 0) this.set(value)
        else this.set(labels, value)
      }
    }
  })
}

/**
 * A counter summed per label set over items that come and go (subscriptions, push links): the items present
 * now, plus the final counts of the items seen at an earlier scrape that are gone since. So the sum never
 * goes down when one of several items under the same labels ends (Prometheus would read a reset). An ended
 * item is read once more, as it is gone, for its final counts. Memory: the items present, and one number
 * per label set that had an ended item.
 */
export class RetainedSums<T extends object> {
  readonly #value: (item: T) => number
  /** Items at the last read, with their label key and labels. */
  #seen = new Map<T, { key: string, labels: Labels }>()
  readonly #ended = new Map<string, { labels: Labels, value: number }>()

  constructor (value: (item: T) => number) {
    this.#value = value
  }

  read (items: Iterable<T>, labelsOf: (item: T) => Labels): Sample[] {
    const sums = new Map<string, { labels: Labels, value: number }>()
    const add = (key: string, labels: Labels, value: number): void => {
      if (!Number.isFinite(value)) return
      const e = sums.get(key)
      if (e === undefined) sums.set(key, { labels, value })
      else e.value += value
    }
    const seen = new Map<T, { key: string, labels: Labels }>()
    for (const item of items) {
      const labels = labelsOf(item)
      const key = JSON.stringify(labels)
      seen.set(item, { key, labels })
      add(key, labels, this.#value(item))
    }
    for (const [item, { key, labels }] of this.#seen) {
      if (seen.has(item)) continue
      const v = this.#value(item)
      if (!Number.isFinite(v)) continue
      const e = this.#ended.get(key)
      if (e === undefined) this.#ended.set(key, { labels, value: v })
      else e.value += v
    }
    this.#seen = seen
    for (const [key, e] of this.#ended) add(key, e.labels, e.value)
    return [...sums.values()].map(e => [e.labels, e.value] as const)
  }
}

/** µs to seconds, the unit of every time metric. */
export function seconds (us: number): number {
  return us / 1e6
}

/**
 * A value computed once per scrape and shared by every family of that scrape: prom-client calls the
 * collect() callbacks of one scrape one after the other in a single synchronous pass, so the value is
 * dropped on the next microtask and the next scrape reads afresh.
 */
export function perScrape<T> (read: () => T): () => T {
  let value: { v: T } | undefined
  return () => {
    if (value === undefined) {
      value = { v: read() }
      queueMicrotask(() => { value = undefined })
    }
    return value.v
  }
}
