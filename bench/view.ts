/**
 * The live view's frame pacing (npm run bench:view -- [--seconds 20] [--screenshot PATH]).
 *
 * One node (a real `spikewire node` child process) with three out ports of 1024 channels each, all fed by
 * Poisson sources all the time: `idle` (0 Hz per channel), `low` (1 Hz per channel, 1,024 events/s) and
 * `full` (20 Hz per channel, 20,480 events/s). For each port in turn, a real `spikewire view` child process
 * serves the page, headless Debian chromium (playwright-core) opens it, the page subscribes to that port only,
 * and after 3 s of warm-up the page measures for --seconds with requestAnimationFrame: frames, the intervals'
 * p50/p99/max, long frames (interval > 2 × the display interval, the median interval of the run) and the
 * display intervals they missed (dropped frames), events received and drawn, the receive latency (the page's
 * worker: arrival − event time through the clock estimate) and the draw latency (the frame that drew an event −
 * its time); Chrome's own Performance.getMetrics gives the renderer main thread's busy time (TaskDuration) over
 * the same span (the page's worker, which holds the libp2p peer, is not in it). `idle` is the baseline: the
 * same page, the same node load, no events; `low` a second one; `full-not-drawn` the page receiving the full
 * port without drawing its raster (`?draw=0`), which separates the cost of receiving from that of drawing. Last, `spikewire tap --quiet` subscribes to the
 * `full` port over the same /ws address for min(--seconds, 10) s with no browser open: the latency baseline
 * of a Node subscriber (phase `tap-ws`).
 *
 * Headless chromium has no display: it paces requestAnimationFrame with its own 60 Hz begin-frame timer, and a
 * frame that runs long delays the next one, as on a display. What it does not show is the compositor and GPU
 * cost of putting pixels on a screen (--disable-gpu: software raster).
 *
 * One JSON line per phase on stdout.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { CDPSession, Page } from 'playwright-core'
import { chromiumPath, launch } from '../test/view/browser.ts'
import type { ViewHooks, ViewState } from '../src/view/page.ts'
import { sleep } from './report.ts'

declare global {
  interface Window { spikewireView: ViewHooks }
}

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    screenshot: { type: 'string' }
  }
})
const SECONDS = Number(args.seconds)
const WARMUP_S = 3
const CHANNELS = 1024
const PHASES = [
  { phase: 'idle', port: 'idle', rateHz: 0, baseline: true, draw: true },
  { phase: 'low', port: 'low', rateHz: 1, baseline: true, draw: true },
  { phase: 'full-not-drawn', port: 'full', rateHz: 20, baseline: true, draw: false },
  { phase: 'full', port: 'full', rateHz: 20, baseline: false, draw: true }
]
const ROOT = resolve(import.meta.dirname, '..')
const NODE = join(ROOT, 'node_modules/.bin/node')
const MAIN = join(ROOT, 'src/cli/main.ts')

class Proc {
  readonly child: ChildProcess
  out = ''
  err = ''
  constructor (cliArgs: string[]) {
    this.child = spawn(NODE, [MAIN, ...cliArgs], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBUG: '' } })
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => { this.out += s })
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => { this.err += s })
  }

  async line (fn: (l: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
    const end = Date.now() + timeoutMs
    for (;;) {
      const found = this.out.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>).find(fn)
      if (found !== undefined) return found
      if (this.child.exitCode !== null || Date.now() > end) throw new Error(`no such line: ${this.out.slice(-1000)} ${this.err.slice(-1000)}`)
      await sleep(50)
    }
  }

  async stop (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise(resolve => this.child.once('close', resolve))
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
}

async function state (page: Page): Promise<ViewState> {
  return await page.evaluate(() => window.spikewireView.state())
}

/** The renderer main thread's busy time so far, s (Chrome's Performance.getMetrics TaskDuration). */
async function taskSeconds (cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics')
  return metrics.find(m => m.name === 'TaskDuration')?.value ?? NaN
}

const r2 = (x: number | null | undefined): number | null => x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 100) / 100

