/**
 * Frame pacing as the page sees it: the intervals between requestAnimationFrame callbacks. A frame is long
 * (dropped frames) when its interval exceeds twice the display interval, which is taken as the median
 * interval of the run unless given. No DOM.
 */
export interface FrameReport {
  frames: number
  durationMs: number
  fps: number
  displayIntervalMs: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** Intervals over 2 × the display interval. */
  longFrames: number
  /** Display intervals missed: Σ (round(interval / display interval) − 1) over long frames. */
  droppedFrames: number
}

/** Intervals kept at most (about 27 minutes at 60 Hz). */
const MAX_INTERVALS = 100_000

export class FrameMeter {
  #last: number | undefined
  #first: number | undefined
  #intervals: number[] = []
  readonly #displayMs: number | undefined

  constructor (displayIntervalMs?: number) {
    this.#displayMs = displayIntervalMs
  }

  /** A requestAnimationFrame timestamp, ms. */
  frame (ms: number): void {
    if (this.#last !== undefined && this.#intervals.length < MAX_INTERVALS) this.#intervals.push(ms - this.#last)
    this.#first ??= ms
    this.#last = ms
  }

  reset (): void {
    this.#last = undefined
    this.#first = undefined
    this.#intervals = []
  }

  report (): FrameReport {
    const s = [...this.#intervals].sort((a, b) => a - b)
    const q = (p: number): number => s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(p * s.length))]
    const display = this.#displayMs ?? q(0.5)
    const durationMs = this.#last === undefined || this.#first === undefined ? 0 : this.#last - this.#first
    let longFrames = 0
    let droppedFrames = 0
    for (const d of this.#intervals) {
      if (display > 0 && d > 2 * display) {
        longFrames++
        droppedFrames += Math.round(d / display) - 1
      }
    }
    return {
      frames: this.#intervals.length,
      durationMs,
      fps: durationMs > 0 ? this.#intervals.length * 1000 / durationMs : 0,
      displayIntervalMs: display,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      maxMs: s.length === 0 ? 0 : s[s.length - 1],
      longFrames,
      droppedFrames
    }
  }
}
