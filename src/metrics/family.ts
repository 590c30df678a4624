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
