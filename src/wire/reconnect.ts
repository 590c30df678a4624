/**
 * Keeping a link up: run a session, and when it ends, wait with exponential backoff and jitter, then run
 * it again — until closed or until an error that retrying cannot fix. ReconnectingLink (link.ts) runs it for
 * subscriptions, push links and clock syncs.
 */
import { logger } from '@libp2p/logger'
import { sleep } from '../base/abort.ts'

const log = logger('spikewire:reconnect')

const DEFAULT_STABLE_MS = 5000

export interface ReconnectOptions {
  /** First wait after a failure, ms (default 100). */
  initialDelayMs?: number
  /** Longest wait, ms (default 5000). */
  maxDelayMs?: number
  /** Growth per failed attempt (default 2). */
  factor?: number
  /** Random fraction taken off each wait, 0..1 (default 0.5: wait between 50% and 100%). */
  jitter?: number
  /** Give up after this many consecutive failed connects (default: never). */
  maxAttempts?: number
  /**
   * A session that ends, cleanly or not, before it has lasted this long counts as a failed attempt, so the
   * wait grows for a peer that accepts and then fails every session at once (an invalid answer, an
   * immediate close); a session that lasted longer resets the count. Default 5000 ms.
   */
  stableMs?: number
}

export type LinkState = 'connecting' | 'open' | 'retrying' | 'closed'

export interface LinkStatus {
  state: LinkState
  /** Consecutive failed attempts so far: failed connects and sessions shorter than `stableMs`. */
  attempt: number
  /** Wait before the next attempt, ms (state 'retrying'). */
  delayMs?: number
  error?: Error
  /** State 'retrying': true when a session that had opened ended (the error is the session's), false when the attempt never opened one. */
  afterSession?: boolean
}

/**
 * Why a link ends its own stream: 'normal' when the application closes it, 'shutdown' when the node stops
 * (spec §9.2.10: a node that shuts down sends close{shutdown} on each of its open events streams).
 */
export type EndCode = 'normal' | 'shutdown'

export interface Session {
  /** Resolves when the session ends: with an error unless it ended cleanly. */
  ended: Promise<Error | undefined>
  /** End the session gracefully because the link is closing (send what is queued, then close{code}). */
  close?: (code: EndCode) => Promise<void>
}

export interface ReconnectLoopInit {
  connect: (signal: AbortSignal) => Promise<Session>
  /** True when retrying cannot help (the loop then closes with this error). */
  isPermanent: (err: Error) => boolean
  onStatus: (s: LinkStatus) => void
  options?: ReconnectOptions | false
  signal: AbortSignal
  /** Source of jitter, 0..1 (default Math.random). */
  random?: () => number
  /** How to wait between attempts (default: a timer that the signal cuts short). */
  wait?: (ms: number, options: { signal: AbortSignal }) => Promise<void>
  /** Monotonic time, ms, for the length of sessions (default performance.now). */
  now?: () => number
}

/** The wait before attempt `attempt` (1-based), ms. */
export function backoffDelay (attempt: number, o: ReconnectOptions = {}, random: () => number = Math.random): number {
  const base = Math.min(o.maxDelayMs ?? 5000, (o.initialDelayMs ?? 100) * (o.factor ?? 2) ** (attempt - 1))
  return base * (1 - (o.jitter ?? 0.5) * random())
}

export async function reconnectLoop (init: ReconnectLoopInit): Promise<Error | undefined> {
  const { signal } = init
  const opts = init.options === false ? { maxAttempts: 1 } : (init.options ?? {})
  const random = init.random ?? Math.random
  const wait = init.wait ?? sleep
  const now = init.now ?? (() => performance.now())
  /** The backoff exponent: failed connects and short sessions in a row. */
  let attempt = 0
  /** Failed connects in a row (maxAttempts): a session that opened, however short, is not one. */
  let failedConnects = 0
  let lastError: Error | undefined
  while (!signal.aborted) {
    init.onStatus({ state: 'connecting', attempt })
    let err: Error | undefined
    let opened = false
    try {
      const session = await init.connect(signal)
      const openedAt = now()
      failedConnects = 0
      opened = true
      init.onStatus({ state: 'open', attempt })
      err = await session.ended
      if (init.options === false) return err
      // Only a session that held for a while proves the link works; a short one is one more failure.
      if (now() - openedAt >= (opts.stableMs ?? DEFAULT_STABLE_MS)) attempt = 0
      else attempt++
    } catch (e) {
      // A connect cut short by closing the link is not a failure of the link.
      if (signal.aborted) break
      err = e instanceof Error ? e : new Error(String(e))
      attempt++
      failedConnects++
    }
    lastError = err
    if (signal.aborted) break
    if (err !== undefined && init.isPermanent(err)) {
      log('giving up: %s', err.message)
      return err
    }
    if (failedConnects >= (opts.maxAttempts ?? Infinity)) return err
    const delayMs = backoffDelay(Math.max(attempt, 1), opts, random)
    init.onStatus({ state: 'retrying', attempt, delayMs, error: err, afterSession: opened })
    log('retrying in %d ms after %s', Math.round(delayMs), err?.message ?? 'a clean close')
    await wait(delayMs, { signal })
  }
  return lastError
}
