/**
 * Real-time playout buffer for one incoming stream. Each event, stamped in the sender's clock, is mapped to
 * local time and delivered at mapped time + D, so that the intervals between events survive network jitter.
 *
 * Delay modes:
 * - fixed: D is constant.
 * - adaptive: D tracks a high percentile of the observed latency plus a margin. It slews toward that target
 *   at a bounded rate (µs of D per µs of event time), so the interval between two events is stretched or
 *   shrunk by at most that fraction while D moves.
 * - synaptic: D is a declared axonal/synaptic delay d. An event arriving by time + d is delivered exactly
 *   then; one arriving later is delivered at once and counted as a delay violation (never dropped).
 *
 * Order: the queue is kept in event-time order (an event overtaken in the network is put back in place)
 * and an event's delivery time, fixed when it arrives, lies between those of its neighbours, so a change
 * of D never reorders scheduled events. In the fixed and adaptive modes an event that arrives after its
 * slot is late: with policy 'deliver' it goes out as soon as the events before it have, flagged; with
 * 'drop' it is discarded. An event older than one already delivered (out of order) is late too. All
 * are counted.
 * The queue is bounded: an event arriving at a full queue is dropped and counted as overflow.
 *
 * Delivery happens from scheduler timers, and synchronously inside push() for an event due already.
 */
import { logger } from '@libp2p/logger'
import { check } from './check.ts'
import { ClosedError } from './errors.ts'
import { DelayController } from './delay.ts'
import { LatencyTracker } from '../protocols/clock/latency.ts'
import type { PlayoutDelay } from './delay.ts'
import type { LatencySnapshot } from '../protocols/clock/latency.ts'
import type { Scheduler, TimerHandle } from './scheduler.ts'
import { TimingErrors } from './timing-errors.ts'
import type { TimingErrorStats } from './timing-errors.ts'

const log = logger('spikewire:timing:playout')

export type LatePolicy = 'deliver' | 'drop'
export type { AdaptiveDelay, FixedDelay, PlayoutDelay, SynapticDelay } from './delay.ts'

export interface PlayoutDelivery<T> {
  item: T
  /** Event time, sender clock, µs. */
  timeUs: number
  /** Event time mapped to the local clock, µs. */
  mappedUs: number
  /** Scheduled delivery time, local µs. */
  dueUs: number
  /** Actual delivery time (scheduler clock), local µs. */
  atUs: number
  /** Arrived after its slot, or after a later event was delivered, in fixed/adaptive mode. */
  late: boolean
  /** Synaptic mode: arrived after time + d. */
  violation: boolean
}

export interface PlayoutStats {
  received: number
  delivered: number
  /** Events that arrived after their slot or out of order (delivered flagged or dropped, per policy). */
  late: number
  lateDropped: number
  /** Events older than one already delivered (also counted as late, or as violations in synaptic mode). */
  outOfOrder: number
  /** Synaptic mode: events that arrived after time + d. */
  violations: number
  overflow: number
  /** Dropped by close(). */
  discarded: number
  /** onDeliver threw (logged and counted; playout goes on). */
  callbackErrors: number
  queued: number
  delayUs: number
  targetDelayUs: number
  latency: LatencySnapshot
  /**
   * Delivery time − due time over on-time deliveries: the scheduler's precision (with leadUs, how far
   * past its due time an event was handed over; 0 when it was handed over before).
   */
  timing: TimingErrorStats
}

export interface PlayoutOptions<T> {
  scheduler: Scheduler
  delay: PlayoutDelay
  onDeliver: (delivery: PlayoutDelivery<T>) => void
  /** Map a sender timestamp to local time, e.g. t => estimator.toLocal(t).localUs. Default identity. */
  toLocal?: (remoteUs: number) => number
  /** Default 'deliver'. */
  late?: LatePolicy
  /** Default 65536. */
  maxQueue?: number
  /** Latency observations kept for percentiles. Default 4096. */
  latencyWindow?: number
  /** A 'stats' event is dispatched at most this often (on activity), µs. Default 1 s. */
  statsEveryUs?: number
  /**
   * Hand each event to onDeliver this long before its due time, µs: for a consumer that waits for
   * `dueUs` itself, such as a DeliveryThread. `atUs` is then the hand-over time. Default 0.
   */
  leadUs?: number
}

