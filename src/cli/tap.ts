/** `spikewire tap`: subscribe to a remote out port and print its events live, then a summary. */
import { PORT_NAME_PATTERN } from '../codec/constants.ts'
import { SpikewireError } from '../codec/errors.ts'
import type { Subscription } from '../protocols/events/subscription.ts'
import type { Playout } from '../timing/compensate.ts'
import type { LatePolicy, PlayoutDelay } from '../timing/playout.ts'
import { startClient } from './client.ts'
import { EXIT_OK, UsageError, channelList, describeError, multiaddrArg, parseCommand, seconds } from './command.ts'
import type { Command } from './command.ts'
import { statusJson, statusText } from './format.ts'
import { Lines, err, out, stdoutClosed } from './output.ts'
import { within } from '../base/abort.ts'
import { onStopSignal } from './signals.ts'
import { TapErrors } from './tap-errors.ts'
import { TapPrinter } from './tap-printer.ts'

const help = `Usage: spikewire tap MULTIADDR PORT [--json] [--duration S] [--channels 0,1,5] [--quiet]
                     [--playout fixed:MS|adaptive|synaptic:MS] [--late deliver|drop]

Subscribe to the out port PORT of the node at MULTIADDR and print its events as they arrive.
The subscription reconnects when the link drops or the node restarts. At the end (after
--duration, or on SIGINT/SIGTERM) a summary line is printed: events, duration, rate, batches,
gaps (events missing from a stream), losses (events the publisher reported dropped),
reconnects and the time without data across them, and what ended streams and attempts,
counted by code: closes the publisher sent, its refusals, stream errors, failed attempts.

Status changes (connecting, open, retrying, closes, gaps, losses) go to stderr, one per line.

Exit status: 0 when it subscribed; 1 when the publisher refused the subscription for good
(e.g. unknown-port), or when it never subscribed in the time it ran (e.g. connection
refused for the whole --duration; the summary is printed first).
If stdout falls more than 4 MiB behind, whole batches are not printed; the summary counts them.

Options:
  --json            NDJSON on stdout, one line per event:
                    {"peer":...,"port":...,"channel":...,"time_us":...[,"value":...]}
                    and {"summary":true,...} at the end; status lines on stderr are JSON too
  --duration S      stop after S seconds (default: run until SIGINT)
  --channels LIST   only these channels, e.g. 0,1,5
  --quiet           print no events, only status lines and the summary
  --max-backoff S   longest wait between reconnect attempts (default 2)
  --playout MODE    print events when real-time playout delivers them, not as they arrive:
                    fixed:MS (delay D = MS ms), adaptive (D follows the 99.9th percentile of
                    the latency + 2 ms), synaptic:MS (a declared delay; later arrivals are
                    delivered at once and counted as violations). Event lines gain local_us,
                    due_us, at_us, late and violation; the summary gains the playout counts.
                    Events still queued at the end are counted as discarded. The playout
                    timer polls the last 2 ms before each delivery: at some hundreds of
                    events/s a tap with --playout keeps a core busy.
  --late POLICY     with fixed or adaptive playout: deliver late events flagged (default)
                    or drop them (counted either way)
  -h, --help        show this help
`

/** Parse --playout: fixed:MS, adaptive or synaptic:MS. */
function playoutArg (v: string): PlayoutDelay {
  if (v === 'adaptive') return { mode: 'adaptive' }
  const m = /^(fixed|synaptic):(\d+(?:\.\d+)?)$/.exec(v)
  if (m === null) throw new UsageError(`--playout must be fixed:MS, adaptive or synaptic:MS (got ${JSON.stringify(v)})`)
  const us = Math.round(Number(m[2]) * 1000)
  if (us > 60_000_000) throw new UsageError(`--playout delay must be at most 60000 ms (got ${m[2]})`)
  return { mode: m[1] as 'fixed' | 'synaptic', us }
}

/** How long closing may take before tap reports it and exits anyway. */
const CLOSE_TIMEOUT_MS = 3000

type EndReason = 'duration' | 'signal' | 'ended' | 'stdout-closed'

