/**
 * Prometheus metrics of a node (docs/metrics.md): a registry per node read at scrape time, latency
 * histograms, libp2p's own metrics, and `GET /metrics` over HTTP.
 */
export { NodeMetrics } from './node-metrics.ts'
export type { NodeMetricsInit, TimingLabels } from './node-metrics.ts'
export { MetricsServer, METRICS_PATH, parseHostPort } from './server.ts'
export type { HostPort, MetricsSource } from './server.ts'
export { counterFamily, gaugeFamily, perScrape, seconds } from './family.ts'
export type { FamilyInit, Labels, Sample } from './family.ts'
export { LATENCY_BUCKETS } from './latency.ts'
export { DEFAULT_MAX_PEERS, OTHER_PEERS, PeerLabels } from './peers.ts'
export { RelayMetrics } from './relay.ts'
export { libp2pMetrics } from './libp2p.ts'
export { Registry } from 'prom-client'
export type { RelayCounters } from './relay.ts'
