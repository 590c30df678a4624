/**
 * The worker side of a DeliveryThread (delivery-thread.ts): a loop that owns nothing but time. It takes
 * events handed over by the main thread, waits for each one's due time and calls the driver module's
 * `deliver(event)` then, away from the main thread's network input, decryption and garbage collection.
 *
 * Waiting: Atomics.wait on the shared signal word (so a new hand-over wakes it) until `spinUs` before the
 * due time, then a busy wait. Messages are read synchronously with receiveMessageOnPort: the loop never
 * returns to this thread's event loop while it runs.
 *
 * Time: the node's clock is read as hrtime + an offset that the main thread measures and sends with every
 * hand-over, so a clock that is not the system clock (a SkewedClock, say) is followed as it moves.
 * Nothing in the wait loops allocates, so the worker's own garbage collector stays out of the last stretch.
 *
 * Messages in (main → worker, on `port`): { type: 'events', offsetUs, events: [{ id, dueUs, event }] },
 * { type: 'close' }. Messages out: { type: 'ready', priority }, { type: 'delivered', ids, atUs, errors, messages }
 * (errors: how many deliver() calls threw; messages: the first few),
 * { type: 'failed', message } (the driver could not be loaded), { type: 'closed', discarded }.
 */
import { readlinkSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'
import { receiveMessageOnPort, workerData } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import type { TimedEvent } from './compensate.ts'
import { DeliveryThreadError } from './errors.ts'

export interface DeliveryWorkerData {
  signal: SharedArrayBuffer
  port: MessagePort
  /** URL of the driver module; '' for none (the thread only times deliveries). */
  module: string
  /** Name of the delivery function exported by the module. */
  exportName: string
  /** Passed to the module's `init` export, if it has one. */
  options: unknown
  spinUs: number
  /** Nice value asked for this thread (−20 highest); null leaves it alone. */
  priority: number | null
  /** Largest number of delivery reports held before they are sent. */
  reportEvery: number
}

interface Pending { id: number, dueUs: number, event: TimedEvent }

/** What a driver module may export (the delivery function under `exportName`, `deliver` by default). */
interface DriverModule {
  init?: (options: unknown) => unknown
  close?: () => unknown
  [name: string]: unknown
}

const data = workerData as DeliveryWorkerData
const signal = new Int32Array(data.signal)
const port = data.port

/**
 * The node's clock = hrtime (µs) + offsetUs, from the main thread. The wait loops read performance.now(),
 * which allocates nothing (hrtime.bigint() allocates, and garbage collection in the busy wait costs
 * hundreds of µs); its distance to hrtime is measured once here, from the closest of 64 pairs.
 */
function perfToHrtimeUs (): number {
  let best = Infinity
  let result = 0
  for (let i = 0; i < 64; i++) {
    const a = performance.now()
    const h = Number(process.hrtime.bigint()) / 1000
    const b = performance.now()
    if (b - a < best) {
      best = b - a
      result = h - (a + b) * 500
    }
  }
  return result
}
const perfToHrUs = perfToHrtimeUs()
let base = NaN
const nowUs = (): number => performance.now() * 1000 + base

async function loadDriver (): Promise<{ deliver: (e: TimedEvent) => void, close?: () => unknown }> {
  if (data.module === '') return { deliver: () => {} }
  const mod = await import(data.module) as DriverModule
  const fn = mod[data.exportName]
  if (typeof fn !== 'function') throw new DeliveryThreadError(`driver module ${data.module} has no function export '${data.exportName}'`)
  if (typeof mod.init === 'function') await mod.init(data.options)
  return { deliver: fn as (e: TimedEvent) => void, close: typeof mod.close === 'function' ? mod.close as () => unknown : undefined }
}

/** What became of the priority asked for. */
export interface PriorityResult {
  requested: number | null
  /** The thread's nice value after the attempt (null where threads cannot be told apart). */
  applied: number | null
  error?: string
}

/**
 * Raise this thread's scheduling priority. On Linux a thread id names one thread to setpriority(), and
 * /proc/thread-self gives this thread's id. Lowering the nice value needs CAP_SYS_NICE; without it the
 * thread keeps its priority and the error is reported.
 */
function raisePriority (requested: number | null): PriorityResult {
  if (requested === null) return { requested, applied: null }
  if (process.platform !== 'linux') return { requested, applied: null, error: `per-thread priority is not supported on ${process.platform}` }
  let tid: number
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
  } catch (err) {
    return { requested, applied: null, error: `no thread id: ${(err as Error).message}` }
  }
  try {
    setPriority(tid, requested)
    return { requested, applied: getPriority(tid) }
  } catch (err) {
    let applied: number | null = null
    try { applied = getPriority(tid) } catch { /* the thread id is gone: nothing to report */ }
    return { requested, applied, error: (err as Error).message }
  }
}