export const command: Command = {
  name: 'tap',
  help,
  async run (argv) {
    const p = parseCommand(argv, command, {
      json: { type: 'boolean' },
      duration: { type: 'string' },
      channels: { type: 'string' },
      quiet: { type: 'boolean' },
      'max-backoff': { type: 'string' },
      playout: { type: 'string' },
      late: { type: 'string' }
    }, ['MULTIADDR', 'PORT'])
    if (p === undefined) return EXIT_OK
    const target = await multiaddrArg(p.positionals[0])
    const port = p.positionals[1]
    if (!PORT_NAME_PATTERN.test(port)) throw new UsageError(`${JSON.stringify(port)} is not a port name (${PORT_NAME_PATTERN})`)
    const durationS = seconds(p, 'duration')
    const channels = channelList(p, 'channels')
    const maxBackoffS = seconds(p, 'max-backoff') ?? 2
    const json = p.values.json === true
    const delay = typeof p.values.playout === 'string' ? playoutArg(p.values.playout) : undefined
    const late = p.values.late
    if (late !== undefined && late !== 'deliver' && late !== 'drop') throw new UsageError(`--late must be deliver or drop (got ${JSON.stringify(late)})`)
    if (late !== undefined && (delay === undefined || delay.mode === 'synaptic')) throw new UsageError('--late applies to --playout fixed:MS or adaptive')
    const status = new Lines(json, line => { err(json ? line : `tap: ${line}`) })
    const closed = stdoutClosed()

    const errors = new TapErrors()
    let lastError: Error | undefined
    const node = await startClient('spikewire-tap')
    const startUs = node.clock.nowUs()
    const printer = new TapPrinter({
      json,
      quiet: p.values.quiet === true,
      closed,
      onSkip: skipping => {
        status.print({ event: 'output', skipping }, skipping ? 'stdout is not keeping up: not printing (counted in the summary)' : 'stdout caught up: printing again')
      }
    })
    let sub: Subscription | undefined
    let playout: Playout | undefined
    let reason: EndReason
    const end = Promise.withResolvers<EndReason>()
    const removeSignals = onStopSignal('tap', () => { end.resolve('signal') })
    const timer = durationS === undefined ? undefined : setTimeout(() => { end.resolve('duration') }, durationS * 1000)
    closed.addEventListener('abort', () => { end.resolve('stdout-closed') }, { once: true })
    try {
      status.print({ event: 'status', state: 'connecting', attempt: 0, target, port }, `connecting to ${target} ${port}`)
      sub = node.subscribe(target, port, { channels, reconnect: { maxDelayMs: maxBackoffS * 1000 } })
      watch(sub, status, errors)
      sub.addEventListener('status', e => { lastError = e.detail.error ?? lastError })
      if (delay === undefined) sub.onBatch(d => { printer.batch(d) })
      else playout = node.playout(sub, { delay, late: late as LatePolicy | undefined, onEvent: e => { printer.played(e) } })
      void sub.done().then(() => { end.resolve('ended') })
      reason = await end.promise
      clearTimeout(timer)
      // Unsubscribe first, then stop the playout: an event that arrives while unsubscribing is still played
      // (or counted as discarded), so that every received event is accounted for in the summary.
      if (!await within(sub.close(), CLOSE_TIMEOUT_MS)) status.print({ event: 'warning', step: 'unsubscribe', timeout_ms: CLOSE_TIMEOUT_MS }, `unsubscribing did not finish within ${CLOSE_TIMEOUT_MS} ms`)
      playout?.close()
    } finally {
      removeSignals()
      clearTimeout(timer)
      if (!await within(node.stop(), CLOSE_TIMEOUT_MS)) status.print({ event: 'warning', step: 'stop', timeout_ms: CLOSE_TIMEOUT_MS }, `stopping the local node did not finish within ${CLOSE_TIMEOUT_MS} ms`)
    }
    const durationUs = node.clock.nowUs() - startUs
    if (reason === 'ended' && sub.error !== undefined && sub.stats.connects === 0) throw sub.error
    if (!closed.aborted) printSummary(sub, printer, errors, durationUs, reason, json, playout)
    if (reason === 'ended' && sub.error !== undefined) throw sub.error
    if (sub.stats.connects === 0 && (reason === 'duration' || reason === 'signal')) {
      // Scripts must be able to tell a tap that never reached its port from a quiet port.
      const ranS = (durationUs / 1e6).toFixed(1)
      const why = lastError === undefined ? '' : ` (last error: ${describeError(lastError)})`
      throw new SpikewireError('timeout', `never subscribed to ${port} at ${target} in the ${ranS} s it ran${why}`)
    }
    return EXIT_OK
  }
}

function watch (sub: Subscription, status: Lines, errors: TapErrors): void {
  sub.addEventListener('close', e => {
    const { code, reason } = e.detail
    errors.close(code)
    status.print({ event: 'close', code, reason }, `the publisher closed the stream: ${String(code)}${reason === undefined ? '' : ` (${reason})`}`)
  })
  sub.addEventListener('status', e => {
    const s = e.detail
    errors.status(s)
    if (s.state === 'connecting' && s.attempt === 0) return
    const peer = s.state === 'open' ? sub.peer : undefined
    status.print({ event: 'status', ...statusJson(s), peer }, peer === undefined ? statusText(s) : `open (peer ${peer})`)
  })
  sub.addEventListener('gap', e => {
    const g = e.detail
    if (g.reason === 'sequence') {
      status.print({ event: 'gap', reason: g.reason, missing: g.missing }, `gap: ${g.missing ?? '?'} events missing`)
    } else {
      const ms = ((g.toUs ?? 0) - (g.fromUs ?? 0)) / 1000
      status.print({ event: 'gap', reason: g.reason, gap_ms: round1(ms) }, `reconnected: ${ms.toFixed(1)} ms without data`)
    }
  })
  sub.addEventListener('loss', e => {
    status.print({ event: 'loss', count: e.detail.count, reason: e.detail.reason }, `loss: the publisher dropped ${e.detail.count} events (${String(e.detail.reason)})`)
  })
}

