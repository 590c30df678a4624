/**
 * The shell shared by every link that is kept up across disconnects — subscriptions, push links, clock
 * syncs: it owns the AbortController, runs reconnectLoop with the subclass's session function, keeps
 * `state` and `error`, emits 'status', and offers ready()/done()/close().
 *
 * A subclass implements `openSession`, calls `start()` at the end of its constructor (its own fields must
 * exist before the first session opens), and calls `markReady()` when the link is first usable.
 */
import { TypedEventEmitter } from 'main-event'
import { logger } from '@libp2p/logger'
import { reconnectLoop } from './reconnect.ts'
import type { EndCode, LinkState, LinkStatus, ReconnectLoopInit, ReconnectOptions, Session } from './reconnect.ts'
import { LinkClosedError } from './errors.ts'

const log = logger('spikewire:link')

export interface LinkEvents {
  status: CustomEvent<LinkStatus>
}

export interface ReconnectingLinkInit {
  /** What the link is ('subscription'), for logs and for the error ready() rejects with after a clean close. */
  name: string
  /** Reconnect policy; false to end with the first session. */
  reconnect?: ReconnectOptions | false
  /** Closes the link when it aborts. */
  signal?: AbortSignal
  /** True when retrying cannot help (default: every error is retried). */
  isPermanent?: (err: Error) => boolean
  /** Source of backoff jitter, 0..1 (tests). */
  random?: () => number
  /** How to wait between attempts (tests). */
  wait?: ReconnectLoopInit['wait']
  /** Monotonic time, ms, for the length of sessions (tests). */
  now?: ReconnectLoopInit['now']
}

export abstract class ReconnectingLink<Events extends LinkEvents = LinkEvents> extends TypedEventEmitter<Events> {
  state: LinkState = 'connecting'
  /** The error the link ended with, if any. */
  error: Error | undefined
  readonly #init: ReconnectingLinkInit
  readonly #controller = new AbortController()
  readonly #ready = Promise.withResolvers<void>()
  readonly #done = Promise.withResolvers<void>()
  #current: Session | undefined
  #started = false

  constructor (init: ReconnectingLinkInit) {
    super()
    this.#init = init
    this.#ready.promise.catch(() => {})
  }

  /** Open one session; it ends when `ended` resolves. Called again after each end until the link closes. */
  protected abstract openSession (signal: AbortSignal): Promise<Session>

  /** Called with every status change, after `state` is set and before the 'status' event. */
  protected onStatus (_status: LinkStatus): void {}

  /** Called once when the link has ended, after `error` is set and ready() has settled. */
  protected onEnd (_error: Error | undefined): void {}

  /** Start the reconnect loop. Call once, at the end of the subclass constructor. */
  protected start (): void {
    if (this.#started) return
    this.#started = true
    const { signal } = this.#init
    if (signal?.aborted === true) this.#controller.abort()
    else signal?.addEventListener('abort', () => { void this.close() }, { once: true })
    reconnectLoop({
      signal: this.#controller.signal,
      options: this.#init.reconnect,
      isPermanent: this.#init.isPermanent ?? (() => false),
      random: this.#init.random,
      wait: this.#init.wait,
      now: this.#init.now,
      onStatus: s => { this.#status(s) },
      connect: async s => {
        const session = await this.openSession(s)
        this.#current = session
        void session.ended.then(() => { if (this.#current === session) this.#current = undefined })
        return session
      }
    }).catch((err: unknown) => err instanceof Error ? err : new Error(String(err))).then(err => {
      this.error = err
      this.#status(err === undefined ? { state: 'closed', attempt: 0 } : { state: 'closed', attempt: 0, error: err })
      this.#ready.reject(err ?? new LinkClosedError(this.#init.name))
      log('%s ended%s', this.#init.name, err === undefined ? '' : `: ${err.message}`)
      try {
        this.onEnd(err)
      } finally {
        this.#done.resolve()
      }
    })
  }

  /** The link is usable (the first session is open, or what the subclass waits for has happened). */
  protected markReady (): void {
    this.#ready.resolve()
  }

  /** True once close() was called or the signal given at creation aborted. */
  protected get closing (): boolean {
    return this.#controller.signal.aborted
  }

  /** Resolves once the link is first usable; rejects if it ends before. */
  async ready (): Promise<void> {
    await this.#ready.promise
  }

  /** Resolves when the link has ended (closed, or gave up). */
  async done (): Promise<void> {
    await this.#done.promise
  }

  /** Stop reconnecting, end the current session gracefully (close{normal}), and wait until the link has ended. */
  async close (): Promise<void> {
    await this.#end('normal')
  }

  /**
   * Close because the node is shutting down: as close(), but the current stream ends with close{shutdown}
   * (spec §9.2.10). The node calls this for its own links when it stops.
   */
  async shutdown (): Promise<void> {
    await this.#end('shutdown')
  }

  async #end (code: EndCode): Promise<void> {
    this.#controller.abort()
    if (!this.#started) return
    try {
      await this.#current?.close?.(code)
    } catch (err) {
      log('closing the %s session failed: %s', this.#init.name, (err as Error).message)
    }
    await this.#done.promise
  }

  #status (s: LinkStatus): void {
    this.state = s.state
    this.onStatus(s)
    this.safeDispatchEvent('status', { detail: s })
  }
}