interface Entry<T> { item: T, timeUs: number, mappedUs: number, dueUs: number, late: boolean, violation: boolean }

export class PlayoutBuffer<T> extends EventTarget {
  readonly #s: Scheduler
  readonly #delay: DelayController
  readonly #onDeliver: (d: PlayoutDelivery<T>) => void
  readonly #toLocal: (remoteUs: number) => number
  readonly #policy: LatePolicy
  readonly #maxQueue: number
  readonly #statsEvery: number
  readonly #latency: LatencyTracker
  readonly #lead: number
  #queue: Array<Entry<T>> = []
  #head = 0
  #timer: TimerHandle | undefined
  #nextStatsUs: number
  #lastDeliveredTimeUs = -Infinity
  #lastDeliveredDueUs = -Infinity
  #closed = false
  #idle: Array<() => void> = []
  readonly #timing = new TimingErrors()
  readonly #c = { received: 0, delivered: 0, late: 0, lateDropped: 0, outOfOrder: 0, violations: 0, overflow: 0, discarded: 0, callbackErrors: 0 }

  constructor (options: PlayoutOptions<T>) {
    super()
    this.#delay = new DelayController(options.delay)
    this.#s = options.scheduler
    this.#onDeliver = options.onDeliver
    this.#toLocal = options.toLocal ?? (t => t)
    this.#policy = options.late ?? 'deliver'
    check(this.#policy === 'deliver' || this.#policy === 'drop', `late policy must be 'deliver' or 'drop' (got ${this.#policy})`)
    this.#maxQueue = options.maxQueue ?? 65536
    check(Number.isInteger(this.#maxQueue) && this.#maxQueue >= 1, `maxQueue must be an integer ≥ 1 (got ${this.#maxQueue})`)
    this.#statsEvery = options.statsEveryUs ?? 1_000_000
    this.#lead = options.leadUs ?? 0
    check(Number.isFinite(this.#lead) && this.#lead >= 0, `leadUs must be a finite number ≥ 0 (got ${this.#lead})`)
    const window = options.latencyWindow
    check(window === undefined || (Number.isInteger(window) && window >= 1), `latencyWindow must be an integer ≥ 1 (got ${window})`)
    this.#latency = new LatencyTracker({ window })
    this.#nextStatsUs = this.#s.nowUs() + this.#statsEvery
  }

  /** The delay mode: fixed, adaptive or synaptic. */
  get mode (): PlayoutDelay['mode'] {
    return this.#delay.mode
  }

  /** Current playout delay D, µs (NaN in adaptive mode before the first event without initialUs). */
  get delayUs (): number {
    return this.#delay.delayUs
  }

  /** Accept one event stamped `timeUs` in the sender's clock. */
  push (timeUs: number, item: T): void {
    if (this.#closed) throw new ClosedError('playout buffer')
    const now = this.#s.nowUs()
    const mappedUs = this.#toLocal(timeUs)
    this.#c.received++
    this.#latency.record(now - mappedUs)
    const d = this.#delay.next(now, mappedUs, this.#latency)
    const dueUs = mappedUs + d
    // Too old to be put in order: an event with a later time was already delivered.
    const outOfOrder = timeUs < this.#lastDeliveredTimeUs
    if (outOfOrder) this.#c.outOfOrder++
    const synaptic = this.#delay.mode === 'synaptic'
    const missed = dueUs < now || outOfOrder
    const late = !synaptic && missed
    const violation = synaptic && missed
    if (late) {
      this.#c.late++
      if (this.#policy === 'drop') {
        this.#c.lateDropped++
        this.#maybeStats(now)
        return
      }
    }
    if (violation) this.#c.violations++
    if (this.#queue.length - this.#head >= this.#maxQueue) {
      this.#c.overflow++
      this.#maybeStats(now)
      return
    }
    // Keep the queue in event-time order (an event overtaken in the network is put back in place) and
    // delivery times non-decreasing along it: never before the previous event's, never after the next's.
    let i = this.#queue.length
    while (i > this.#head && this.#queue[i - 1].timeUs > timeUs) i--
    const prevSlot = i > this.#head ? this.#queue[i - 1].dueUs : this.#lastDeliveredDueUs
    let slot = Math.max(missed ? now : dueUs, prevSlot)
    if (i < this.#queue.length) slot = Math.min(slot, this.#queue[i].dueUs)
    const entry = { item, timeUs, mappedUs, dueUs: slot, late, violation }
    if (i === this.#queue.length) this.#queue.push(entry)
    else this.#queue.splice(i, 0, entry)
    this.#drain()
  }

  /** Statistics so far. */
  stats (): PlayoutStats {
    return {
      ...this.#c,
      queued: this.#queue.length - this.#head,
      delayUs: this.#delay.delayUs,
      targetDelayUs: this.#delay.targetUs,
      latency: this.#latency.snapshot(),
      timing: this.#timing.stats()
    }
  }

  /** Subscribe to periodic stats; returns a function that unsubscribes. */
  onStats (fn: (stats: PlayoutStats) => void): () => void {
    const listener = (evt: Event): void => { fn((evt as CustomEvent<PlayoutStats>).detail) }
    this.addEventListener('stats', listener)
    return () => { this.removeEventListener('stats', listener) }
  }

  /** Resolves when the queue is empty (at once if it is). */
  async idle (options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#queue.length === this.#head) return
    options.signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        options.signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = (): void => {
        this.#idle = this.#idle.filter(f => f !== done)
        reject(options.signal?.reason)
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      this.#idle.push(done)
    })
  }

  /** Stop: cancel the timer and discard queued events (counted as discarded). Further push() throws. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#timer !== undefined) this.#s.clearTimer(this.#timer)
    this.#timer = undefined
    this.#c.discarded += this.#queue.length - this.#head
    this.#queue = []
    this.#head = 0
    this.#resolveIdle()
  }

  #drain (): void {
    const now = this.#s.nowUs()
    while (this.#head < this.#queue.length && this.#queue[this.#head].dueUs - this.#lead <= now) {
      const e = this.#queue[this.#head++]
      this.#c.delivered++
      if (e.timeUs > this.#lastDeliveredTimeUs) this.#lastDeliveredTimeUs = e.timeUs
      this.#lastDeliveredDueUs = e.dueUs
      if (!e.late && !e.violation) {
        const err = Math.max(0, now - e.dueUs)
        this.#timing.record(err)
      }
      try {
        this.#onDeliver({ item: e.item, timeUs: e.timeUs, mappedUs: e.mappedUs, dueUs: e.dueUs, atUs: now, late: e.late, violation: e.violation })
      } catch (err) {
        this.#c.callbackErrors++
        log.error('onDeliver threw: %e', err)
      }
      if (this.#closed) return
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
    this.#arm()
    if (this.#queue.length === this.#head) this.#resolveIdle()
    this.#maybeStats(now)
  }

  #arm (): void {
    const next = this.#queue[this.#head]
    if (this.#timer !== undefined && (next === undefined || this.#timer.atUs !== next.dueUs - this.#lead)) {
      this.#s.clearTimer(this.#timer)
      this.#timer = undefined
    }
    if (next !== undefined && this.#timer === undefined) {
      this.#timer = this.#s.setTimer(next.dueUs - this.#lead, () => {
        this.#timer = undefined
        this.#drain()
      })
    }
  }

  #resolveIdle (): void {
    const waiters = this.#idle
    this.#idle = []
    for (const w of waiters) w()
  }

  #maybeStats (now: number): void {
    if (now < this.#nextStatsUs) return
    this.#nextStatsUs = now + this.#statsEvery
    this.dispatchEvent(new CustomEvent<PlayoutStats>('stats', { detail: this.stats() }))
  }
}
