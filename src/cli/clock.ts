/** `spikewire clock`: synchronise with a remote node's clock and print offset ± uncertainty, round trip, drift. */
import { untilAborted } from '../base/abort.ts'
import { startClient } from './client.ts'
import { EXIT_FAILURE, EXIT_OK, multiaddrArg, parseCommand, seconds } from './command.ts'
import type { Command } from './command.ts'
import { out, err } from './output.ts'
import { onStopSignal } from './signals.ts'
import type { ClockEstimate } from '../protocols/clock/estimator.ts'

const help = `Usage: spikewire clock MULTIADDR [--json] [--duration S]

Run the clock protocol (/spikewire/clock/1.0.0) against the node at MULTIADDR and print, after every
burst of probes, the estimated offset of its clock from this machine's clock with its uncertainty, the
best round trip and the drift. The offset θ is remote − local: the remote's timestamp T is local time
T − θ. The uncertainty bounds the error (half the best round trip, the fit's error and the drift since
the last sample). It ends after --duration seconds (default 10), or on SIGINT, with a summary line.

Options:
  --json          one JSON object per estimate, and {"summary":true,...} at the end
  --duration S    how long to measure (default 10)
  -h, --help      show this help

Exit codes: 0 when an estimate was made, 1 when none was (no answer), 2 usage error.
`

function line (e: ClockEstimate, json: boolean, elapsedS: number): string {
  const o = {
    t_s: Math.round(elapsedS * 1000) / 1000,
    offset_us: Math.round(e.offsetUs * 10) / 10,
    uncertainty_us: Math.round(e.uncertaintyUs * 10) / 10,
    rtt_us: Math.round(e.rttUs * 10) / 10,
    drift_ppm: Math.round(e.driftPpm * 100) / 100,
    drift_uncertainty_ppm: Math.round(e.driftUncertaintyPpm * 100) / 100,
    samples: e.samples,
    converged: e.converged
  }
  if (json) return JSON.stringify(o)
  return `${o.t_s.toFixed(1).padStart(6)} s  offset ${(e.offsetUs / 1000).toFixed(3)} ± ${(e.uncertaintyUs / 1000).toFixed(3)} ms  ` +
    `rtt ${(e.rttUs / 1000).toFixed(3)} ms  drift ${o.drift_ppm.toFixed(2)} ± ${o.drift_uncertainty_ppm.toFixed(2)} ppm` +
    `${e.converged ? '' : '  (converging)'}`
}

export const command: Command = {
  name: 'clock',
  help,
  async run (argv) {
    const p = parseCommand(argv, command, { json: { type: 'boolean' }, duration: { type: 'string' } }, ['MULTIADDR'])
    if (p === undefined) return EXIT_OK
    const target = await multiaddrArg(p.positionals[0])
    const json = p.values.json === true
    const durationS = seconds(p, 'duration') ?? 10
    const node = await startClient('spikewire-clock')
    const start = node.clock.nowUs()
    const done = new AbortController()
    const offSignals = onStopSignal('clock', () => { done.abort() })
    const timer = setTimeout(() => { done.abort() }, durationS * 1000)
    try {
      const pc = node.clockFor(target)
      // Nothing is printed after the summary: an answer still in flight while the node stops would put an
      // estimate line after it (seen on a busy machine).
      let ended = false
      pc.addEventListener('estimate', e => { if (!ended) out(line(e.detail, json, (node.clock.nowUs() - start) / 1e6)) })
      pc.addEventListener('status', e => {
        if (e.detail.state === 'retrying') err(`clock: ${e.detail.error?.message ?? 'link lost'}; retrying`)
      })
      await untilAborted(done.signal)
      ended = true
      const e = pc.estimate()
      const ok = Number.isFinite(e.uncertaintyUs)
      const s = pc.stats
      if (json) {
        out(JSON.stringify({ summary: true, peer: target, ...JSON.parse(line(e, true, (node.clock.nowUs() - start) / 1e6)), probes: s.probes, answers: s.answers, timeouts: s.timeouts }))
      } else {
        out(ok ? `summary: ${line(e, false, (node.clock.nowUs() - start) / 1e6).trim()}; ${s.answers}/${s.probes} probes answered` : `summary: no estimate (${s.answers}/${s.probes} probes answered)`)
      }
      return ok ? EXIT_OK : EXIT_FAILURE
    } finally {
      clearTimeout(timer)
      offSignals()
      await node.stop()
    }
  }
}
