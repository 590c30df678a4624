/**
 * A delivery thread: events are handed to a worker thread ahead of their due time, and the worker calls a
 * driver module's `deliver(event)` at that time (delivery-worker.ts). The main thread of a node decodes
 * network input, decrypts, runs the clock protocol and collects garbage; any of these can hold it for a
 * millisecond or more, which is enough to push a timer past its slot. The worker does nothing but wait, so
 * its deliveries keep sub-0.1 ms precision where main-thread timers show a tail of several hundred µs
 * (README, playout benchmark). Use it where the callback drives hardware: a stimulator, a DAC, a chip.
 *
 * The driver module runs in the worker: it exports `deliver(event: TimedEvent)` (or the function named by
 * `exportName`), and optionally `init(options)` (awaited before the first delivery) and `close()`. It can
 * share memory with the main thread only through `options` (structured-cloned; SharedArrayBuffers are
 * shared). Without a module the thread only times deliveries (what the benchmark measures).
 *
 * Time: the worker reads the node's clock as hrtime + an offset measured on the main thread at every
 * hand-over. The clock must run in real time (not a ManualClock).
 *
 * Nothing is lost silently: every event handed over is reported back as delivered (with the worker's
 * delivery time), or counted as overflow (too many in flight), failed (the driver did not load or the
 * worker died) or discarded (still queued at close).
 */
import { MessageChannel, Worker } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import { logger } from '@libp2p/logger'
import { SystemClock } from '../base/clock.ts'
import type { Clock } from '../base/clock.ts'
import { check } from './check.ts'
import { ClosedError, DeliveryThreadError } from './errors.ts'
import type { TimedEvent } from './compensate.ts'
import { TimingErrors } from './timing-errors.ts'
import type { TimingErrorStats } from './timing-errors.ts'
import type { DeliveryWorkerData, PriorityResult } from './delivery-worker.ts'

export type { PriorityResult }

const log = logger('spikewire:timing:delivery-thread')

export interface DeliveryThreadOptions {
  /** The driver module: a file path or URL. Omitted: no driver, deliveries are only timed. */
  module?: string | URL
  /** Name of the delivery function the module exports. Default 'deliver'. */
  exportName?: string
  /** Passed (structured-cloned) to the module's `init(options)`. */
  options?: unknown
  /** The node's clock (real time). Default SystemClock. */
  clock?: Clock
  /**
   * The last part of each wait is a busy wait of this many µs (sleeps wake up to ≈0.1 ms late). Default
   * 500. Where due times come closer together than this, the worker busy-waits without pause: one core,
   * at the raised priority.
   */
  spinUs?: number
  /**
   * Nice value asked for the worker thread (Linux; −20 is the highest priority; needs CAP_SYS_NICE);
   * null leaves it alone. Default −20: under CPU load a thread of ordinary priority waits out whole
   * scheduler slices (ms) before its delivery runs. The outcome is in stats().priority.
   */
  priority?: number | null
  /** Events handed over and not yet reported back, at most. Default 65536. */
  maxInFlight?: number
  /** The worker reports deliveries in groups of at most this many, and whenever it goes to sleep. Default 256. */
  reportEvery?: number
}

export interface DeliveryThreadStats {
  handedOff: number
  delivered: number
  inFlight: number
  /** Not handed over: maxInFlight events were in flight. */
  overflow: number
  /** Handed over or offered to a thread whose driver failed to load or whose worker stopped. */
  failed: number
  /** Still queued in the worker when the thread closed. */
  discarded: number
  /** The driver's deliver() threw (counted; the thread goes on). */
  driverErrors: number
  /** The observer given to post() threw on the main thread. */
  observerErrors: number
  /** Handed over after their due time (the main thread was late: they are delivered at once). */
  lateHandoffs: number
  /** Delivery time − due time over events handed over in time, µs. */
  timing: TimingErrorStats
  /** The worker's priority: asked for, obtained (undefined until the worker is ready). */
  priority: PriorityResult | undefined
}

interface InFlight { event: TimedEvent, onDone: ((e: TimedEvent) => void) | undefined, timed: boolean }

type State = 'starting' | 'ready' | 'failed' | 'closing' | 'closed'

function moduleUrl (m: string | URL): string {
  if (m instanceof URL) return m.href
  return /^[a-z][a-z0-9+.-]*:/i.test(m) && !/^[a-z]:[\\/]/i.test(m) ? m : pathToFileURL(resolve(m)).href
}

