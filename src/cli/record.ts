/** `spikewire record`: subscribe to out ports and write them into an XDF file as they arrive. */
import { PORT_NAME_PATTERN } from '../codec/constants.ts'
import { within } from '../base/abort.ts'
import type { RecordedStreamStats, Recorder } from '../hosting/recording.ts'
import { startClient } from './client.ts'
import { EXIT_OK, UsageError, multiaddrArg, parseCommand, seconds } from './command.ts'
import type { Command } from './command.ts'
import { Lines, err, out } from './output.ts'
import { onStopSignal } from './signals.ts'

const help = `Usage: spikewire record MULTIADDR PORT [MULTIADDR PORT ...] --out FILE.xdf [--duration S]
                        [--json] [--progress S] [--boundary-mb MB] [--boundary-s S]

Subscribe to each out port PORT of the node at MULTIADDR and write the events into an XDF 1.0 file
as they arrive: one stream per port, one sample per event (spike ports: int32 channel id; weighted
ports: double64 [channel, value]), each sample stamped with the event's time in the publisher's clock
in seconds since the file's time origin (time_origin_us in the header and each stream's desc; the µs
are time_origin_us + round(stamp * 1e6), exactly), ClockOffset chunks from the clock estimate that map
those stamps into the recorder's clock, Boundary chunks, and at the end a footer per stream with the first
and last time stamp, the sample count, the clock offsets and the recording's counts (events, missing,
lost, reconnects). Gaps, losses, reconnects and closes are also logged as they happen in a string
stream "spikewire-recorder" of the same file. See docs/recording.md.

Each stream's events are gathered for at most 100 ms and written as one Samples chunk, every chunk
whole as it is made: a recorder that is killed leaves a file that readers open up to its last
complete chunk (without the footers; at most the last 100 ms of events are not in it).

While it runs, a progress line goes to stderr every --progress seconds (events, rate, missing, lost,
bytes); at the end (after --duration, or on SIGINT/SIGTERM) a summary goes to stdout.

Options:
  --out FILE        the XDF file to write (replaced if it exists)
  --duration S      stop after S seconds (default: run until SIGINT/SIGTERM)
  --json            progress, log and summary lines as JSON
  --progress S      seconds between progress lines (default 1)
  --boundary-mb MB  a Boundary chunk after this many MB (default 10)…
  --boundary-s S    …or seconds, whichever comes first (default 10)
  -h, --help        show this help

Exit status: 0 when every port was recorded without a missing or lost event; 1 when a publisher
could not be described or subscribed to, or events were missing or lost (the file is still written),
or writing the file failed (a full disk: the file holds every chunk written before).
`

const CLOSE_TIMEOUT_MS = 5000

