/**
 * An `out` port: the application emits events into it; it batches them and fans them out to every
 * attached stream (subscribers, and push links to remote `in` ports). Emitting never blocks: each stream
 * has its own bounded queue and counts its own losses (see EventSender).
 *
 * Batching adapts to the rate: at low rates (the previous flush carried at most one event, 200 µs or
 * more ago) an event is sent at once, inside emit(), as long as the port's sends — one per attached
 * stream per flush — stay within `immediateSendsPerSecond` (DEFAULTS) or the last flush is
 * `flushIntervalUs` old. Under load events coalesce by time: an event that may not leave at once waits
 * until `flushIntervalUs` after the previous flush (a timer), so each flush — one frame and one
 * encryption per subscriber — carries more events; events emitted during one turn of the event loop leave
 * together at the end of that turn at the earliest (setImmediate). A batch is cut early when it reaches
 * `maxBatchEvents`. So a lone event on a lightly used port never waits, and no event waits longer than the
 * interval (plus timer slack).
 *
 * Each batch is packed and encoded once for every stream without a filter, and once per distinct filter
 * (SharedBatch): a stream writes only its sequence number and length prefix before the shared bytes. The
 * muxer frame and the Noise encryption stay per stream: encryption is per connection and cannot be shared.
 */
import { logger } from '@libp2p/logger'
import { DEFAULT_MAX_EVENTS, SharedBatch, packColumns } from '../codec/index.ts'
import type { KindName, ModelInfo, PortInfo } from '../codec/index.ts'
import type { Clock } from '../base/clock.ts'
import { InvalidArgumentError } from '../base/errors.ts'
import type { EventSender } from '../wire/sender.ts'
import { DEFAULTS, OUT_PORT } from '../wire/defaults.ts'

const log = logger('spikewire:out-port')

/** An event is sent inside emit() only when the port has sent nothing for this long, µs. */
const IMMEDIATE_GAP_US = 200

export interface OutPortInit {
  name: string
  channels: number
  kind?: KindName
  model?: ModelInfo
  clock: Clock
  /** Largest batch this port builds (default 4096, the smallest limit a receiver may announce). */
  maxBatchEvents?: number
  /** Watermark period while idle, ms (default 100). */
  watermarkIntervalMs?: number
  /**
   * How far behind the clock an event may still be emitted, µs (default 1000). Idle watermarks are
   * `now − lateness`; an event older than the last watermark sent is refused.
   */
  latenessUs?: number
  /**
   * Under load, flush at most once per this interval, µs (default 2000; 0: every event-loop turn). The
   * latency an event may gain from batching: keep it within the receivers' latency budget.
   */
  flushIntervalUs?: number
  /** Sends per second allowed for events that leave at once (default DEFAULTS.immediateSendsPerSecond). */
  immediateSendsPerSecond?: number
  /**
   * When false, idle watermarks carry only what `advance()` set (for ports fed by a model that runs
   * behind the clock, e.g. behind a merge); when true (default) they also follow the clock.
   */
  autoWatermark?: boolean
}

export interface OutPortStats {
  /** Events accepted by emit(). */
  emitted: number
  /** Events refused by emit(): out of time order, behind the watermark, bad channel or value. */
  refused: number
  /** Batches flushed. */
  flushes: number
  /** Streams currently attached. */
  streams: number
}

export class OutPort {
  readonly name: string
  readonly channels: number
  readonly kind: KindName
  /** What drives the port (shown in the node description); a hosted model sets it when unset. */
  model: ModelInfo | undefined
  readonly stats: OutPortStats = { emitted: 0, refused: 0, flushes: 0, streams: 0 }
  readonly #clock: Clock
  readonly #maxBatch: number
  readonly #latenessUs: number
  #autoWatermark: boolean
  readonly #senders = new Set<EventSender>()
  readonly #attachListeners = new Set<(sender: EventSender) => void>()
  #ch: Uint32Array
  #t: Float64Array
  #v: Float32Array | undefined
  #n = 0
  #lastTime = 0
  #watermark = 0
  #flushScheduled = false
  #lastActivity = 0
  #lastFlushCount = 0
  #lastFlushUs = 0
  readonly #flushIntervalUs: number
  readonly #sendRate: number
  /** Sends the port may still make at once (a token bucket refilled at #sendRate per second). */
  #sendTokens = 0
  #sendTokensAt = 0
  readonly #flushNow = (): void => { this.flush() }
  #flushTimer: ReturnType<typeof setTimeout> | undefined
  readonly #timer: ReturnType<typeof setInterval>