/** Busy-wait until the clock reads `dueUs`. Nothing here allocates once the function is optimised. */
function spinUntil (dueUs: number): void {
  while (nowUs() < dueUs) { /* the last stretch: no sleep is this precise */ }
}

/** Insert keeping the queue ordered by due time, equal due times in hand-over order. */
function insert (queue: Pending[], p: Pending): void {
  let i = queue.length
  while (i > 0 && queue[i - 1].dueUs > p.dueUs) i--
  if (i === queue.length) queue.push(p)
  else queue.splice(i, 0, p)
}

async function main (): Promise<void> {
  let driver: Awaited<ReturnType<typeof loadDriver>>
  try {
    driver = await loadDriver()
  } catch (err) {
    port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) })
    port.close()
    return
  }
  // Get the busy wait compiled before the first delivery depends on it (≈10 ms, at ordinary priority).
  base = perfToHrUs
  for (let i = 0; i < 200; i++) spinUntil(nowUs() + 50)
  base = NaN
  const priority = raisePriority(data.priority)
  port.postMessage({ type: 'ready', priority })

  let queue: Pending[] = []
  let head = 0
  let closing = false
  let ids: number[] = []
  let at: number[] = []
  let errors = 0
  let messages: string[] = []
  const flush = (): void => {
    if (ids.length === 0 && errors === 0) return
    port.postMessage({ type: 'delivered', ids, atUs: at, errors, messages })
    ids = []
    at = []
    errors = 0
    messages = []
  }

  for (;;) {
    // Read the signal before the messages: a hand-over after this read changes it, so the wait below
    // returns at once instead of sleeping through it.
    const seen = Atomics.load(signal, 0)
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      const msg = m.message as { type: string, offsetUs?: number, events?: Pending[] }
      if (msg.type === 'close') closing = true
      else if (msg.type === 'events') {
        base = perfToHrUs + msg.offsetUs!
        if (head > 0) { queue = queue.slice(head); head = 0 }
        for (const p of msg.events!) insert(queue, p)
      }
    }
    if (closing) break
    if (head === queue.length) {
      flush()
      Atomics.wait(signal, 0, seen, 1000)
      continue
    }
    const next = queue[head]
    const remaining = next.dueUs - nowUs()
    if (remaining > data.spinUs) {
      flush()
      Atomics.wait(signal, 0, seen, (remaining - data.spinUs) / 1000)
      continue
    }
    spinUntil(next.dueUs)
    const t = nowUs()
    head++
    next.event.atUs = t
    try {
      driver.deliver(next.event)
    } catch (err) {
      errors++
      if (messages.length < 4) messages.push(err instanceof Error ? err.message : String(err))
    }
    ids.push(next.id)
    at.push(t)
    if (ids.length >= data.reportEvery) flush()
  }
  flush()
  try {
    await driver.close?.()
  } catch (err) {
    port.postMessage({ type: 'delivered', ids: [], atUs: [], errors: 1, messages: [`close: ${err instanceof Error ? err.message : String(err)}`] })
  }
  port.postMessage({ type: 'closed', discarded: queue.length - head })
  port.close()
}

await main()
