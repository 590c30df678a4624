/// <reference lib="dom" />
/**
 * The live view's page script (bundled by esbuild into view.js). The browser is a libp2p peer of its own, run
 * in a worker (worker.ts: peer.ts and session.ts — describe, clock sync, one subscription per port); this
 * main-thread script asks it once per animation frame for the events new since the last frame (messages.ts)
 * and draws each port (draw.ts). Counts, rates, latency, clock and frame pacing are also exposed as
 * `window.spikewireView` for tests and benchmarks.
 */
import { SystemClock } from '../base/clock.ts'
import type { Description, PortInfo } from '../codec/index.ts'
import { VIEW_PATHS } from './config.ts'
import type { ViewConfig } from './config.ts'
import { Raster, drawRates } from './draw.ts'
import { FrameMeter } from './frames.ts'
import type { FrameReport } from './frames.ts'
import type { FromWorker, PortData, ToWorker } from './messages.ts'
import { PortView } from './port-view.ts'

/** How often the numbers and the rate bars are redrawn, ms. */
const TEXT_MS = 250

interface Panel {
  view: PortView
  raster: Raster
  rates: HTMLCanvasElement
  fields: Record<string, HTMLElement>
  /** The worker's counts as of its last answer. */
  data?: PortData
}

export interface PortState {
  port: string
  channels: number
  state: string
  events: number
  batches: number
  gaps: number
  losses: number
  reconnects: number
  drawn: number
  notDrawn: number
  rate: number
  latencyP50Us: number | null
  latencyP99Us: number | null
  /** Draw latency (event time → the frame that drew it, local clock) over the last events drawn (draw.ts SHOWN_WINDOW). */
  shownP50Us: number | null
  shownP99Us: number | null
}

export interface ViewState {
  status: 'loading' | 'connecting' | 'open' | 'error'
  error?: string
  description?: Description & { peer: string }
  clock?: { offsetUs: number | null, uncertaintyUs: number | null }
  ports: PortState[]
}

export interface ViewHooks {
  state: () => ViewState
  /** Events of `port` with time ≥ `timeUs` (the node's clock), undefined when they may have been forgotten. */
  countSince: (port: string, timeUs: number) => number | undefined
  frames: () => FrameReport
  resetFrames: () => void
}

declare global {
  interface Window { spikewireView: ViewHooks }
}

const clock = new SystemClock()
/** `?draw=0`: receive and count, but leave the rasters alone (a benchmark's receive-only baseline). */
const drawing = new URLSearchParams(location.search).get('draw') !== '0'
const meter = new FrameMeter()
const panels: Panel[] = []
let status: ViewState['status'] = 'loading'
let error: string | undefined
let description: ViewState['description']
let clockNow: ViewState['clock']
let worker: Worker | undefined
/** A pull is out and not answered yet (at most one at a time). */
let pulling = false

function el<K extends keyof HTMLElementTagNameMap> (tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (text !== undefined) e.textContent = text
  if (cls !== undefined) e.className = cls
  return e
}

function setStatus (s: ViewState['status'], text: string): void {
  status = s
  const e = document.getElementById('status')!
  e.textContent = text
  e.dataset.state = s
}

function ms (us: number | null, digits = 2): string {
  return us === null ? '–' : (us / 1000).toFixed(digits)
}

/**
 * A port's counts: events as the page holds them (all received up to the worker's last answer), the rest as
 * the worker counts them. Without the draw latency, whose percentiles sort the raster's window.
 */
function portCounts (p: Panel): Omit<PortState, 'shownP50Us' | 'shownP99Us'> {
  const d = p.data
  return {
    port: p.view.port,
    channels: p.view.channels,
    state: d?.state ?? 'connecting',
    events: p.view.events,
    batches: d?.batches ?? 0,
    gaps: d?.gaps ?? 0,
    losses: d?.losses ?? 0,
    reconnects: Math.max(0, (d?.connects ?? 0) - 1),
    drawn: p.raster.drawn,
    notDrawn: p.raster.notDrawn,
    rate: p.view.rate,
    latencyP50Us: d?.latencyP50Us ?? null,
    latencyP99Us: d?.latencyP99Us ?? null
  }
}

/** A port's state for the hook: its counts and its draw latency. */
function portState (p: Panel): PortState {
  const shown = p.raster.shown.snapshot()
  return { ...portCounts(p), shownP50Us: shown.count > 0 ? shown.p50Us : null, shownP99Us: shown.count > 0 ? shown.p99Us : null }
}

function renderDescription (d: Description & { peer: string }): void {
  const box = document.getElementById('description')!
  box.replaceChildren()
  box.append(el('h1', d.name), el('p', `${d.role} · ${d.software} · ${d.peer}`, 'muted'))
  const table = el('table')
  const head = el('tr')
  for (const h of ['port', 'direction', 'kind', 'channels', 'model']) head.append(el('th', h))
  table.append(head)
  for (const p of d.ports) {
    const tr = el('tr')
    for (const v of [p.name, p.direction, p.kind, String(p.channels), p.model?.name ?? '']) tr.append(el('td', v))
    table.append(tr)
  }
  box.append(table)
}

