/** `spikewire node`: run a node from a config file until SIGINT or SIGTERM. */
import type { SpikewireNode } from '../node/node.ts'
import { EXIT_OK, parseCommand, required, seconds } from './command.ts'
import type { Command } from './command.ts'
import { modelText, table } from './format.ts'
import { StatsReporter, watchNode } from './node-report.ts'
import { Lines } from './output.ts'
import { within } from '../base/abort.ts'
import { onStopSignal } from './signals.ts'
import { metricsHelp, METRICS_OPTION, createMetrics, metricsAddress, serveMetrics } from './metrics.ts'
import type { MetricsServer } from '../metrics/index.ts'

/** How long closing every stream and stopping libp2p may take before the command gives up (exit 1). */
const STOP_TIMEOUT_MS = 10_000
/** How long the start line waits for the reservations on the config's relays (it then shows their addresses), ms. */
const RELAY_WAIT_MS = 5000

const help = `Usage: spikewire node --config FILE [--json] [--stats S] [--metrics HOST:PORT]

Run a spikewire node described by the JSON config FILE (name, listen addresses, identity,
ports, links, subscriptions, limits). Prints the node's PeerId and multiaddrs when it has
started, then every link/subscription status change and every refused peer or open.
SIGINT or SIGTERM closes all streams cleanly and exits 0; a second signal exits at once (1).

Options:
  --config FILE   the node config (JSON); required
  --json          print NDJSON: {"event":"started","peer":...,"multiaddrs":[...],"ports":[...],
                  "metrics":URL (with --metrics)},
                  then {"event":"link"|"subscription"|"gap"|"loss"|"refused"|"stats"|
                  "stopping"|"stopped", ...}
  --stats S       print port, link and subscription statistics every S seconds
${metricsHelp()}
  -h, --help      show this help
`

export const command: Command = {
  name: 'node',
  help,
  async run (argv) {
    const p = parseCommand(argv, command, { config: { type: 'string' }, json: { type: 'boolean' }, stats: { type: 'string' }, ...METRICS_OPTION })
    if (p === undefined) return EXIT_OK
    const file = required(p, 'config')
    const statsS = seconds(p, 'stats')
    const metricsAt = await metricsAddress(p)
    const lines = new Lines(p.values.json === true)
    // Loaded here, not at the top, so that --help and usage errors stay fast.
    const { loadConfig } = await import('../hosting/config.ts')
    const config = await loadConfig(file)
    const { startNode } = await import('../hosting/start.ts')
    const metrics = await createMetrics(metricsAt)
    const hosted = await startNode(config, metrics?.nodeOptions)
    const { node } = hosted
    metrics?.watchHosted(hosted)
    const server = await serveMetrics(metrics, metricsAt, async () => { await node.stop() })
    const stopped = Promise.withResolvers<string>()
    const removeSignals = onStopSignal('node', signal => { stopped.resolve(signal) })
    try {
      // Resolves at once for a node without relays.
      await node.relaysReserved({ signal: AbortSignal.timeout(RELAY_WAIT_MS) }).catch(() => {})
      printStarted(node, lines, server)
      watchNode(hosted, lines)
      const stats = statsS === undefined ? undefined : new StatsReporter(node, lines)
      const timer = stats === undefined ? undefined : setInterval(() => { stats.report() }, statsS! * 1000)
      const signal = await stopped.promise
      clearInterval(timer)
      // The exit report: the counts of the whole run, refusals and the connection guard's included.
      stats?.report(true)
      lines.print({ event: 'stopping', signal }, `${signal}: closing streams`)
    } finally {
      await server?.stop()
      if (!await within(node.stop(), STOP_TIMEOUT_MS)) {
        // eslint-disable-next-line no-unsafe-finally
        throw new Error(`the node did not stop within ${STOP_TIMEOUT_MS} ms; streams may not have closed cleanly`)
      }
    }
    lines.print({ event: 'stopped' }, 'stopped')
    removeSignals()
    return EXIT_OK
  }
}

function printStarted (node: SpikewireNode, lines: Lines, metrics: MetricsServer | undefined): void {
  const d = node.description()
  const human = [
    `node ${node.init.name} started`,
    ...table([
      ['peer', node.peerId],
      ...node.multiaddrs.map(a => [a.includes('/p2p-circuit') ? 'relayed' : 'listening', a]),
      ...node.relays.filter(r => r.state !== 'reserved').map(r => ['relay', `${r.relay} ${r.state}${r.lastError === undefined ? '' : `: ${r.lastError}`}`]),
      ...d.ports.map(q => ['port', `${q.name} ${q.direction} ${q.kind} ${q.channels} channels, model ${modelText(q.model)}`]),
      ...(metrics === undefined ? [] : [['metrics', metrics.url]])
    ])
  ]
  lines.print({ event: 'started', name: node.init.name, peer: node.peerId, multiaddrs: node.multiaddrs, ports: d.ports, ...(node.relays.length === 0 ? {} : { relays: node.relays }), ...(metrics === undefined ? {} : { metrics: metrics.url }) }, human.join('\n'))
}
