/**
 * `--metrics HOST:PORT`, shared by `node`, `gateway` and `relay`: the option's parsing (a usage error when
 * it is not HOST:PORT), the node's metrics created before the node (they are handed to libp2p and the
 * latency trackers), and the HTTP server started once the node runs.
 */
import type { HostPort } from '../metrics/server.ts'
import type { MetricsServer, MetricsSource, NodeMetrics } from '../metrics/index.ts'
import { UsageError } from './command.ts'
import type { Parsed } from './command.ts'

export const METRICS_OPTION = { metrics: { type: 'string' } } as const

/** The --help lines of --metrics; `what` names the command's own metrics. */
export function metricsHelp (what = ''): string {
  return `  --metrics HOST:PORT
                  serve Prometheus metrics at http://HOST:PORT/metrics (port 0: a free
                  port; the started line reports the URL)${what === '' ? '' : `, ${what} included`}; see
                  docs/metrics.md`
}

/** The address of --metrics, or undefined when absent; a UsageError when it is not HOST:PORT. */
export async function metricsAddress (p: Parsed): Promise<HostPort | undefined> {
  const v = p.values.metrics
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new UsageError('--metrics needs HOST:PORT')
  const { parseHostPort } = await import('../metrics/server.ts')
  try {
    return parseHostPort(v)
  } catch (err) {
    throw new UsageError(`--metrics: ${(err as Error).message}`)
  }
}

/** The node's metrics, to create before the node; undefined without --metrics. */
export async function createMetrics (at: HostPort | undefined): Promise<NodeMetrics | undefined> {
  if (at === undefined) return undefined
  const { NodeMetrics } = await import('../metrics/index.ts')
  return await NodeMetrics.create()
}

/** Serve `metrics` at `at`; on failure (e.g. the port is taken) `stop` runs first, then the error is thrown. */
export async function serveMetrics (metrics: MetricsSource | undefined, at: HostPort | undefined, stop: () => Promise<void>): Promise<MetricsServer | undefined> {
  if (metrics === undefined || at === undefined) return undefined
  const { MetricsServer } = await import('../metrics/index.ts')
  try {
    return await MetricsServer.listen(metrics, at)
  } catch (err) {
    await stop().catch(() => {})
    throw new Error(`--metrics: cannot listen on ${at.host}:${at.port}: ${(err as Error).message}`, { cause: err })
  }
}
