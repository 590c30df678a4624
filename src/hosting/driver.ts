/**
 * Drives a model in real time into an `out` port: every tick it advances the model to the clock's now,
 * emits what the model produced (times rounded to whole µs) and raises the port's watermark to now.
 */
import { logger } from '@libp2p/logger'
import type { Clock } from '../base/clock.ts'
import type { Model } from '../models/index.ts'
import type { OutPort } from '../ports/out-port.ts'

const log = logger('spikewire:driver')

export interface DriverStats {
  ticks: number
  emitted: number
  /** Events the port refused (out of order or behind its watermark): a model or clock fault. */
  refused: number
}

export class RealTimeDriver {
  readonly model: Model
  readonly port: OutPort
  readonly stats: DriverStats = { ticks: 0, emitted: 0, refused: 0 }
  readonly #clock: Clock
  readonly #timer: ReturnType<typeof setInterval>

  constructor (model: Model, port: OutPort, clock: Clock, tickMs = 1) {
    this.model = model
    this.port = port
    this.#clock = clock
    port.manualWatermark()
    this.#timer = setInterval(() => { this.tick() }, tickMs)
  }

  /** Advance the model to now and emit its output. */
  tick (): void {
    this.stats.ticks++
    this.advanceTo(this.#clock.nowUs())
  }

  /** Advance the model to `tUs` (not beyond now) and emit its output up to there. */
  advanceTo (tUs: number): void {
    try {
      const t = Math.min(tUs, this.#clock.nowUs())
      if (t <= this.model.timeUs) return
      this.model.advanceTo(t, (channel, timeUs, value) => {
        if (this.port.emit(channel, Math.round(timeUs), value)) this.stats.emitted++
        else this.stats.refused++
      })
      this.port.advance(Math.floor(t))
    } catch (err) {
      log.error('model %s failed: %e', this.model.describe().name, err)
    }
  }

  stop (): void {
    clearInterval(this.#timer)
  }
}
