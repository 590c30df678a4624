/// <reference lib="dom" />
/**
 * The live view's page script (bundled by esbuild into view.js): the browser is a libp2p peer of its own
 * (peer.ts) that asks the node's description, syncs its clock with it and subscribes to its out ports
 * (session.ts), then draws each port on every animation frame (draw.ts). Counts, rates, latency, clock and
 * frame pacing are also exposed as `window.spikewireView` for tests and benchmarks.
 */
import { SystemClock } from '../base/clock.ts'
import type { Description } from '../codec/index.ts'
import type { Subscription } from '../protocols/events/subscription.ts'
import { VIEW_PATHS } from './config.ts'
import type { ViewConfig } from './config.ts'
import { Raster, drawRates } from './draw.ts'
import { FrameMeter } from './frames.ts'
import type { FrameReport } from './frames.ts'
import { createViewPeer } from './peer.ts'
import { PortView } from './port-view.ts'
import { openViewSession } from './session.ts'
import type { ViewSession } from './session.ts'

/** How often the numbers and the rate bars are redrawn, ms. */
const TEXT_MS = 250

interface Panel {
  view: PortView
  raster: Raster
  rates: HTMLCanvasElement
  fields: Record<string, HTMLElement>
  sub: Subscription
  state: string
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
let session: ViewSession | undefined

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

function finite (x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null
}

function ms (us: number | null, digits = 2): string {
  return us === null ? '–' : (us / 1000).toFixed(digits)
}

function portState (p: Panel): PortState {
  const s = p.sub.stats
  const lat = p.sub.latency.snapshot()
  return {
    port: p.view.port,
    channels: p.view.channels,
    state: p.state,
    events: p.view.events,
    batches: p.view.batches,
    gaps: s.gapEvents,
    losses: s.lostEvents,
    reconnects: Math.max(0, s.connects - 1),
    drawn: p.raster.drawn,
    notDrawn: p.raster.notDrawn,
    rate: p.view.rate,
    latencyP50Us: lat.count > 0 ? finite(lat.p50Us) : null,
    latencyP99Us: lat.count > 0 ? finite(lat.p99Us) : null
  }
}

function clockState (): ViewState['clock'] {
  const e = session?.time.estimate()
  return e === undefined ? undefined : { offsetUs: finite(e.offsetUs), uncertaintyUs: finite(e.uncertaintyUs) }
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

function addPanel (s: ViewSession, info: ViewSession['ports'][number], windowMs: number): void {
  const view = new PortView(info.info.name, info.info.channels)
  const section = el('section', undefined, 'port')
  section.dataset.port = view.port
  section.append(el('h2', `${view.port} · ${view.channels} channels · ${info.info.kind}`))
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
  const panel: Panel = { view, raster: new Raster(raster, view, windowMs), rates, fields, sub: info.sub, state: 'connecting' }
  info.sub.onBatch(d => { view.add(d.batch, clock.nowUs()) })
  info.sub.addEventListener('status', e => {
    const { state, error } = e.detail
    const code = (error as { code?: unknown } | undefined)?.code
    panel.state = error === undefined ? state : `${state} (${typeof code === 'string' ? code : error.message})`
  })
  panels.push(panel)
  void s
}

let lastText = 0

function updateText (): void {
  for (const p of panels) {
    const s = portState(p)
    p.fields.state.textContent = s.state
    p.fields.events.textContent = String(s.events)
    p.fields.rate.textContent = `${s.rate.toFixed(0)}/s`
    p.fields.gaps.textContent = String(s.gaps)
    p.fields.losses.textContent = String(s.losses)
    p.fields.reconnects.textContent = String(s.reconnects)
    p.fields.latency.textContent = s.latencyP50Us === null ? '–' : `p50 ${ms(s.latencyP50Us)} ms, p99 ${ms(s.latencyP99Us)} ms`
    drawRates(p.rates, p.view)
  }
  const c = clockState()
  document.getElementById('clock')!.textContent = c === undefined || c.offsetUs === null
    ? 'clock: no estimate yet'
    : `clock offset ${ms(c.offsetUs, 3)} ± ${ms(c.uncertaintyUs, 3)} ms (node − browser)`
}

function frame (t: number): void {
  meter.frame(t)
  const now = clock.nowUs()
  const time = session?.time
  const toLocal = time === undefined ? (x: number) => x : (x: number) => time.toLocal(x)
  for (const p of panels) {
    p.view.tick(now)
    if (drawing) p.raster.draw(now, toLocal)
  }
  if (t - lastText >= TEXT_MS) {
    lastText = t
    updateText()
  }
  requestAnimationFrame(frame)
}

window.spikewireView = {
  state: () => ({ status, error, description: session?.description, clock: clockState(), ports: panels.map(portState) }),
  countSince: (port, timeUs) => panels.find(p => p.view.port === port)?.view.countSince(timeUs),
  frames: () => meter.report(),
  resetFrames: () => { meter.reset() }
}

async function main (): Promise<void> {
  const res = await fetch(VIEW_PATHS.config)
  const cfg = await res.json() as ViewConfig
  setStatus('connecting', `connecting to ${cfg.target}`)
  const libp2p = await createViewPeer(cfg.target)
  session = await openViewSession(libp2p, cfg.target, cfg.ports, clock)
  renderDescription(session.description)
  for (const p of session.ports) addPanel(session, p, cfg.windowMs)
  setStatus('open', `connected to ${session.description.name} over WebSockets (${cfg.target})`)
  window.addEventListener('pagehide', () => { void session?.close().then(async () => { await libp2p.stop() }) })
}

requestAnimationFrame(frame)
main().catch((err: unknown) => {
  error = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  setStatus('error', `cannot view: ${error}`)
})
