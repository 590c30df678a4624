/**
 * Time-ordered merge of several input streams into one, the way conservative parallel simulators and
 * stream processors do it: an event is released only when no input can still send an earlier one.
 *
 * All times are in one common clock (the caller maps each sender's times to local time first).
 * Each input has a frontier: the largest of its watermark ("no event before T will follow") and its last
 * event time (events of an input come in time order). An event at time t from input j is released when
 * every other live input i has frontier > t, or frontier = t and i > j. Releases are in order of
 * (time, input index, arrival), so the output is deterministic.
 *
 * An input silent (no event and no watermark) for `stallAfterUs` of local time is stalled: it is reported
 * ('stall' event) and no longer holds the others back. When it speaks again it rejoins ('resume'); its
 * events older than what was already released are late: delivered at once and flagged (policy 'deliver')
 * or dropped ('drop'), counted either way. A closed input never holds back. Per-input queues are bounded:
 * an event arriving at a full queue is dropped and counted as overflow.
 */
import { logger } from '@libp2p/logger'
import { ClosedError, InvalidTimingOptionError, UnknownInputError } from './errors.ts'
import type { LatePolicy } from './playout.ts'
import type { Scheduler, TimerHandle } from './scheduler.ts'

const log = logger('spikewire:timing:merge')

export interface MergeDelivery<T> {
  item: T
  timeUs: number
  input: number
  name: string
  /** Older than an event already released (an input that rejoined, or out of order). */
  late: boolean
}

export interface InputStats {
  name: string
  received: number
  delivered: number
  late: number
  lateDropped: number
  overflow: number
  stalls: number
  stalled: boolean
  closed: boolean
  queued: number
  frontierUs: number
}

export interface MergeStats {
  delivered: number
  late: number
  lateDropped: number
  overflow: number
  stalls: number
  inputs: InputStats[]
}

export interface StallInfo { input: number, name: string, silentUs: number }

export interface MergeOptions<T> {
  scheduler: Scheduler
  onDeliver: (delivery: MergeDelivery<T>) => void
  /** Local time without event or watermark after which an input is stalled, µs. Default 500 ms. */
  stallAfterUs?: number
  /** Default 'deliver'. */
  late?: LatePolicy
  /** Per-input queue bound. Default 65536. */
  maxQueue?: number
}

interface Entry<T> { item: T, timeUs: number, seq: number }

interface Input<T> {
  name: string
  queue: Array<Entry<T>>
  head: number
  frontierUs: number
  lastHeardUs: number
  stalled: boolean
  closed: boolean
  s: Omit<InputStats, 'name' | 'stalled' | 'closed' | 'queued' | 'frontierUs'>
}

export class TimeMerge<T> extends EventTarget {
  readonly #s: Scheduler
  readonly #onDeliver: (d: MergeDelivery<T>) => void
  readonly #stallAfter: number
  readonly #policy: LatePolicy
  readonly #maxQueue: number
  readonly #inputs: Array<Input<T> | undefined> = []
  #seq = 0
  #lastT = -Infinity
  #lastInput = -1
  #timer: TimerHandle | undefined
  #closed = false

  constructor (options: MergeOptions<T>) {
    super()
    this.#s = options.scheduler
    this.#onDeliver = options.onDeliver
    this.#stallAfter = options.stallAfterUs ?? 500_000
    this.#policy = options.late ?? 'deliver'
    this.#maxQueue = options.maxQueue ?? 65536
    if (!(this.#stallAfter > 0)) throw new InvalidTimingOptionError(`stallAfterUs must be > 0 (got ${this.#stallAfter})`)
    if (this.#policy !== 'deliver' && this.#policy !== 'drop') throw new InvalidTimingOptionError(`late policy must be 'deliver' or 'drop' (got ${this.#policy})`)
    if (!Number.isInteger(this.#maxQueue) || this.#maxQueue < 1) throw new InvalidTimingOptionError(`maxQueue must be an integer ≥ 1 (got ${this.#maxQueue})`)
  }

  /** Add an input; returns its index (also its rank for ties). It holds the others back from now on. */
  addInput (name = `input-${this.#inputs.length}`): number {
    if (this.#closed) throw new ClosedError('merge')
    this.#inputs.push({
      name, queue: [], head: 0, frontierUs: -Infinity, lastHeardUs: this.#s.nowUs(), stalled: false, closed: false,
      s: { received: 0, delivered: 0, late: 0, lateDropped: 0, overflow: 0, stalls: 0 }
    })
    this.#arm()
    return this.#inputs.length - 1
  }

  /** An event of `input` at `timeUs` (common clock). */
  push (input: number, timeUs: number, item: T): void {
    const inp = this.#heard(input)
    inp.s.received++
    if (timeUs > inp.frontierUs) inp.frontierUs = timeUs
    if (timeUs < this.#lastT || (timeUs === this.#lastT && input < this.#lastInput)) {
      inp.s.late++
      if (this.#policy === 'drop') {
        inp.s.lateDropped++
      } else {
        inp.s.delivered++
        this.#deliver({ item, timeUs, input, name: inp.name, late: true })
      }
    } else if (inp.queue.length - inp.head >= this.#maxQueue) {
      inp.s.overflow++
    } else {
      this.#insert(inp, { item, timeUs, seq: this.#seq++ })
    }
    this.#drain()
  }

  /** `input` promises no event before `timeUs` will follow. Also a heartbeat. */
  watermark (input: number, timeUs: number): void {
    const inp = this.#heard(input)
    if (timeUs > inp.frontierUs) inp.frontierUs = timeUs
    this.#drain()
  }

  /** `input` has ended: its queued events are still released in order, and it never holds back again. */
  closeInput (input: number): void {
    const inp = this.#get(input)
    inp.closed = true
    inp.frontierUs = Infinity
    this.#drain()
  }

  stats (): MergeStats {
    const inputs = this.#inputs.filter((i): i is Input<T> => i !== undefined).map(i => ({
      name: i.name, ...i.s, stalled: i.stalled, closed: i.closed, queued: i.queue.length - i.head, frontierUs: i.frontierUs
    }))
    const sum = (k: 'delivered' | 'late' | 'lateDropped' | 'overflow' | 'stalls'): number => inputs.reduce((a, i) => a + i[k], 0)
    return { delivered: sum('delivered'), late: sum('late'), lateDropped: sum('lateDropped'), overflow: sum('overflow'), stalls: sum('stalls'), inputs }
  }

  /** Subscribe to stalls / resumes; each returns a function that unsubscribes. */
  onStall (fn: (info: StallInfo) => void): () => void {
    return this.#on('stall', fn)
  }

  onResume (fn: (info: StallInfo) => void): () => void {
    return this.#on('resume', fn)
  }

  /** Stop the stall timer; queued events are dropped. Further calls throw ClosedError. */
  close (): void {
    this.#closed = true
    if (this.#timer !== undefined) this.#s.clearTimer(this.#timer)
    this.#timer = undefined
  }

  #on (type: string, fn: (info: StallInfo) => void): () => void {
    const listener = (evt: Event): void => { fn((evt as CustomEvent<StallInfo>).detail) }
    this.addEventListener(type, listener)
    return () => { this.removeEventListener(type, listener) }
  }

  #get (input: number): Input<T> {
    if (this.#closed) throw new ClosedError('merge')
    const inp = this.#inputs[input]
    if (inp === undefined) throw new UnknownInputError(input)
    return inp
  }

  #heard (input: number): Input<T> {
    const inp = this.#get(input)
    const now = this.#s.nowUs()
    if (inp.stalled) {
      inp.stalled = false
      log('input %s resumed after %d µs', inp.name, now - inp.lastHeardUs)
      this.dispatchEvent(new CustomEvent<StallInfo>('resume', { detail: { input, name: inp.name, silentUs: now - inp.lastHeardUs } }))
    }
    inp.lastHeardUs = now
    return inp
  }