function printSummary (sub: Subscription, printer: TapPrinter, errors: TapErrors, durationUs: number, reason: EndReason, json: boolean, playout: Playout | undefined): void {
  const s = sub.stats
  const durationS = durationUs / 1e6
  const clock = sub.clock?.estimate()
  const lat = sub.latency.snapshot()
  const summary = {
    summary: true,
    peer: sub.peer,
    port: sub.port,
    events: s.events,
    duration_s: Math.round(durationS * 1000) / 1000,
    rate: round1(durationS > 0 ? s.events / durationS : 0),
    batches: s.batches,
    gaps: s.gapEvents,
    losses: s.lostEvents,
    loss_notices: s.lossNotices,
    streams: s.connects,
    reconnects: Math.max(0, s.connects - 1),
    reconnect_gaps: s.reconnectGaps,
    reconnect_gap_ms: round1(s.reconnectGapUs / 1000),
    watermarks: s.watermarks,
    latency_p50_us: num(sub.latency.snapshot().p50Us),
    latency_p99_us: num(sub.latency.snapshot().p99Us),
    latency_max_us: num(sub.latency.snapshot().maxUs),
    latency_samples: sub.latency.snapshot().count,
    clock_offset_us: clock === undefined ? null : num(clock.offsetUs),
    clock_uncertainty_us: clock === undefined ? null : num(clock.uncertaintyUs),
    printed: printer.printedEvents,
    not_printed: printer.notPrintedEvents,
    not_printed_batches: printer.notPrintedBatches,
    ...errors.json(),
    ...playoutSummary(playout),
    ended: reason
  }
  out(json
    ? JSON.stringify(summary)
    : `summary: ${s.events} events in ${durationS.toFixed(2)} s (${summary.rate} events/s), ${s.batches} batches, ` +
      `${s.gapEvents} missing (gaps), ${s.lostEvents} lost, ${summary.reconnects} reconnects ` +
      `(${summary.reconnect_gap_ms} ms without data), ${printer.notPrintedEvents} not printed` +
      (lat.count > 0 ? `; latency p50 ${(lat.p50Us / 1000).toFixed(3)} ms, p99 ${(lat.p99Us / 1000).toFixed(3)} ms, max ${(lat.maxUs / 1000).toFixed(3)} ms` : '') +
      (clock !== undefined && Number.isFinite(clock.uncertaintyUs) ? `; clock offset ${(clock.offsetUs / 1000).toFixed(3)} ± ${(clock.uncertaintyUs / 1000).toFixed(3)} ms` : '') +
      (errors.text() === '' ? '' : `; ${errors.text()}`) +
      (s.connects === 0 ? '; never subscribed' : '') +
      (playout === undefined ? '' : playoutText(summary)))
}

/** The playout part of the summary (none without --playout). */
function playoutSummary (playout: Playout | undefined): Record<string, unknown> {
  if (playout === undefined) return {}
  const s = playout.stats()
  return {
    playout_mode: playout.buffer.mode,
    playout_delay_us: num(s.delayUs),
    played: s.delivered,
    late: s.late,
    late_dropped: s.lateDropped,
    violations: s.violations,
    out_of_order: s.outOfOrder,
    overflow: s.overflow,
    discarded: s.discarded,
    timing_mean_error_us: num(s.timing.meanErrorUs),
    timing_max_error_us: num(s.timing.maxErrorUs)
  }
}

function playoutText (s: Record<string, unknown>): string {
  return `; playout ${String(s.playout_mode)} D ${((s.playout_delay_us as number) / 1000).toFixed(3)} ms: ${String(s.played)} played, ` +
    `${String(s.late)} late (${String(s.late_dropped)} dropped), ${String(s.violations)} delay violations, ${String(s.overflow)} overflow, ` +
    `${String(s.discarded)} discarded at the end`
}

/** A finite number rounded to 0.1, or null (JSON has no NaN). */
function num (x: number): number | null {
  return Number.isFinite(x) ? round1(x) : null
}

function round1 (x: number): number {
  return Math.round(x * 10) / 10
}