async function main (): Promise<void> {
  const chromium = chromiumPath()
  if (chromium.path === undefined) {
    process.stdout.write(JSON.stringify({ bench: 'view', skipped: chromium.reason }) + '\n')
    return
  }
  const dir = await mkdtemp(join(tmpdir(), 'net-view-bench-'))
  const procs: Proc[] = []
  const browser = await launch(chromium.path)
  try {
    const config = {
      name: 'view-bench',
      identity: join(dir, 'node.key'),
      listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'],
      ports: PHASES.filter(p => p.draw).map((p, i) => ({ name: p.port, direction: 'out', channels: CHANNELS, source: { type: 'poisson', rateHz: p.rateHz, seed: 11 + i } }))
    }
    await writeFile(join(dir, 'node.json'), JSON.stringify(config))
    const node = new Proc(['node', '--json', '--config', join(dir, 'node.json')])
    procs.push(node)
    const started = await node.line(l => l.event === 'started', 30_000)
    const ws = (started.multiaddrs as string[]).find(a => a.includes('/ws/'))!
    for (const p of PHASES) {
      const view = new Proc(['view', ws, p.port, '--http', '127.0.0.1:0', '--json'])
      procs.push(view)
      const url = (await view.line(l => l.event === 'serving', 60_000)).url as string
      const page = await browser.newPage({ viewport: { width: 1000, height: 900 } })
      const cdp = await page.context().newCDPSession(page)
      await cdp.send('Performance.enable')
      await page.goto(p.draw ? url : `${url}?draw=0`)
      const end = Date.now() + 30_000
      for (;;) {
        const s = await state(page)
        if (s.status === 'open' && (p.rateHz === 0 || s.ports[0]?.events > 0)) break
        if (s.status === 'error' || Date.now() > end) throw new Error(`the page did not open: ${JSON.stringify(s)}`)
        await sleep(100)
      }
      await sleep(WARMUP_S * 1000)
      const before = (await state(page)).ports[0]
      const task0 = await taskSeconds(cdp)
      await page.evaluate(() => { window.spikewireView.resetFrames() })
      await sleep(SECONDS * 1000)
      const frames = await page.evaluate(() => window.spikewireView.frames())
      const task1 = await taskSeconds(cdp)
      const after = (await state(page)).ports[0]
      const durationS = frames.durationMs / 1000
      const received = after.events - before.events
      process.stdout.write(JSON.stringify({
        bench: 'view',
        phase: p.phase,
        baseline: p.baseline,
        drawn: p.draw,
        channels: CHANNELS,
        rate_hz_per_channel: p.rateHz,
        target_events_per_s: CHANNELS * p.rateHz,
        duration_s: r2(durationS),
        frames: frames.frames,
        fps: r2(frames.fps),
        display_interval_ms: r2(frames.displayIntervalMs),
        frame_p50_ms: r2(frames.p50Ms),
        frame_p99_ms: r2(frames.p99Ms),
        frame_max_ms: r2(frames.maxMs),
        long_frames: frames.longFrames,
        dropped_frames: frames.droppedFrames,
        events_received: received,
        received_per_s: r2(received / durationS),
        events_drawn: after.drawn - before.drawn,
        events_not_drawn: after.notDrawn - before.notDrawn,
        gaps: after.gaps,
        losses: after.losses,
        latency_p50_ms: r2(after.latencyP50Us === null ? null : after.latencyP50Us / 1000),
        latency_p99_ms: r2(after.latencyP99Us === null ? null : after.latencyP99Us / 1000),
        shown_p50_ms: r2(after.shownP50Us === null ? null : after.shownP50Us / 1000),
        shown_p99_ms: r2(after.shownP99Us === null ? null : after.shownP99Us / 1000),
        main_thread_busy: r2((task1 - task0) / durationS),
        load_avg_1m: r2(loadavg()[0]),
        browser: `chromium ${browser.version()} headless, --disable-gpu`
      }) + '\n')
      if (p.phase === 'full' && args.screenshot !== undefined) {
        await mkdir(dirname(args.screenshot), { recursive: true })
        await page.screenshot({ path: args.screenshot, fullPage: true })
      }
      await page.close()
      await view.stop()
    }
    // Latency baseline from the same run: a Node subscriber (spikewire tap) on the full port over the same /ws
    // address, with the browser's page closed.
    const tap = new Proc(['tap', ws, 'full', '--json', '--quiet', '--duration', String(Math.min(SECONDS, 10))])
    procs.push(tap)
    const summary = await tap.line(l => l.summary === true, (SECONDS + 30) * 1000)
    process.stdout.write(JSON.stringify({
      bench: 'view',
      phase: 'tap-ws',
      baseline: true,
      channels: CHANNELS,
      rate_hz_per_channel: 20,
      target_events_per_s: CHANNELS * 20,
      duration_s: summary.duration_s,
      events_received: summary.events,
      received_per_s: summary.rate,
      gaps: summary.gaps,
      losses: summary.losses,
      latency_p50_ms: r2((summary.latency_p50_us as number) / 1000),
      latency_p99_ms: r2((summary.latency_p99_us as number) / 1000),
      subscriber: 'spikewire tap --quiet over the same /ws address (Node)'
    }) + '\n')
  } finally {
    await browser.close()
    for (const p of procs.reverse()) await p.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
