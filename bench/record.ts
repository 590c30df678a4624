/**
 * Recording benchmark (npm run bench:record -- --json): `spikewire record` of a publisher's two ports (spike
 * and weighted) into an XDF file, beside a plain subscriber in the same run — `spikewire tap --quiet` on each
 * port, subscribed to the same publisher at the same time — as the baseline.
 *
 * For each target rate (--rates, events/s over both ports), bench/record-publisher.ts emits for --seconds once
 * the recorder and the taps have subscribed. Reported per rate, one JSON line:
 *   emitted / recorded (read back from the file with the project's reader) / missing / lost — zero loss means
 *   recorded = emitted and missing = lost = 0; recorded_rate (recorded events / emitting time);
 *   latency p50/p99 (event time mapped into the receiver's clock → arrival) of the recorder and of the taps;
 *   CPU seconds of the recorder process and of the two taps together (utime + stime from /proc, from the
 *   publisher's first event to 1 s after its last), per million events;
 *   file bytes per event. Write lag: the recorder writes a Samples chunk per stream every 100 ms, so an event
 *   reaches the file at most 100 ms + its latency after its time.
 * The sustained figure is the highest rate with zero loss.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { readXdfFile } from '../src/xdf/index.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rates: { type: 'string', default: '2000,20000,50000,100000' },
    seconds: { type: 'string', default: '5' }
  }
})
const ROOT = resolve(import.meta.dirname, '..')
const NODE = join(ROOT, 'node_modules/.bin/node')
const seconds = Number(args.seconds)

class Proc {
  readonly child: ChildProcess
  out = ''
  err = ''
  readonly exited: Promise<number | null>
  constructor (file: string, argv: string[]) {
    this.child = spawn(NODE, [file, ...argv], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => { this.out += s })
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => { this.err += s })
    this.exited = new Promise(resolve => { this.child.on('close', code => { resolve(code) }) })
  }

  lines (): Array<Record<string, unknown>> {
    return this.out.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>)
  }

  async until (fn: (l: Record<string, unknown>) => boolean, ms = 30_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms
    for (;;) {
      const hit = this.lines().find(fn)
      if (hit !== undefined) return hit
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`no expected line: ${this.out.slice(-500)} ${this.err.slice(-500)}`)
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  }

  /** utime + stime of the process so far, seconds. */
  async cpuS (): Promise<number> {
    const f = (await readFile(`/proc/${this.child.pid}/stat`, 'utf8')).split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) / 100
  }
}

const CLI = join(ROOT, 'src/cli/main.ts')
const results: Array<Record<string, unknown>> = []
const dir = await mkdtemp(join(tmpdir(), 'spikewire-bench-record-'))
try {
  for (const rate of args.rates.split(',').map(Number)) {
    const pub = new Proc(join(ROOT, 'bench/record-publisher.ts'), ['--rate', String(rate / 2), '--seconds', String(seconds), '--subscribers', '2', '--seed', '3'])
    const procs = [pub]
    try {
      const addr = ((await pub.until(l => l.event === 'started')).multiaddrs as string[])[0]
      const path = join(dir, `r${rate}.xdf`)
      const rec = new Proc(CLI, ['record', addr, 'spikes', addr, 'weights', '--out', path, '--json', '--progress', '1'])
      const taps = ['spikes', 'weights'].map(port => new Proc(CLI, ['tap', addr, port, '--quiet', '--json']))
      procs.push(rec, ...taps)
      await pub.until(l => l.event === 'emitting')
      // CPU while the events flow only (not the processes' start).
      const recCpu0 = await rec.cpuS()
      const tapCpu0 = (await taps[0].cpuS()) + (await taps[1].cpuS())
      const done = await pub.until(l => l.event === 'done', (seconds + 60) * 1000)
      await new Promise(resolve => setTimeout(resolve, 1000))
      const recCpu = (await rec.cpuS()) - recCpu0
      const tapCpu = (await taps[0].cpuS()) + (await taps[1].cpuS()) - tapCpu0
      for (const p of [rec, ...taps]) p.child.kill('SIGINT')
      await Promise.all([rec, ...taps].map(async p => await p.exited))
      const summary = rec.lines().at(-1)!
      const tapSums = taps.map(t => t.lines().at(-1)!)
      const file = readXdfFile(path)
      const recorded = file.streams.filter(s => s.header.name !== 'spikewire-recorder').reduce((n, s) => n + s.count, 0)
      const emitted = done.emitted as number
      const streams = summary.streams as Array<Record<string, number | null>>
      const maxOf = (xs: Array<number | null | undefined>): number | null => xs.some(x => typeof x !== 'number') ? null : Math.max(...xs as number[])
      const r = {
        bench: 'record',
        rate_target: rate,
        seconds: done.seconds,
        emitted,
        recorded,
        missing: summary.missing,
        lost: summary.lost,
        zero_loss: recorded === emitted && summary.missing === 0 && summary.lost === 0,
        recorded_rate: Math.round(recorded / (done.seconds as number)),
        baseline_events: tapSums.reduce((n, s) => n + (s.events as number), 0),
        baseline_gaps: tapSums.reduce((n, s) => n + (s.gaps as number) + (s.losses as number), 0),
        recorder_latency_p50_us: maxOf(streams.map(s => s.latencyP50Us)),
        recorder_latency_p99_us: maxOf(streams.map(s => s.latencyP99Us)),
        baseline_latency_p50_us: maxOf(tapSums.map(s => s.latency_p50_us as number | null)),
        baseline_latency_p99_us: maxOf(tapSums.map(s => s.latency_p99_us as number | null)),
        recorder_cpu_s_per_mevent: Math.round(recCpu / (emitted / 1e6) * 100) / 100,
        baseline_cpu_s_per_mevent: Math.round(tapCpu / (emitted / 1e6) * 100) / 100,
        file_bytes_per_event: Math.round((await stat(path)).size / Math.max(1, recorded) * 100) / 100
      }
      results.push(r)
      process.stdout.write(args.json ? `${JSON.stringify(r)}\n` : `${rate} events/s target: ${recorded}/${emitted} recorded (${r.recorded_rate}/s), ${String(r.missing)} missing, ${String(r.lost)} lost; latency p50/p99 recorder ${String(r.recorder_latency_p50_us)}/${String(r.recorder_latency_p99_us)} µs, taps ${String(r.baseline_latency_p50_us)}/${String(r.baseline_latency_p99_us)} µs; CPU s per M events recorder ${r.recorder_cpu_s_per_mevent}, taps ${r.baseline_cpu_s_per_mevent}; ${r.file_bytes_per_event} bytes/event\n`)
    } finally {
      for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL')
    }
  }
  const sustained = results.filter(r => r.zero_loss === true).map(r => r.recorded_rate as number)
  const s = { bench: 'record-sustained', max_zero_loss_rate: sustained.length > 0 ? Math.max(...sustained) : 0, rates_tried: results.map(r => r.rate_target) }
  process.stdout.write(args.json ? `${JSON.stringify(s)}\n` : `highest rate recorded with zero loss: ${s.max_zero_loss_rate} events/s\n`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