  constructor (init: OutPortInit) {
    this.name = init.name
    this.channels = init.channels
    this.kind = init.kind ?? 'spike'
    this.model = init.model
    this.#clock = init.clock
    this.#maxBatch = init.maxBatchEvents ?? OUT_PORT.maxBatchEvents.default
    if (this.#maxBatch > DEFAULT_MAX_EVENTS) throw new InvalidArgumentError(`maxBatchEvents must be ≤ ${DEFAULT_MAX_EVENTS}`)
    this.#latenessUs = init.latenessUs ?? OUT_PORT.latenessUs.default
    this.#autoWatermark = init.autoWatermark ?? true
    this.#flushIntervalUs = init.flushIntervalUs ?? OUT_PORT.flushIntervalUs.default
    this.#sendRate = init.immediateSendsPerSecond ?? DEFAULTS.immediateSendsPerSecond
    if (!(this.#sendRate >= 0)) throw new InvalidArgumentError(`immediateSendsPerSecond must be ≥ 0 (got ${this.#sendRate})`)
    const cap = Math.min(this.#maxBatch, 1024)
    this.#ch = new Uint32Array(cap)
    this.#t = new Float64Array(cap)
    this.#v = this.kind === 'weighted' ? new Float32Array(cap) : undefined
    const interval = init.watermarkIntervalMs ?? OUT_PORT.watermarkIntervalMs.default
    this.#timer = setInterval(() => { this.#idleTick(interval) }, interval)
    this.#timer.unref?.()
  }

  get info (): PortInfo {
    const p: PortInfo = { name: this.name, direction: 'out', kind: this.kind, channels: this.channels }
    if (this.model !== undefined) p.model = this.model
    return p
  }

  /** The latest time promised to receivers: no event before it will be emitted. */
  get watermark (): number {
    return this.#watermark
  }

  /**
   * Emit one event (time in µs, integer, in this node's clock). Returns false and counts a refusal when
   * the event is out of order, behind the watermark, on a channel the port does not have, or has a
   * non-finite value.
   */
  emit (channel: number, time: number, value = 0): boolean {
    if (!(time >= this.#lastTime && time >= this.#watermark && Number.isInteger(time) &&
      channel >= 0 && channel < this.channels && Number.isInteger(channel) && Number.isFinite(value))) {
      this.stats.refused++
      return false
    }
    let i = this.#n
    if (i === this.#ch.length) this.#grow()
    this.#ch[i] = channel
    this.#t[i] = time
    if (this.#v !== undefined) this.#v[i] = value
    this.#n = ++i
    this.#lastTime = time
    this.stats.emitted++
    if (i >= this.#maxBatch) this.flush()
    else if (!this.#flushScheduled) {
      const now = this.#clock.nowUs()
      // A pause in the stream (nothing for IMMEDIATE_GAP_US): this event leaves at once when the send budget
      // allows, or when the last flush carried at most one event and is an interval old. Only a port whose
      // sends exceed the budget (many subscribers, a high rate) makes its events wait for the interval; the
      // budget, not the size of the last flush, decides, so a port does not stay in coalescing mode after
      // one burst.
      const withinBudget = this.#sendBudget(now) >= Math.max(1, this.#senders.size)
      if (now - this.#lastActivity >= IMMEDIATE_GAP_US &&
        (withinBudget || (this.#lastFlushCount <= 1 && now - this.#lastFlushUs >= this.#flushIntervalUs))) {
        this.flush()
        return true
      }
      this.#scheduleFlush(now, withinBudget)
    }
    return true
  }

  /**
   * Flush at the end of this turn (within the send budget, or once the interval since the last flush has
   * passed), else when that interval has passed.
   */
  #scheduleFlush (now: number, withinBudget: boolean): void {
    this.#flushScheduled = true
    const waitUs = this.#lastFlushUs + this.#flushIntervalUs - now
    if (withinBudget || waitUs <= 0) {
      setImmediate(this.#flushNow)
      return
    }
    this.#flushTimer = setTimeout(this.#flushNow, Math.max(1, Math.round(waitUs / 1000)))
  }

  /**
   * Emit `count` events given as columns (the bulk form of emit: checked in one loop, copied with
   * TypedArray.set). Returns how many were accepted; when any event would be refused, every event goes
   * through emit() one by one so that exactly the bad ones are refused and counted.
   */
  emitColumns (channels: Uint32Array, times: Float64Array, values: Float32Array | undefined, count: number): number {
    let last = Math.max(this.#lastTime, this.#watermark)
    const limit = this.channels
    let ok = count <= channels.length && count <= times.length && (values === undefined || count <= values.length) &&
      (values !== undefined) === (this.#v !== undefined)
    for (let i = 0; ok && i < count; i++) {
      const t = times[i]
      if (!(t >= last && channels[i] < limit && Number.isInteger(t) && (values === undefined || Number.isFinite(values[i])))) ok = false
      last = t
    }
    if (!ok) {
      let n = 0
      for (let i = 0; i < Math.min(count, channels.length, times.length); i++) if (this.emit(channels[i], times[i], values?.[i])) n++
      return n
    }
    let from = 0
    while (from < count) {
      const take = Math.min(this.#maxBatch - this.#n, count - from)
      while (this.#ch.length < this.#n + take) this.#grow()
      this.#ch.set(channels.subarray(from, from + take), this.#n)
      this.#t.set(times.subarray(from, from + take), this.#n)
      if (values !== undefined) this.#v!.set(values.subarray(from, from + take), this.#n)
      this.#n += take
      from += take
      if (this.#n >= this.#maxBatch) this.flush()
    }
    if (count > 0) this.#lastTime = times[count - 1]
    this.stats.emitted += count
    if (this.#n > 0 && !this.#flushScheduled) {
      const now = this.#clock.nowUs()
      this.#scheduleFlush(now, this.#sendBudget(now) >= Math.max(1, this.#senders.size))
    }
    return count
  }

  /**
   * Let only `advance()` move the watermark (a driver that knows how far its model has run calls it);
   * idle watermarks then no longer follow the clock.
   */
  manualWatermark (): void {
    this.#autoWatermark = false
  }

  /** Promise receivers that no event before `time` will follow (sent with the next watermark or batch). */
  advance (time: number): void {
    if (time > this.#watermark) this.#watermark = Math.floor(time)
  }

  /** Send pending events now. */
  flush (): void {
    this.#flushScheduled = false
    clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    const n = this.#n
    if (n === 0) return
    this.#n = 0
    this.#lastFlushCount = n
    this.stats.flushes++
    this.#lastActivity = this.#clock.nowUs()
    this.#lastFlushUs = this.#lastActivity
    if (this.#senders.size === 0) return
    this.#sendTokens = this.#sendBudget(this.#lastActivity) - this.#senders.size
    const limit = this.#minLimit()
    let unfiltered = 0
    for (const s of this.#senders) if (!s.filtered) unfiltered++
    const filtered = this.#senders.size - unfiltered
    for (let from = 0; from < n; from += limit) {
      const to = Math.min(n, from + limit)
      // Packed and encoded once for every stream without a filter, and once per distinct filter: each
      // stream then writes only its sequence number and the length prefix before the shared bytes.
      if (unfiltered > 0) {
        const shared = new SharedBatch(packColumns(this.#ch, this.#t, this.#v, from, to, this.#t[from], true))
        for (const s of this.#senders) if (!s.filtered) s.offer(shared)
      }
      if (filtered > 0) {
        const byFilter = new Map<string, SharedBatch | null>()
        for (const s of this.#senders) {
          if (!s.filtered) continue
          let b = byFilter.get(s.filterKey)
          if (b === undefined) {
            b = this.#packFiltered(s, from, to)
            byFilter.set(s.filterKey, b)
          }
          if (b !== null) s.offer(b)
        }
      }
    }
  }

  /** The sends the port may make at once now (refills the bucket; at most 10 ms of the rate, and one flush). */
  #sendBudget (now: number): number {
    const cap = Math.max(this.#sendRate / 100, this.#senders.size)
    this.#sendTokens = Math.min(cap, this.#sendTokens + (now - this.#sendTokensAt) * this.#sendRate / 1e6)
    this.#sendTokensAt = now
    return this.#sendTokens
  }

  /** Attach a stream; returns a function that detaches it. */
  attach (sender: EventSender): () => void {
    this.flush()
    this.#senders.add(sender)
    this.stats.streams = this.#senders.size
    if (this.#watermark > 0) sender.watermark(this.#watermark)
    for (const fn of this.#attachListeners) {
      try {
        fn(sender)
      } catch (err) {
        log.error('attach listener failed: %e', err)
      }
    }
    return () => {
      this.#senders.delete(sender)
      this.stats.streams = this.#senders.size
    }
  }

  /**
   * Call `fn` each time a stream is attached (a subscriber or a push link), after it has been added;
   * returns a function that removes it. A throwing listener is logged, not propagated.
   */
  onAttach (fn: (sender: EventSender) => void): () => void {
    this.#attachListeners.add(fn)
    return () => { this.#attachListeners.delete(fn) }
  }

  get senders (): ReadonlySet<EventSender> {
    return this.#senders
  }

  /** Stop the idle timer and flush; attached streams are closed by their owners. */
  stop (): void {
    clearInterval(this.#timer)
    this.flush()
  }

  #minLimit (): number {
    let limit = this.#maxBatch
    for (const s of this.#senders) if (s.maxEvents < limit) limit = s.maxEvents
    return limit
  }

  /** The events from..to that `s`'s filter wants, as a shared batch; null when it wants none of them. */
  #packFiltered (s: EventSender, from: number, to: number): SharedBatch | null {
    const idx: number[] = []
    for (let i = from; i < to; i++) if (s.wants(this.#ch[i])) idx.push(i)
    if (idx.length === 0) return null
    const ch = new Uint32Array(idx.length)
    const t = new Float64Array(idx.length)
    const v = this.#v === undefined ? undefined : new Float32Array(idx.length)
    idx.forEach((j, k) => {
      ch[k] = this.#ch[j]
      t[k] = this.#t[j]
      if (v !== undefined) v[k] = this.#v![j]
    })
    return new SharedBatch(packColumns(ch, t, v, 0, idx.length, t[0], true))
  }

  #grow (): void {
    const cap = Math.min(this.#ch.length * 2, this.#maxBatch)
    const ch = new Uint32Array(cap)
    ch.set(this.#ch)
    const t = new Float64Array(cap)
    t.set(this.#t)
    this.#ch = ch
    this.#t = t
    if (this.#v !== undefined) {
      const v = new Float32Array(cap)
      v.set(this.#v)
      this.#v = v
    }
  }

  #idleTick (intervalMs: number): void {
    try {
      const now = this.#clock.nowUs()
      if (now - this.#lastActivity < intervalMs * 1000 * 0.9) return
      // Events emitted but not flushed yet must leave before a watermark that may pass their times.
      if (this.#n > 0) {
        this.flush()
        return
      }
      if (this.#autoWatermark) this.advance(Math.max(this.#lastTime, now - this.#latenessUs))
      if (this.#watermark === 0) return
      this.#lastActivity = now
      for (const s of this.#senders) s.watermark(this.#watermark)
    } catch (err) {
      log.error('idle watermark failed: %e', err)
    }
  }
}
