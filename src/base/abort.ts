/**
 * Waiting that an AbortSignal can cut short: sleeps, sleeps until a clock reading, deadlines, and waits
 * bounded in time. One place for what the wire, protocol and CLI code would otherwise each write with
 * `new Promise(setTimeout)`.
 */
import type { Clock } from './clock.ts'

export interface WaitOptions {
  signal?: AbortSignal
}

/** Wait `ms` milliseconds, or less when the signal aborts first. Never rejects. */
export async function sleep (ms: number, options: WaitOptions = {}): Promise<void> {
  const { signal } = options
  if (signal?.aborted === true) return
  await new Promise<void>(resolve => {
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, Math.max(0, ms))
    signal?.addEventListener('abort', done, { once: true })
  })
}

export interface SleepUntilOptions extends WaitOptions {
  /** Stop waiting as soon as this holds (checked about every millisecond). */
  until?: () => boolean
}

/**
 * Wait until `clock` reads at least `atUs` (µs), the signal aborts, or `until()` holds. The clock is read
 * again after each timer, so an injected clock decides when the wait is over. Never rejects.
 */
export async function sleepUntil (clock: Clock, atUs: number, options: SleepUntilOptions = {}): Promise<void> {
  const { signal, until } = options
  for (;;) {
    if (signal?.aborted === true || until?.() === true) return
    const waitMs = (atUs - clock.nowUs()) / 1000
    if (waitMs <= 0) return
    await sleep(until === undefined ? waitMs : Math.min(waitMs, 1), { signal })
  }
}

/** A signal that aborts when `signal` does or after `timeoutMs`, whichever comes first. */
export function withDeadline (timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs)
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout])
}

/** Settle like `promise`, or reject with the signal's reason when it aborts first. */
export async function raceAbort<T> (promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return await promise
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => {
      onAbort = () => { reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
    })])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}

/** Resolves when the signal aborts (at once when it has). */
export async function untilAborted (signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>(resolve => { signal.addEventListener('abort', () => { resolve() }, { once: true }) })
}

/** Wait for `promise` at most `ms`; resolves true when it settled in time (a rejection is rethrown). */
export async function within (promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<false>(resolve => { timer = setTimeout(() => { resolve(false) }, ms) })
  try {
    return await Promise.race([promise.then(() => true), late])
  } finally {
    clearTimeout(timer)
  }
}
