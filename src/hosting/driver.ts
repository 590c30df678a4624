/**
 * Drives a model in real time into an `out` port: every tick it advances the model to the clock's now,
 * emits what the model produced (times rounded to whole µs) and raises the port's watermark to now.
 *
 * Start: a model that places itself on the time line when it starts (the replay source, see
 * src/models/REPLAY-FORMAT.md, "Start") declares `start`. With 'first-subscriber' the driver waits until
 * the port has a stream (a subscriber or a push link), then calls `startAt(now)` and runs; until then it
 * neither advances the model nor the port's watermark. Every other model runs from construction.
 */
import { logger } from '@libp2p/logger'
import type { Clock } from '../base/clock.ts'
import { ModelUsageError } from '../models/errors.ts'
import type { Model, ReplayStart } from '../models/index.ts'
import type { OutPort } from '../ports/out-port.ts'

const log = logger('spikewire:driver')

export interface DriverStats {
  ticks: number
  emitted: number
  /** Events the port refused (out of order or behind its watermark): a model or clock fault. */
  refused: number
}

export interface RealTimeDriverOptions {
  /** Tick period, ms (default 1). */
  tickMs?: number
  /**
   * When the model starts (default: the model's own `start`, else 'now'). 'first-subscriber' needs a
   * model with `startAt` (the replay source).
   */
  start?: ReplayStart
}

/** A model that can be placed on the time line when it starts. */
interface Startable {
  readonly start?: ReplayStart
  startAt: (tUs: number) => void
}

function startable (m: Model): Startable | undefined {
  return typeof (m as Partial<Startable>).startAt === 'function' ? m as unknown as Startable : undefined
}

export class RealTimeDriver {
  readonly model: Model
  readonly port: OutPort
  readonly stats: DriverStats = { ticks: 0, emitted: 0, refused: 0 }
  /** When the driver is to start the model. */
  readonly start: ReplayStart
  readonly #clock: Clock
  readonly #timer: ReturnType<typeof setInterval>
  #startedUs: number | undefined
  #stopWaiting: (() => void) | undefined

  constructor (model: Model, port: OutPort, clock: Clock, options: RealTimeDriverOptions = {}) {
    this.model = model
    this.port = port
    this.#clock = clock
    const s = startable(model)
    this.start = options.start ?? s?.start ?? 'now'
    if (this.start !== 'now' && this.start !== 'first-subscriber') {
      throw new ModelUsageError('invalid-start', `start must be "first-subscriber" or "now" (got ${String(this.start)})`)
    }
    if (this.start === 'first-subscriber' && s === undefined) {
      throw new ModelUsageError('invalid-start', `model ${model.describe().name} cannot wait for a first subscriber: it has no startAt`)
    }
    port.manualWatermark()
    if (this.start === 'now' || port.senders.size > 0) this.#begin()
    else this.#stopWaiting = port.onAttach(() => { this.#begin() })
    this.#timer = setInterval(() => { this.tick() }, options.tickMs ?? 1)
  }

  /** Local time the model was started, µs (undefined while it waits for a first stream). */
  get startedUs (): number | undefined {
    return this.#startedUs
  }

  /** Advance the model to now and emit its output (nothing while it waits to start). */
  tick (): void {
    this.stats.ticks++
    this.advanceTo(this.#clock.nowUs())
  }

  /** Advance the model to `tUs` (not beyond now) and emit its output up to there. */
  advanceTo (tUs: number): void {
    if (this.#startedUs === undefined) return
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
    this.#stopWaiting?.()
    this.#stopWaiting = undefined
  }

  #begin (): void {
    if (this.#startedUs !== undefined) return
    this.#stopWaiting?.()
    this.#stopWaiting = undefined
    const now = this.#clock.nowUs()
    this.#startedUs = now
    if (this.start === 'first-subscriber') {
      startable(this.model)!.startAt(now)
      log('model %s started on the first stream of port %s', this.model.describe().name, this.port.name)
    }
  }
}