  #insert (inp: Input<T>, e: Entry<T>): void {
    const q = inp.queue
    let i = q.length
    while (i > inp.head && q[i - 1].timeUs > e.timeUs) i--
    q.splice(i, 0, e)
  }

  /** Release every event that is safe, then arm the stall timer. */
  #drain (): void {
    for (;;) {
      let best = -1
      let bestE: Entry<T> | undefined
      for (let i = 0; i < this.#inputs.length; i++) {
        const inp = this.#inputs[i]
        const e = inp?.queue[inp.head]
        if (e === undefined) continue
        if (bestE === undefined || e.timeUs < bestE.timeUs) {
          best = i
          bestE = e
        }
      }
      if (bestE === undefined || !this.#safe(best, bestE.timeUs)) break
      const inp = this.#inputs[best] as Input<T>
      inp.head++
      if (inp.head > 1024 && inp.head * 2 > inp.queue.length) {
        inp.queue = inp.queue.slice(inp.head)
        inp.head = 0
      }
      this.#lastT = bestE.timeUs
      this.#lastInput = best
      inp.s.delivered++
      this.#deliver({ item: bestE.item, timeUs: bestE.timeUs, input: best, name: inp.name, late: false })
      if (this.#closed) return
    }
    this.#arm()
  }

  #safe (j: number, t: number): boolean {
    for (let i = 0; i < this.#inputs.length; i++) {
      const inp = this.#inputs[i]
      if (i === j || inp === undefined || inp.stalled || inp.closed) continue
      if (!(inp.frontierUs > t || (inp.frontierUs === t && i > j))) return false
    }
    return true
  }

  #deliver (d: MergeDelivery<T>): void {
    try {
      this.#onDeliver(d)
    } catch (err) {
      log.error('onDeliver threw: %e', err)
    }
  }

  /** One timer at the earliest stall deadline; it re-checks the actual silence when it fires. */
  #arm (): void {
    if (this.#closed) return
    let deadline = Infinity
    for (const inp of this.#inputs) {
      if (inp === undefined || inp.stalled || inp.closed) continue
      deadline = Math.min(deadline, inp.lastHeardUs + this.#stallAfter)
    }
    if (this.#timer !== undefined && this.#timer.atUs <= deadline) return
    if (this.#timer !== undefined) this.#s.clearTimer(this.#timer)
    this.#timer = undefined
    if (deadline === Infinity) return
    this.#timer = this.#s.setTimer(deadline, () => {
      this.#timer = undefined
      this.#checkStalls()
    })
  }

  #checkStalls (): void {
    if (this.#closed) return
    const now = this.#s.nowUs()
    for (let i = 0; i < this.#inputs.length; i++) {
      const inp = this.#inputs[i]
      if (inp === undefined || inp.stalled || inp.closed) continue
      const silent = now - inp.lastHeardUs
      if (silent >= this.#stallAfter) {
        inp.stalled = true
        inp.s.stalls++
        log('input %s stalled: silent for %d µs', inp.name, silent)
        this.dispatchEvent(new CustomEvent<StallInfo>('stall', { detail: { input: i, name: inp.name, silentUs: silent } }))
      }
    }
    this.#drain()
  }
}
