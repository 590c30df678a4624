/**
 * `spikewire gateway udp2020 --config FILE`: run a node and the 2020 UDP gateway beside it until SIGINT or
 * SIGTERM (docs/gateway-udp2020.md).
 */
import type { Udp2020Gateway, Udp2020Stats } from '../gateway/udp2020/index.ts'
import { within } from '../base/abort.ts'
import { EXIT_OK, UsageError, parseCommand, required, seconds } from './command.ts'
import type { Command } from './command.ts'
import { modelText, table } from './format.ts'
import { StatsReporter, watchNode } from './node-report.ts'
import { Lines } from './output.ts'
import { onStopSignal } from './signals.ts'
import { metricsHelp, METRICS_OPTION, createMetrics, metricsAddress, serveMetrics } from './metrics.ts'

const STOP_TIMEOUT_MS = 10_000
/** Malformed datagrams printed per reason; the rest are counted (and in --stats). */
const PRINT_MALFORMED = 10

const help = `Usage: spikewire gateway udp2020 --config FILE [--json] [--stats S] [--metrics HOST:PORT]

Run a spikewire node and a gateway for the 2020 UDP datagram format beside it (see
docs/gateway-udp2020.md). FILE is JSON: {"node": {a node config}, "udp2020": {"listen",
"senders", "replies", ...}}. Datagrams of each configured sender code become events of
that sender's weighted out port (channel = neuron id, value = event type 0/1/2, time rebuilt
from the 50 us deltas); R datagrams register their address for replies; events of the
configured subscriptions go out as S datagrams. Malformed datagrams are counted by reason
and the first ${PRINT_MALFORMED} of each reason printed. SIGINT or SIGTERM stops cleanly (exit 0).

Options:
  --config FILE   the gateway config (JSON); required
  --json          print NDJSON: {"event":"started",...,"udp":"host:port","metrics":URL}, then
                  {"event":"registered"|"reanchor"|"malformed"|"subscription"|"refused"|
                  "stats"|"stopping"|"stopped", ...}; stats carry parts.udp2020
  --stats S       print node and gateway statistics every S seconds (and once at the end)
${metricsHelp('the gateway\'s counters')}
  -h, --help      show this help
`

export const command: Command = {
  name: 'gateway',
  help,
  async run (argv) {
    const p = parseCommand(argv, command, { config: { type: 'string' }, json: { type: 'boolean' }, stats: { type: 'string' }, ...METRICS_OPTION }, ['KIND'])
    if (p === undefined) return EXIT_OK
    if (p.positionals[0] !== 'udp2020') throw new UsageError(`unknown gateway ${JSON.stringify(p.positionals[0])} (gateways: udp2020)`)
    const file = required(p, 'config')
    const statsS = seconds(p, 'stats')
    const metricsAt = await metricsAddress(p)
    const lines = new Lines(p.values.json === true)
    const { loadGatewayConfig, startGateway, STATS_NAME, registerGatewayMetrics } = await import('../gateway/udp2020/index.ts')
    const config = await loadGatewayConfig(file)
    const metrics = await createMetrics(metricsAt)
    const { hosted, gateway } = await startGateway(config, metrics?.nodeOptions)
    const { node } = hosted
    if (metrics !== undefined) {
      metrics.watchHosted(hosted)
      registerGatewayMetrics(metrics.registry, gateway)
    }
    const server = await serveMetrics(metrics, metricsAt, async () => { await node.stop() })
    const stopped = Promise.withResolvers<string>()
    const removeSignals = onStopSignal('gateway', signal => { stopped.resolve(signal) })
    try {
      const d = node.description()
      lines.print({ event: 'started', name: node.init.name, peer: node.peerId, multiaddrs: node.multiaddrs, ports: d.ports, udp: gateway.address, ...(server === undefined ? {} : { metrics: server.url }) }, [
        `gateway udp2020 ${node.init.name} started`,
        ...table([
          ['peer', node.peerId],
          ...node.multiaddrs.map(a => ['listening', a]),
          ['udp', gateway.address],
          ...(server === undefined ? [] : [['metrics', server.url]]),
          ...config.udp2020.senders.map(s => ['sender', `${s.code} -> port ${s.port} (weighted, ${s.channels} channels, value = event type)`]),
          ...(config.udp2020.replies ?? []).map(r => ['replies', `${r.from} ${r.port} -> S datagrams to ${[...(r.to ?? []), ...(r.registered === false ? [] : ['registered addresses'])].join(', ')}`]),
          ...d.ports.filter(q => !config.udp2020.senders.some(s => s.port === q.name)).map(q => ['port', `${q.name} ${q.direction} ${q.kind} ${q.channels} channels, model ${modelText(q.model)}`])
        ])
      ].join('\n'))
      watchNode(hosted, lines)
      watchGateway(gateway, lines)
      const stats = statsS === undefined ? undefined : new StatsReporter(node, lines, parts => gatewayLines(parts[STATS_NAME] as Udp2020Stats | undefined))
      const timer = stats === undefined ? undefined : setInterval(() => { stats.report() }, statsS! * 1000)
      const signal = await stopped.promise
      clearInterval(timer)
      stats?.report(true)
      lines.print({ event: 'stopping', signal }, `${signal}: closing the socket and streams`)
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

function watchGateway (gateway: Udp2020Gateway, lines: Lines): void {
  const printed = new Map<string, number>()
  gateway.addEventListener('malformed', e => {
    const m = e.detail
    const n = (printed.get(m.reason) ?? 0) + 1
    printed.set(m.reason, n)
    if (n > PRINT_MALFORMED) return
    const more = n === PRINT_MALFORMED ? ` (further ${m.reason} datagrams are counted only)` : ''
    lines.print({ event: 'malformed', ...m }, `malformed datagram from ${m.source}: ${m.reason}: ${m.detail} [${m.hex}]${more}`)
  })
  gateway.addEventListener('reanchor', e => {
    const r = e.detail
    lines.print({ event: 'reanchor', ...r }, `sender ${r.code} (${r.port}) anchored again at ${r.source}: ${r.reason}${r.offUs === undefined ? '' : `, rebuilt time was ${Math.round(r.offUs)} us off`}`)
  })
  gateway.addEventListener('registered', e => {
    lines.print({ event: 'registered', address: e.detail.address }, `registered ${e.detail.address} for replies`)
  })
}

function gatewayLines (s: Udp2020Stats | undefined): string[] {
  if (s === undefined) return []
  const bad = Object.entries(s.malformed).filter(([, n]) => n > 0).map(([r, n]) => `${n} ${r}`)
  const out = [`stats udp2020 ${s.listen}: ${s.datagrams} datagrams, ${s.events} events, ${s.ready} ready, malformed: ${bad.length === 0 ? 'none' : bad.join(', ')}; ${s.registered.length} registered`]
  for (const x of Object.values(s.senders)) {
    const re = Object.entries(x.reanchors).filter(([, n]) => n > 0).map(([r, n]) => `${n} ${r}`)
    out.push(`stats udp2020 sender ${x.code} -> ${x.port}: ${x.events} events, lag ${Math.round(x.lagUs)} us, re-anchored: ${re.length === 0 ? 'never' : re.join(', ')}, ${x.clamped} clamped`)
  }
  for (const r of s.replies) {
    out.push(`stats udp2020 replies ${r.port}: ${r.state}, ${r.events} events, ${r.datagrams} datagrams, ${r.clipped} clipped, ${r.noDestination} without destination, ${r.channelOutOfRange} channel too large, ${r.dropped} dropped, ${r.sendErrors} send errors`)
  }
  return out
}
