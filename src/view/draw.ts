/// <reference lib="dom" />
/**
 * Drawing one port on canvases: a scrolling raster (time to the right, one row band per channel) that draws
 * only the events new since the last frame and shifts what is already drawn, so a frame costs the new events,
 * not the whole window; and a strip of per-channel rates.
 */
import { LatencyTracker } from '../protocols/clock/latency.ts'
import type { PortView } from './port-view.ts'

/** Events whose draw latency is kept for percentiles (about 3 s at 20,000 events/s). */
export const SHOWN_WINDOW = 1 << 16

export const BACKGROUND = '#0b1020'
const DOT = '#7cf3b0'
const BAR = '#f0b35a'

export class Raster {
  readonly canvas: HTMLCanvasElement
  readonly #ctx: CanvasRenderingContext2D
  readonly #view: PortView
  readonly #usPerPx: number
  /** Events drawn, and events not drawn because they were already out of the window (or forgotten). */
  drawn = 0
  notDrawn = 0
  /**
   * Draw latency of the events drawn: the frame's time − the event's time in the local clock, µs (how far
   * behind its own time an event appears; a frame is on screen about one display interval later).
   */
  readonly shown = new LatencyTracker({ window: SHOWN_WINDOW })
  #next = 0
  #lastUs: number | undefined
  #carryPx = 0

  constructor (canvas: HTMLCanvasElement, view: PortView, windowMs: number) {
    this.canvas = canvas
    this.#ctx = canvas.getContext('2d', { alpha: false })!
    this.#view = view
    this.#usPerPx = windowMs * 1000 / canvas.width
    this.#ctx.fillStyle = BACKGROUND
    this.#ctx.fillRect(0, 0, canvas.width, canvas.height)
  }

  /** Draw up to local time `nowUs` (events at their local times, `PortView.locals`). */
  draw (nowUs: number): void {
    const ctx = this.#ctx
    const { width: w, height: h } = this.canvas
    if (this.#lastUs !== undefined) {
      this.#carryPx += (nowUs - this.#lastUs) / this.#usPerPx
      const shift = Math.floor(this.#carryPx)
      if (shift > 0) {
        this.#carryPx -= shift
        if (shift < w) ctx.drawImage(this.canvas, shift, 0, w - shift, h, 0, 0, w - shift, h)
        ctx.fillStyle = BACKGROUND
        ctx.fillRect(Math.max(0, w - shift), 0, Math.min(shift, w), h)
      }
    }
    this.#lastUs = nowUs
    const v = this.#view
    if (this.#next < v.oldest) {
      this.notDrawn += v.oldest - this.#next
      this.#next = v.oldest
    }
    const rowH = Math.max(1, h / v.channels)
    ctx.fillStyle = DOT
    for (let i = this.#next; i < v.events; i++) {
      const slot = i % v.locals.length
      const ageUs = nowUs - v.locals[slot]
      const x = Math.floor(w - 1 - ageUs / this.#usPerPx)
      if (x < 0) {
        this.notDrawn++
        continue
      }
      ctx.fillRect(Math.min(x, w - 1), Math.floor(v.chans[slot] * h / v.channels), 1, rowH)
      this.shown.record(ageUs)
      this.drawn++
    }
    this.#next = v.events
  }
}

/** Per-channel rates as bars (the tallest bar is the highest rate, printed at the left). */
export function drawRates (canvas: HTMLCanvasElement, view: PortView): void {
  const ctx = canvas.getContext('2d', { alpha: false })!
  const { width: w, height: h } = canvas
  ctx.fillStyle = BACKGROUND
  ctx.fillRect(0, 0, w, h)
  let max = 0
  for (const r of view.rates) max = Math.max(max, r)
  if (max <= 0) return
  const barW = Math.max(1, w / view.channels)
  ctx.fillStyle = BAR
  for (let c = 0; c < view.channels; c++) {
    const bh = Math.round(view.rates[c] / max * (h - 2))
    if (bh > 0) ctx.fillRect(Math.floor(c * w / view.channels), h - bh, barW, bh)
  }
}
