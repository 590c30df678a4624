/**
 * libp2p's own metrics (connections, dials, streams per protocol, bytes, Noise, TCP listeners) through
 * `@libp2p/prometheus-metrics`, registered in a node's own registry.
 *
 * That package keeps its metric objects in a map at module level, keyed by name, and reuses an entry of
 * that map when a component registers a name again. Two peers in one process would then share metric
 * objects: a TCP listener started by the second peer after the first registered its own ends up in the
 * first peer's registry (seen with two peers created at once). So each node loads its own instance of the
 * module (the same file under a URL with a distinct query), whose map holds that node's metrics only.
 */
import type { Libp2pOptions } from 'libp2p'
import type { Registry } from 'prom-client'
import type { prometheusMetrics } from '@libp2p/prometheus-metrics'

interface PrometheusMetricsModule { prometheusMetrics: typeof prometheusMetrics }

let instances = 0

export interface Libp2pMetricsOptions {
  /**
   * Also the process metrics of prom-client (`process_*`, `nodejs_*`: CPU, memory, event-loop lag, GC)
   * in this registry (default true). Several nodes in one process each report the same process.
   */
  processMetrics?: boolean
}

/** libp2p's metrics component for `createLibp2p({ metrics })`, registering in `registry` only. */
export async function libp2pMetrics (registry: Registry, options: Libp2pMetricsOptions = {}): Promise<NonNullable<Libp2pOptions['metrics']>> {
  const url = new URL(import.meta.resolve('@libp2p/prometheus-metrics'))
  url.searchParams.set('spikewire-node', String(++instances))
  const mod = await import(url.href) as PrometheusMetricsModule
  return mod.prometheusMetrics({
    registry,
    collectDefaultMetrics: options.processMetrics ?? true,
    // Left false, the package would clear prom-client's global registry, which other code may use.
    preserveExistingMetrics: true
  })
}
