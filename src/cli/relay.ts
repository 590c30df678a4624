/** `spikewire relay`: run a circuit relay (docs/relay.md) from a config file until SIGINT or SIGTERM. */
import type { Relay, RelayStats } from '../relay/relay.ts'
import type { RelayMetrics } from '../metrics/index.ts'
import type { PeerList } from '../ports/acl.ts'
import { EXIT_OK, parseCommand, required, seconds } from './command.ts'
import type { Command } from './command.ts'
import { table } from './format.ts'
import { Lines } from './output.ts'
import { within } from '../base/abort.ts'
import { onStopSignal } from './signals.ts'
import { metricsHelp, METRICS_OPTION, metricsAddress, serveMetrics } from './metrics.ts'

const STOP_TIMEOUT_MS = 10_000

const help = `Usage: spikewire relay --config FILE [--json] [--stats S] [--metrics HOST:PORT]

Run a circuit relay (libp2p circuit relay v2) described by the JSON config FILE: listen
addresses, identity, who may hold a reservation ("reservations"), who may open relayed
connections ("connect"), whose relayed connections carry no limits ("unlimited"), the limits
for the others, and whether it lists its peers ("list"). Nodes use it with "relays" in their
config (docs/relay.md). Prints the relay's PeerId and multiaddrs when it has started.
SIGINT or SIGTERM stops it and exits 0; a second signal exits at once (1).

Options:
  --config FILE   the relay config (JSON); required
  --json          print NDJSON: {"event":"started","peer":...,"multiaddrs":[...]},
                  then {"event":"stats",...} and {"event":"stopping"|"stopped"}
  --stats S       print reservations, relayed connections, bytes and refusals every S seconds
                  (and once more when stopping)
${metricsHelp('the relay\'s counters')}
  -h, --help      show this help
`

export const command: Command = {
  name: 'relay',
  help,
  async run (argv) {
    const p = parseCommand(argv, command, { config: { type: 'string' }, json: { type: 'boolean' }, stats: { type: 'string' }, ...METRICS_OPTION })
    if (p === undefined) return EXIT_OK
    const file = required(p, 'config')
    const statsS = seconds(p, 'stats')
    const metricsAt = await metricsAddress(p)
    const lines = new Lines(p.values.json === true)
    const { loadRelayConfig } = await import('../relay/config.ts')
    const config = await loadRelayConfig(file)
    const { createRelay } = await import('../relay/relay.ts')
    // With --metrics, libp2p's own metrics and the relay's counters share one registry.
    const m = metricsAt === undefined ? undefined : await import('../metrics/index.ts')
    const registry = m === undefined ? undefined : new m.Registry()
    const relay = await createRelay(config, registry === undefined ? {} : { libp2pMetrics: await m!.libp2pMetrics(registry) })
    let metrics: RelayMetrics | undefined
    try {
      metrics = m === undefined ? undefined : new m.RelayMetrics(relay, { registry, processMetrics: false })
    } catch (err) {
      await relay.stop().catch(() => {})
      throw err
    }
    // serveMetrics stops the relay itself when it cannot listen.
    const server = await serveMetrics(metrics, metricsAt, async () => { await relay.stop() })
    const stopped = Promise.withResolvers<string>()
    const removeSignals = onStopSignal('relay', signal => { stopped.resolve(signal) })
    try {
      printStarted(relay, lines, server?.url)
      const timer = statsS === undefined ? undefined : setInterval(() => { printStats(relay.stats(), lines) }, statsS * 1000)
      const signal = await stopped.promise
      clearInterval(timer)
      if (statsS !== undefined) printStats(relay.stats(), lines, true)
      lines.print({ event: 'stopping', signal }, `${signal}: stopping`)
    } finally {
      await server?.stop()
      if (!await within(relay.stop(), STOP_TIMEOUT_MS)) {
        // eslint-disable-next-line no-unsafe-finally
        throw new Error(`the relay did not stop within ${STOP_TIMEOUT_MS} ms`)
      }
    }
    lines.print({ event: 'stopped' }, 'stopped')
    removeSignals()
    return EXIT_OK
  }
}

function printStarted (relay: Relay, lines: Lines, metrics: string | undefined): void {
  const c = relay.config
  const who = (l: PeerList | undefined, byDefault: string): string => l === undefined ? byDefault : l === '*' ? 'every peer' : `${l.length} peer(s)`
  const human = [
    `relay ${c.name ?? 'relay'} started`,
    ...table([
      ['peer', relay.peerId],
      ...relay.multiaddrs.map(a => ['listening', a]),
      ['reservations', who(c.reservations, 'none')],
      ['connect', who(c.connect, 'every peer')],
      ['unlimited', who(c.unlimited ?? c.reservations, 'none')],
      ['directory', c.list === true ? 'listed' : 'not listed'],
      ...(metrics === undefined ? [] : [['metrics', metrics]])
    ])
  ]
  lines.print({ event: 'started', name: c.name ?? 'relay', peer: relay.peerId, multiaddrs: relay.multiaddrs, list: c.list === true, ...(metrics === undefined ? {} : { metrics }) }, human.join('\n'))
}

/** One statistics report: the relay's counters as they are (relay.stats()). */
export function printStats (s: RelayStats, lines: Lines, final = false): void {
  const r = s.refusals
  const human = [
    `stats reservations: ${s.reservations.held} held, ${s.reservations.made} made, ${s.reservations.refreshed} refreshed`,
    `stats relayed: ${s.relayed.open} open, ${s.relayed.total} in total, ${s.relayed.bytesToReserved} bytes to reserved peers, ${s.relayed.bytesFromReserved} bytes from them, ${s.relayed.limited} cut by a limit`,
    `stats refused: ${r.reservationNotAllowed} reservations (not allowed), ${r.reservationsFull} reservations (full), ${r.connectNotAllowed} connections (not allowed), ${r.noReservation} connections (no reservation)`,
    `stats directory: ${s.directory.requests} requests, ${s.directory.answered} answered, ${s.directory.refused} refused, ${s.directory.invalid} invalid`
  ]
  lines.print({ event: 'stats', ...(final ? { final: true } : {}), ...s }, human.join('\n'))
}