export class DeliveryThread extends EventTarget {
  readonly #clock: Clock
  readonly #worker: Worker
  readonly #port: MessagePort
  readonly #signal: Int32Array
  readonly #maxInFlight: number
  readonly #inFlight = new Map<number, InFlight>()
  readonly #ready: Promise<void>
  #closed: Promise<void> | undefined
  #state: State = 'starting'
  #priority: PriorityResult | undefined
  #failure: DeliveryThreadError | undefined
  #nextId = 0
  #batch: Array<{ id: number, dueUs: number, event: TimedEvent }> = []
  #flushQueued = false
  readonly #timing = new TimingErrors()
  readonly #c = { handedOff: 0, delivered: 0, overflow: 0, failed: 0, discarded: 0, driverErrors: 0, observerErrors: 0, lateHandoffs: 0 }

  constructor (options: DeliveryThreadOptions = {}) {
    super()
    const spinUs = options.spinUs ?? 500
    const reportEvery = options.reportEvery ?? 256
    this.#maxInFlight = options.maxInFlight ?? 65536
    check(Number.isFinite(spinUs) && spinUs >= 0, `spinUs must be a finite number ≥ 0 (got ${spinUs})`)
    check(Number.isInteger(reportEvery) && reportEvery >= 1, `reportEvery must be an integer ≥ 1 (got ${reportEvery})`)
    check(Number.isInteger(this.#maxInFlight) && this.#maxInFlight >= 1, `maxInFlight must be an integer ≥ 1 (got ${this.#maxInFlight})`)
    const p = options.priority
    check(p === undefined || p === null || (Number.isInteger(p) && p >= -20 && p <= 19), `priority must be an integer in −20..19 or null (got ${String(p)})`)
    this.#clock = options.clock ?? new SystemClock()
    this.#signal = new Int32Array(new SharedArrayBuffer(4))
    const { port1, port2 } = new MessageChannel()
    this.#port = port1
    const data: DeliveryWorkerData = {
      signal: this.#signal.buffer as SharedArrayBuffer,
      port: port2,
      module: options.module === undefined ? '' : moduleUrl(options.module),
      exportName: options.exportName ?? 'deliver',
      options: options.options,
      spinUs,
      priority: options.priority === undefined ? -20 : options.priority,
      reportEvery
    }
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
    this.#worker = new Worker(new URL(`./delivery-worker${ext}`, import.meta.url), { workerData: data, transferList: [port2] })
    const ready = Promise.withResolvers<void>()
    this.#ready = ready.promise
    this.#ready.catch(() => {})
    this.#port.on('message', (msg: { type: string }) => {
      switch (msg.type) {
        case 'ready':
          this.#priority = (msg as unknown as { priority: PriorityResult }).priority
          if (this.#priority.error !== undefined) log('delivery thread priority %d not applied: %s', this.#priority.requested, this.#priority.error)
          if (this.#state === 'starting') this.#state = 'ready'
          ready.resolve()
          this.#updateRef()
          break
        case 'delivered':
          this.#onDelivered(msg as unknown as { ids: number[], atUs: number[], errors: number, messages: string[] })
          this.#updateRef()
          break
        case 'failed':
          this.#fail(new DeliveryThreadError(`the driver did not load: ${(msg as unknown as { message: string }).message}`))
          ready.reject(this.#failure)
          break
        case 'closed':
          log('worker closed, %d events discarded', (msg as unknown as { discarded: number }).discarded)
          break
      }
    })
    this.#worker.on('error', err => {
      this.#fail(new DeliveryThreadError(`the delivery worker stopped: ${err.message}`))
      ready.reject(this.#failure)
    })
    this.#worker.on('exit', code => {
      if (this.#state !== 'closing' && this.#state !== 'closed') {
        this.#fail(new DeliveryThreadError(`the delivery worker exited (code ${code})`))
        ready.reject(this.#failure)
      }
    })
    // The worker never keeps the process alive by itself; the port does while an answer is awaited (the
    // driver loading, or deliveries in flight), like a socket with a request outstanding.
    this.#worker.unref()
  }

  /** Resolves when the driver is loaded; rejects with DeliveryThreadError if it is not. */
  async ready (): Promise<void> {
    await this.#ready
  }

  /**
   * Hand `event` over, to be delivered at event.dueUs (at once if that has passed). `onDone` runs on this
   * thread once the worker reports the delivery, with event.atUs set to the worker's delivery time.
   * Returns false if the event was not handed over (closed, failed, or too many in flight); it is counted.
   */
  post (event: TimedEvent, onDone?: (e: TimedEvent) => void): boolean {
    if (this.#state === 'closing' || this.#state === 'closed') throw new ClosedError('delivery thread')
    if (this.#state === 'failed') {
      this.#c.failed++
      return false
    }
    if (this.#inFlight.size >= this.#maxInFlight) {
      this.#c.overflow++
      return false
    }
    const id = this.#nextId++
    const timed = !event.late && !event.violation && event.dueUs >= this.#clock.nowUs()
    if (!timed && !event.late && !event.violation) this.#c.lateHandoffs++
    this.#inFlight.set(id, { event, onDone, timed })
    this.#batch.push({ id, dueUs: event.dueUs, event })
    this.#c.handedOff++
    if (this.#inFlight.size === 1) this.#updateRef()
    if (!this.#flushQueued) {
      this.#flushQueued = true
      queueMicrotask(() => { this.#flush() })
    }
    return true
  }

  stats (): DeliveryThreadStats {
    return {
      ...this.#c,
      inFlight: this.#inFlight.size,
      priority: this.#priority,
      timing: this.#timing.stats()
    }
  }

  /**
   * Stop the worker: events still queued there are discarded (counted), the driver's close() runs.
   * Waits at most `timeoutMs` (default 2000) for the worker to finish, then terminates it.
   */
  async close (options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed !== undefined) { await this.#closed; return }
    this.#flush()
    const wasFailed = this.#state === 'failed'
    this.#state = 'closing'
    this.#closed = (async () => {
      if (!wasFailed) {
        const exited = new Promise<void>(resolve => { this.#worker.once('exit', () => { resolve() }) })
        this.#port.postMessage({ type: 'close' })
        this.#wake()
        const timer = setTimeout(() => { void this.#worker.terminate() }, options.timeoutMs ?? 2000)
        await exited
        clearTimeout(timer)
        // Reports posted just before the worker exited are still in the port.
        await new Promise(resolve => setImmediate(resolve))
      }
      // Whatever was handed over and not reported was still queued in the worker (a failed thread has
      // already counted its events as failed).
      this.#c.discarded += this.#inFlight.size
      this.#inFlight.clear()
      this.#port.close()
      this.#state = 'closed'
    })()
    await this.#closed
  }

  #flush (): void {
    this.#flushQueued = false
    if (this.#batch.length === 0 || this.#state === 'failed') return
    const events = this.#batch
    this.#batch = []
    const a = this.#clock.nowUs()
    const h = Number(process.hrtime.bigint()) / 1000
    const b = this.#clock.nowUs()
    this.#port.postMessage({ type: 'events', offsetUs: (a + b) / 2 - h, events })
    this.#wake()
  }

  /** Hold the process open while the worker owes an answer. */
  #updateRef (): void {
    if (this.#state === 'starting' || (this.#state === 'ready' && this.#inFlight.size > 0)) this.#port.ref()
    else this.#port.unref()
  }

  #wake (): void {
    Atomics.add(this.#signal, 0, 1)
    Atomics.notify(this.#signal, 0)
  }

  #onDelivered (msg: { ids: number[], atUs: number[], errors: number, messages: string[] }): void {
    if (msg.errors > 0) {
      this.#c.driverErrors += msg.errors
      for (const m of msg.messages) log.error('driver deliver() threw: %s', m)
    }
    for (let i = 0; i < msg.ids.length; i++) {
      const f = this.#inFlight.get(msg.ids[i])
      if (f === undefined) continue
      this.#inFlight.delete(msg.ids[i])
      this.#c.delivered++
      const e = f.event
      e.atUs = msg.atUs[i]
      if (f.timed) this.#timing.record(e.atUs - e.dueUs)
      if (f.onDone !== undefined) {
        try {
          f.onDone(e)
        } catch (err) {
          this.#c.observerErrors++
          log.error('delivery observer threw: %e', err)
        }
      }
    }
  }

  #fail (err: DeliveryThreadError): void {
    if (this.#state === 'failed' || this.#state === 'closed') return
    log.error('%s', err.message)
    this.#failure = err
    this.#state = 'failed'
    this.#c.failed += this.#inFlight.size + this.#batch.length
    this.#inFlight.clear()
    this.#batch = []
    this.#updateRef()
    this.dispatchEvent(new CustomEvent('error', { detail: err }))
  }
}
