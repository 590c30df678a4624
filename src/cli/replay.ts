/** `spikewire replay`: serve the ports of an XDF recording as out ports again, paced in real time. */
import { within } from '../base/abort.ts'
import { EXIT_OK, UsageError, parseCommand, seconds } from './command.ts'
import type { Command } from './command.ts'
import { Lines, err } from './output.ts'
import { onStopSignal } from './signals.ts'

const help = `Usage: spikewire replay FILE.xdf --listen MULTIADDR [--speed X] [--wait S] [--linger S] [--json]

Read an XDF recording made by "spikewire record" and serve each recorded port as an out port of a
node listening on MULTIADDR (e.g. /ip4/127.0.0.1/tcp/0), with the recorded kind, channels and
model. Its events are emitted paced in real time, every interval kept: an event recorded at T
(µs, the publisher's clock) is emitted at start + (T - T0) / X, where T0 is the earliest event
of the file. Two recorded ports of the same name are served as NAME, NAME-2, ...

Playback starts once every port has a subscriber, or after --wait seconds (default 30)
whichever comes first; after the last event the node stays up --linger seconds (default 1)
so that subscribers receive it, then it stops and prints a summary.

A file cut short (a killed recorder) is replayed up to its last complete chunk.

Options:
  --listen MULTIADDR  where the node listens (required)
  --speed X           playback speed (default 1; 2 is twice as fast)
  --wait S            longest wait for subscribers before playing (default 30)
  --linger S          stay up this long after the last event (default 1)
  --identity FILE     the node's key file (created when missing; default: a fresh key)
  --json              NDJSON on stdout: {"event":"started",...}, {"event":"playing",...}, the summary
  -h, --help          show this help
`

const CLOSE_TIMEOUT_MS = 5000

export const command: Command = {
  name: 'replay',
  help,
  async run (argv) {
    const p = parseCommand(argv, command, {
      listen: { type: 'string' },
      speed: { type: 'string' },
      wait: { type: 'string' },
      linger: { type: 'string' },
      identity: { type: 'string' },
      json: { type: 'boolean' }
    }, ['FILE'])
    if (p === undefined) return EXIT_OK
    if (p.positionals.length !== 1) throw new UsageError('expected one FILE.xdf')
    const listen = p.values.listen
    if (typeof listen !== 'string' || !listen.startsWith('/')) throw new UsageError('--listen MULTIADDR is required (e.g. /ip4/127.0.0.1/tcp/0)')
    const speed = seconds(p, 'speed') ?? 1
    const waitS = seconds(p, 'wait') ?? 30
    const lingerS = seconds(p, 'linger') ?? 1
    const json = p.values.json === true
    const lines = new Lines(json)
    const status = new Lines(json, line => { err(json ? line : `replay: ${line}`) })

    const { readXdfFile } = await import('../xdf/reader.ts')
    const { addReplayPorts, replay, replayStreams } = await import('../hosting/replaying.ts')
    const file = readXdfFile(p.positionals[0])
    if (file.truncated !== undefined) status.print({ event: 'truncated', offset: file.truncated.offset, reason: file.truncated.reason }, `the file is cut short at byte ${file.truncated.offset} (${file.truncated.reason}): replaying up to its last complete chunk`)
    const streams = replayStreams(file)
    if (streams.length === 0) throw new UsageError(`${p.positionals[0]} has no recorded spikewire streams`)

    const { createSpikewireNode } = await import('../node/node.ts')
    const identity = typeof p.values.identity === 'string' ? p.values.identity : undefined
    const node = await createSpikewireNode({ name: 'spikewire-replay', role: 'replay', listen: [listen], identity, latenessUs: 1_000_000 })
    const abort = new AbortController()
    const removeSignals = onStopSignal('replay', () => { abort.abort() })
    try {
      const ports = addReplayPorts(node, streams)
      lines.print({ event: 'started', peer: node.peerId, multiaddrs: node.multiaddrs, ports: streams.map(s => ({ name: s.port, kind: s.kind, channels: s.channels, events: s.timesUs.length })) },
        [`replay ${p.positionals[0]} started`, `peer ${node.peerId}`, ...node.multiaddrs.map(a => `listening ${a}`), ...streams.map(s => `port ${s.port} (${s.kind}, ${s.channels} channels, ${s.timesUs.length} events)`)].join('\n'))
      const deadline = Date.now() + waitS * 1000
      while (!abort.signal.aborted && Date.now() < deadline && [...ports.values()].some(port => port.stats.streams === 0)) await new Promise(resolve => setTimeout(resolve, 20))
      const subscribed = [...ports.values()].filter(port => port.stats.streams > 0).length
      status.print({ event: 'playing', speed, subscribed, ports: ports.size }, `playing at speed ${speed} (${subscribed} of ${ports.size} ports subscribed)`)
      const stats = await replay({ node, streams, speed, signal: abort.signal }, ports)
      if (!abort.signal.aborted) await new Promise(resolve => setTimeout(resolve, lingerS * 1000))
      const refused = stats.reduce((n, s) => n + s.refused, 0)
      const emitted = stats.reduce((n, s) => n + s.emitted, 0)
      lines.print({ summary: true, emitted, refused, ended: abort.signal.aborted ? 'signal' : 'done', ports: stats },
        `summary: ${emitted} events emitted, ${refused} refused${abort.signal.aborted ? ' (stopped early)' : ''}; ${stats.map(s => `${s.port}: ${s.emitted} of ${s.events}`).join(', ')}`)
      return refused > 0 ? 1 : EXIT_OK
    } finally {
      removeSignals()
      if (!await within(node.stop(), CLOSE_TIMEOUT_MS)) err(`replay: stopping the node did not finish within ${CLOSE_TIMEOUT_MS} ms`)
    }
  }
}