const FIELDS = ['state', 'events', 'rate', 'gaps', 'losses', 'reconnects', 'latency']

function addPanel (info: PortInfo, windowMs: number): void {
  const view = new PortView(info.name, info.channels)
  const section = el('section', undefined, 'port')
  section.dataset.port = view.port
  section.append(el('h2', `${view.port} · ${view.channels} channels · ${info.kind}`))
  const stats = el('p', undefined, 'stats')
  const fields: Record<string, HTMLElement> = {}
  for (const f of FIELDS) {
    const label = el('span', `${f} `, 'label')
    const value = el('span', '–', 'value')
    value.dataset.field = f
    fields[f] = value
    stats.append(label, value, el('span', '  '))
  }
  const raster = el('canvas')
  raster.width = 900
  raster.height = Math.min(512, Math.max(128, view.channels * 2))
  raster.className = 'raster'
  const rates = el('canvas')
  rates.width = 900
  rates.height = 48
  rates.className = 'rates'
  section.append(stats, raster, el('p', `per-channel rate (last second), channel 0 at the left; ${windowMs / 1000} s window above`, 'muted'), rates)
  document.getElementById('ports')!.append(section)
  panels.push({ view, raster: new Raster(raster, view, windowMs), rates, fields })
}

/** The worker's answer to a pull: the new events of each port into its view, and the counts as they stand. */
function take (ports: PortData[], c: ViewState['clock']): void {
  const now = clock.nowUs()
  ports.forEach((d, i) => {
    const p = panels[i]
    if (p === undefined) return
    p.view.skip(d.skipped)
    if (d.count > 0) p.view.add(d, now)
    p.data = d
  })
  clockNow = c
}

let lastText = 0

function updateText (): void {
  for (const p of panels) {
    const s = portCounts(p)
    p.fields.state.textContent = s.state
    p.fields.events.textContent = String(s.events)
    p.fields.rate.textContent = `${s.rate.toFixed(0)}/s`
    p.fields.gaps.textContent = String(s.gaps)
    p.fields.losses.textContent = String(s.losses)
    p.fields.reconnects.textContent = String(s.reconnects)
    p.fields.latency.textContent = s.latencyP50Us === null ? '–' : `p50 ${ms(s.latencyP50Us)} ms, p99 ${ms(s.latencyP99Us)} ms`
    drawRates(p.rates, p.view)
  }
  const c = clockNow
  document.getElementById('clock')!.textContent = c === undefined || c.offsetUs === null
    ? 'clock: no estimate yet'
    : `clock offset ${ms(c.offsetUs, 3)} ± ${ms(c.uncertaintyUs, 3)} ms (node − browser)`
}

function frame (t: number): void {
  meter.frame(t)
  const now = clock.nowUs()
  for (const p of panels) {
    p.view.tick(now)
    if (drawing) p.raster.draw(now)
  }
  if (!pulling && status === 'open') {
    pulling = true
    post({ type: 'pull' })
  }
  if (t - lastText >= TEXT_MS) {
    lastText = t
    updateText()
  }
  requestAnimationFrame(frame)
}

window.spikewireView = {
  state: () => ({ status, error, description, clock: clockNow, ports: panels.map(portState) }),
  countSince: (port, timeUs) => panels.find(p => p.view.port === port)?.view.countSince(timeUs),
  frames: () => meter.report(),
  resetFrames: () => { meter.reset() }
}

function post (m: ToWorker): void {
  worker?.postMessage(m)
}

function fail (text: string): void {
  error = text
  setStatus('error', `cannot view: ${error}`)
}

async function main (): Promise<void> {
  const res = await fetch(VIEW_PATHS.config)
  const cfg = await res.json() as ViewConfig
  setStatus('connecting', `connecting to ${cfg.target}`)
  const w = new Worker(VIEW_PATHS.worker, { name: 'spikewire view peer' })
  worker = w
  w.onmessage = (e: MessageEvent<FromWorker>) => {
    const m = e.data
    if (m.type === 'data') {
      pulling = false
      take(m.ports, m.clock)
    } else if (m.type === 'open') {
      description = m.description
      renderDescription(m.description)
      for (const p of m.ports) addPanel(p, cfg.windowMs)
      setStatus('open', `connected to ${m.description.name} over WebSockets (${cfg.target})`)
    } else {
      fail(m.error)
    }
  }
  w.onerror = e => { fail(`the view's worker failed: ${e.message}`) }
  post({ type: 'start', config: cfg })
  window.addEventListener('pagehide', () => { post({ type: 'close' }) })
}

requestAnimationFrame(frame)
main().catch((err: unknown) => {
  fail(err instanceof Error ? `${err.name}: ${err.message}` : String(err))
})