export const command: Command = {
  name: 'record',
  help,
  async run (argv) {
    const p = parseCommand(argv, command, {
      out: { type: 'string' },
      duration: { type: 'string' },
      json: { type: 'boolean' },
      progress: { type: 'string' },
      'boundary-mb': { type: 'string' },
      'boundary-s': { type: 'string' }
    }, ['MULTIADDR', 'PORT', 'MULTIADDR PORT ...'])
    if (p === undefined) return EXIT_OK
    if (p.positionals.length === 0 || p.positionals.length % 2 !== 0) throw new UsageError('expected pairs of MULTIADDR PORT')
    const sources: Array<{ target: string, port: string }> = []
    for (let i = 0; i < p.positionals.length; i += 2) {
      const port = p.positionals[i + 1]
      if (!PORT_NAME_PATTERN.test(port)) throw new UsageError(`${JSON.stringify(port)} is not a port name (${PORT_NAME_PATTERN})`)
      sources.push({ target: await multiaddrArg(p.positionals[i]), port })
    }
    const path = p.values.out
    if (typeof path !== 'string' || path === '') throw new UsageError('--out FILE.xdf is required')
    const durationS = seconds(p, 'duration')
    const progressS = seconds(p, 'progress') ?? 1
    const boundaryS = seconds(p, 'boundary-s') ?? 10
    const boundaryMb = seconds(p, 'boundary-mb') ?? 10
    const json = p.values.json === true
    const status = new Lines(json, line => { err(json ? line : `record: ${line}`) })

    const { Recorder: RecorderClass } = await import('../hosting/recording.ts')
    const node = await startClient('spikewire-record')
    let recorder: Recorder | undefined
    const end = Promise.withResolvers<string>()
    const removeSignals = onStopSignal('record', () => { end.resolve('signal') })
    let progress: ReturnType<typeof setInterval> | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      recorder = await RecorderClass.start({ node, path, sources, boundaryBytes: boundaryMb * 1024 * 1024, boundaryMs: boundaryS * 1000 })
      const rec = recorder
      status.print({ event: 'recording', path, streams: rec.stats().map(s => ({ id: s.id, port: s.port, peer: s.peer, kind: s.kind })) }, `recording ${rec.stats().map(s => `${s.port} (${s.kind}, peer ${s.peer})`).join(', ')} into ${path}`)
      rec.onLog = e => {
        if (e.event === 'stop') return
        status.print(e, `${String(e.port)}: ${String(e.event)}${Object.entries(e).filter(([k]) => !['time_us', 'stream', 'port', 'target', 'event'].includes(k)).map(([k, v]) => `, ${k} ${String(v)}`).join('')}`)
      }
      rec.onError = e => {
        status.print({ event: 'error', error: e.message }, `writing ${path} failed: ${e.message}; stopping`)
        end.resolve('error')
      }
      let lastEvents = 0
      let lastUs = node.clock.nowUs()
      progress = setInterval(() => {
        const s = rec.stats()
        const events = s.reduce((n, x) => n + x.events, 0)
        const now = node.clock.nowUs()
        const rate = (events - lastEvents) / ((now - lastUs) / 1e6)
        lastEvents = events
        lastUs = now
        const missing = s.reduce((n, x) => n + x.missing, 0)
        const lost = s.reduce((n, x) => n + x.lost, 0)
        status.print({ event: 'progress', events, rate: Math.round(rate * 10) / 10, missing, lost, bytes: rec.writer.bytes, streams: s.map(x => ({ port: x.port, events: x.events, missing: x.missing, lost: x.lost })) },
          `${events} events (${rate.toFixed(1)}/s), ${missing} missing, ${lost} lost, ${(rec.writer.bytes / 1e6).toFixed(2)} MB`)
      }, progressS * 1000)
      if (durationS !== undefined) timer = setTimeout(() => { end.resolve('duration') }, durationS * 1000)
      const reason = await end.promise
      clearInterval(progress)
      clearTimeout(timer)
      const stats: RecordedStreamStats[] = await rec.stop()
      if (rec.error !== undefined) throw rec.error
      const events = stats.reduce((n, x) => n + x.events, 0)
      const missing = stats.reduce((n, x) => n + x.missing, 0)
      const lost = stats.reduce((n, x) => n + x.lost, 0)
      const durationS2 = (node.clock.nowUs() - rec.startUs) / 1e6
      const summary = { summary: true, path, bytes: rec.writer.bytes, chunks: rec.writer.chunks, events, missing, lost, duration_s: Math.round(durationS2 * 1000) / 1000, ended: reason, streams: stats }
      out(json
        ? JSON.stringify(summary)
        : `summary: ${events} events in ${durationS2.toFixed(2)} s into ${path} (${(rec.writer.bytes / 1e6).toFixed(2)} MB), ${missing} missing, ${lost} lost; ` +
          stats.map(s => `${s.port}: ${s.events} events, ${s.missing} missing, ${s.lost} lost, ${s.reconnects} reconnects`).join('; '))
      if (stats.some(s => s.batches === 0 && s.events === 0) && stats.every(s => s.events === 0)) status.print({ event: 'warning', what: 'no events recorded' }, 'no events were recorded')
      return missing + lost > 0 ? 1 : EXIT_OK
    } finally {
      clearInterval(progress)
      clearTimeout(timer)
      removeSignals()
      if (recorder !== undefined) await recorder.stop().catch(() => {})
      if (!await within(node.stop(), CLOSE_TIMEOUT_MS)) status.print({ event: 'warning', step: 'stop', timeout_ms: CLOSE_TIMEOUT_MS }, `stopping the local node did not finish within ${CLOSE_TIMEOUT_MS} ms`)
    }
  }
}
