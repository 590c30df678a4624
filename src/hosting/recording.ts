/**
 * Recording: subscriptions to remote out ports written into an XDF file as they arrive (docs/recording.md).
 *
 * One XDF stream per subscribed port, one sample per event (the shared event-as-sample decision of the lab
 * bridges): a spike port is an int32 stream of channel ids, a weighted port a double64 stream of
 * [channel, value]. Each sample's time stamp is the event's own time in the publisher's clock, in seconds
 * since the file's time origin (a whole second of the Unix epoch near the start, `time_origin_us` in the
 * file header and every stream's desc): (T − origin) / 1e6, exact to the µs (origin + Math.round(stamp · 1e6)
 * gives T back) — and ClockOffset chunks carry the clock
 * estimate that maps those stamps into the recorder's clock (XDF's own mechanism: a reader that synchronises
 * clocks, as pyxdf does by default, adds the offsets). A further string stream, "spikewire-recorder", logs
 * every gap, loss, reconnect and close as it happens, so nothing is lost silently even if the recorder is
 * killed before it writes the footers.
 */
import { logger } from '@libp2p/logger'
import type { Batch, Description, PortInfo } from '../codec/messages.ts'
import type { SpikewireNode } from '../node/node.ts'
import type { Subscription } from '../protocols/events/subscription.ts'
import { XdfWriter } from '../xdf/writer.ts'
import type { XmlNode } from '../xdf/xml.ts'

const log = logger('spikewire:recording')

export interface RecordSource {
  /** The publisher's multiaddr (with /p2p/). */
  target: string
  port: string
}

export interface RecorderInit {
  node: SpikewireNode
  path: string
  sources: RecordSource[]
  /** A Boundary chunk after this many bytes (default 10 MiB)… */
  boundaryBytes?: number
  /** …or this much time, whichever comes first (default 10 s). */
  boundaryMs?: number
  /** A ClockOffset chunk per stream this often (default 5 s), and one at the end. */
  clockOffsetMs?: number
  /**
   * Events are gathered per stream and written as one Samples chunk at most this often (default 100 ms), or
   * when `maxPendingEvents` are waiting: fewer, larger chunks. A killed recorder loses at most this window.
   */
  flushMs?: number
  /** Events waiting per stream before a chunk is written at once (default 8192): the bound on memory. */
  maxPendingEvents?: number
  /** Give up describing a publisher after this long (default 20 s). */
  describeTimeoutMs?: number
}

export interface RecordedStreamStats {
  id: number
  target: string
  port: string
  peer: string
  kind: 'spike' | 'weighted'
  events: number
  batches: number
  /** Events missing from a stream's sequence (gaps). */
  missing: number
  /** Events the publisher reported dropped (loss notices). */
  lost: number
  reconnects: number
  reconnectGapUs: number
  clockOffsets: number
  /** One-way latency of the subscription (publisher's event time mapped into the recorder clock → arrival), µs. */
  latencyP50Us: number | null
  latencyP99Us: number | null
}

interface Recorded {
  id: number
  source: RecordSource
  info: PortInfo
  peer: string
  sub: Subscription
  batches: number
  clockOffsets: number
  lastOffset: { offsetUs: number, uncertaintyUs: number } | undefined
  /** Events not yet written: times (s), channels, values. */
  times: number[]
  channels: number[]
  values: number[]
}

/** The desc of a recorded port (LAB-DESIGN's <spikewire> element). Params are children, not attributes, so pyxdf keeps them. */
export function portDesc (d: Description & { peer: string }, info: PortInfo, extra: XmlNode[] = []): XmlNode[] {
  const model = info.model ?? d.model
  return [{
    name: 'spikewire',
    children: [
      { name: 'port', text: info.name },
      { name: 'kind', text: info.kind },
      { name: 'channels', text: info.channels },
      { name: 'peer', text: d.peer },
      { name: 'node', text: d.name },
      { name: 'role', text: d.role },
      { name: 'software', text: d.software },
      ...(model === undefined
        ? []
        : [{
            name: 'model',
            children: [
              { name: 'name', text: model.name },
              ...(model.params ?? []).map(([n, v, u]) => ({ name: 'param', children: [{ name: 'name', text: n }, { name: 'value', text: v }, { name: 'unit', text: u }] }))
            ]
          }]),
      { name: 'time_stamps', text: 'publisher clock, seconds since time_origin_us: the event time in µs is time_origin_us + round(stamp * 1e6); ClockOffset chunks map the stamps into the recorder clock' },
      ...extra
    ]
  }]
}

function finite (x: number): number | null {
  return Number.isFinite(x) ? Math.round(x * 10) / 10 : null
}

export class Recorder {
  readonly writer: XdfWriter
  readonly #init: RecorderInit
  readonly #node: SpikewireNode
  readonly #recorded: Recorded[] = []
  readonly #logId: number
  readonly #startUs: number
  /** The time origin of every time stamp in the file, µs since the Unix epoch (a whole second). */
  readonly originUs: number
  #bytesAtBoundary = 0
  #boundaryTimer: ReturnType<typeof setInterval> | undefined
  #offsetTimer: ReturnType<typeof setInterval> | undefined
  #flushTimer: ReturnType<typeof setInterval> | undefined
  #maxPending = 8192
  #stopped = false
  #closed = false
  /** Listeners for log entries (the CLI prints them). */
  onLog: (entry: Record<string, unknown>) => void = () => {}
  /** Called once when writing the file fails (a full disk, an I/O error): recording stops there. */
  onError: (err: Error) => void = () => {}
  /** The write error that stopped the recording, if any. */
  error: Error | undefined

  private constructor (init: RecorderInit) {
    this.#init = init
    this.#node = init.node
    this.#startUs = init.node.clock.nowUs()
    this.originUs = Math.floor(this.#startUs / 1e6) * 1e6
    this.writer = new XdfWriter(init.path, {
      header: [{ name: 'spikewire', children: [{ name: 'recorder', text: init.node.peerId }, { name: 'software', text: 'spikewire record' }, { name: 'time_origin_us', text: this.originUs }, { name: 'started_us', text: Math.round(this.#startUs) }] }]
    })
    this.#logId = this.writer.addStream({
      name: 'spikewire-recorder',
      type: 'Markers',
      channelCount: 1,
      channelFormat: 'string',
      nominalSrate: 0,
      sourceId: `${init.node.peerId}/recorder`,
      createdAt: this.#sec(this.#startUs),
      desc: [{ name: 'spikewire', children: [{ name: 'log', text: 'one JSON object per sample: subscriptions, gaps, losses, reconnects, closes; time stamps in the recorder clock' }, { name: 'time_origin_us', text: this.originUs }] }]
    })
    this.#logClockOffset()
  }

  /** Describe every publisher, write the stream headers, subscribe. */
  static async start (init: RecorderInit): Promise<Recorder> {
    const r = new Recorder(init)
    try {
      await r.#subscribeAll()
    } catch (e) {
      await r.stop()
      throw e
    }
    return r
  }

  get startUs (): number {
    return this.#startUs
  }

  async #subscribeAll (): Promise<void> {
    const described = new Map<string, Description & { peer: string }>()
    for (const source of this.#init.sources) {
      let d = described.get(source.target)
      if (d === undefined) {
        d = await this.#describe(source.target)
        described.set(source.target, d)
      }
      const info = d.ports.find(p => p.name === source.port && p.direction === 'out')
      if (info === undefined) {
        const { SpikewireError } = await import('../codec/errors.ts')
        throw new SpikewireError('unknown-port', `${source.target} has no out port ${source.port} (out ports: ${d.ports.filter(p => p.direction === 'out').map(p => p.name).join(', ')})`)
      }
      const spike = info.kind === 'spike'
      const id = this.writer.addStream({
        name: info.name,
        type: spike ? 'Spikes' : 'Events',
        channelCount: spike ? 1 : 2,
        channelFormat: spike ? 'int32' : 'double64',
        nominalSrate: 0,
        sourceId: `${d.peer}/${info.name}`,
        createdAt: this.#sec(this.#node.clock.nowUs()),
        desc: portDesc(d, info, [{ name: 'time_origin_us', text: this.originUs }, { name: 'target', text: source.target }])
      })
      const sub = this.#node.subscribe(source.target, source.port, { reconnect: { maxDelayMs: 2000 } })
      const rec: Recorded = { id, source, info, peer: d.peer, sub, batches: 0, clockOffsets: 0, lastOffset: undefined, times: [], channels: [], values: [] }
      this.#recorded.push(rec)
      this.#watch(rec)
    }
    const boundaryBytes = this.#init.boundaryBytes ?? 10 * 1024 * 1024
    this.#boundaryTimer = setInterval(() => { this.#guard(() => { this.#boundary() }) }, this.#init.boundaryMs ?? 10_000)
    this.#offsetTimer = setInterval(() => {
      this.#guard(() => {
        for (const r of this.#recorded) this.#clockOffset(r)
        this.#logClockOffset()
      })
    }, this.#init.clockOffsetMs ?? 5000)
    this.#maxPending = this.#init.maxPendingEvents ?? 8192
    this.#flushTimer = setInterval(() => { this.#guard(() => { this.#flushAll() }) }, this.#init.flushMs ?? 100)
    this.#bytesAtBoundary = this.writer.bytes
    this.#maxBoundaryBytes = boundaryBytes
  }

  #maxBoundaryBytes = Infinity

  async #describe (target: string): Promise<Description & { peer: string }> {
    const deadline = Date.now() + (this.#init.describeTimeoutMs ?? 20_000)
    let wait = 100
    for (;;) {
      try {
        return await this.#node.describe(target, { signal: AbortSignal.timeout(5000) })
      } catch (e) {
        if (Date.now() + wait > deadline) throw e
        log('describe %s failed (%s), retrying', target, (e as Error).message)
        await new Promise(resolve => setTimeout(resolve, wait))
        wait = Math.min(2000, wait * 2)
      }
    }
  }

  #watch (r: Recorded): void {
    const { sub, id } = r
    sub.onBatch(({ batch }) => {
      if (this.#stopped) return
      this.#guard(() => { this.#take(r, batch) })
    })
    const entry = (e: Record<string, unknown>): void => { this.#guard(() => { this.#log({ stream: id, port: r.source.port, target: r.source.target, ...e }) }) }
    sub.addEventListener('status', e => {
      const s = e.detail
      if (s.state === 'open') entry({ event: 'open', peer: sub.peer })
      else if (s.state === 'retrying') entry({ event: 'retrying', attempt: s.attempt, error: s.error?.message })
    })
    sub.addEventListener('gap', e => { entry({ event: 'gap', ...e.detail }) })
    sub.addEventListener('loss', e => { entry({ event: 'loss', count: e.detail.count, reason: e.detail.reason }) })
    sub.addEventListener('close', e => { entry({ event: 'close', code: e.detail.code, reason: e.detail.reason }) })
  }

  /** Gather a batch's events for the stream's next Samples chunk. */
  #take (r: Recorded, batch: Batch): void {
    const n = batch.count
    const spike = r.info.kind === 'spike'
    for (let i = 0; i < n; i++) {
      r.times.push((batch.times[i] - this.originUs) / 1e6)
      r.channels.push(batch.channels[i])
      if (!spike) r.values.push(batch.values?.[i] ?? 0)
    }
    r.batches++
    if (r.clockOffsets === 0) this.#clockOffset(r)
    if (r.times.length >= this.#maxPending) this.#flush(r)
  }

  /** Run a write; the first failure stops the recording (timers cleared, nothing more written) and is reported once. */
  #guard (fn: () => void): void {
    if (this.error !== undefined) return
    try {
      fn()
    } catch (e) {
      this.error = e as Error
      this.#stopped = true
      clearInterval(this.#boundaryTimer)
      clearInterval(this.#offsetTimer)
      clearInterval(this.#flushTimer)
      log.error('recording into %s failed: %s', this.#init.path, this.error.message)
      this.onError(this.error)
    }
  }

  /** Write a stream's waiting events as one Samples chunk. */
  #flush (r: Recorded): void {
    const n = r.times.length
    if (n === 0) return
    if (r.info.kind === 'spike') this.writer.writeSamples(r.id, n, r.times, [r.channels])
    else this.writer.writeSamples(r.id, n, r.times, [r.channels, r.values])
    r.times = []
    r.channels = []
    r.values = []
    if (this.writer.bytes - this.#bytesAtBoundary >= this.#maxBoundaryBytes) this.#boundary()
  }

  #flushAll (): void {
    for (const r of this.#recorded) this.#flush(r)
  }

  /** The log stream is in the recorder's clock: offset 0 (so that readers that synchronise clocks treat it like the others). */
  #logClockOffset (): void {
    this.writer.writeClockOffset(this.#logId, { time: this.#sec(this.#node.clock.nowUs()), value: 0 })
  }

  /** A time of the recorder's or a publisher's clock, µs since the epoch, as an XDF time stamp. */
  #sec (us: number): number {
    return (us - this.originUs) / 1e6
  }

  #log (e: Record<string, unknown>): void {
    if (this.#stopped) return
    const t = this.#node.clock.nowUs()
    const line = { time_us: Math.round(t), ...e }
    this.writer.writeStrings(this.#logId, [this.#sec(t)], [JSON.stringify(line)])
    this.onLog(line)
  }

  /** Write the current clock estimate of a stream's publisher as a ClockOffset chunk (when there is one). */
  #clockOffset (r: Recorded): void {
    const clock = r.sub.clock
    if (clock === undefined || this.#stopped) return
    const est = clock.estimate()
    if (!Number.isFinite(est.uncertaintyUs)) return
    const now = this.#node.clock.nowUs()
    // θ = publisher − recorder; a publisher stamp T maps to T − θ. XDF's value is what to add: −θ, seconds.
    const { localUs } = clock.toLocal(now)
    const offsetUs = now - localUs
    this.writer.writeClockOffset(r.id, { time: this.#sec(now), value: -offsetUs / 1e6 })
    r.clockOffsets++
    r.lastOffset = { offsetUs, uncertaintyUs: est.uncertaintyUs }
  }

  #boundary (): void {
    if (this.#stopped) return
    this.#flushAll()
    this.writer.writeBoundary()
    this.#bytesAtBoundary = this.writer.bytes
  }

  stats (): RecordedStreamStats[] {
    return this.#recorded.map(r => {
      const s = r.sub.stats
      return {
        id: r.id,
        target: r.source.target,
        port: r.source.port,
        peer: r.peer,
        kind: r.info.kind === 'spike' ? 'spike' : 'weighted',
        events: this.writer.streamCounts(r.id).count + r.times.length,
        batches: r.batches,
        missing: s.gapEvents,
        lost: s.lostEvents,
        reconnects: Math.max(0, s.connects - 1),
        reconnectGapUs: s.reconnectGapUs,
        clockOffsets: r.clockOffsets,
        latencyP50Us: finite(r.sub.latency.snapshot().p50Us),
        latencyP99Us: finite(r.sub.latency.snapshot().p99Us)
      }
    })
  }

  /** Unsubscribe, write the last clock offsets and the footers, close the file. Idempotent. */
  async stop (): Promise<RecordedStreamStats[]> {
    if (this.error !== undefined && !this.#closed) {
      this.#closed = true
      await Promise.allSettled(this.#recorded.map(async r => { await r.sub.close() }))
      try { this.writer.close() } catch { /* the error is already reported */ }
    }
    if (this.#stopped) return this.stats()
    clearInterval(this.#boundaryTimer)
    clearInterval(this.#offsetTimer)
    clearInterval(this.#flushTimer)
    await Promise.allSettled(this.#recorded.map(async r => { await r.sub.close() }))
    this.#flushAll()
    for (const r of this.#recorded) this.#clockOffset(r)
    this.#logClockOffset()
    const stats = this.stats()
    this.#log({ event: 'stop', events: stats.reduce((n, s) => n + s.events, 0), missing: stats.reduce((n, s) => n + s.missing, 0), lost: stats.reduce((n, s) => n + s.lost, 0) })
    this.#stopped = true
    for (const s of stats) {
      const r = this.#recorded.find(x => x.id === s.id)!
      this.writer.writeFooter(s.id, [{
        name: 'spikewire',
        children: [
          { name: 'events', text: s.events },
          { name: 'batches', text: s.batches },
          { name: 'missing', text: s.missing },
          { name: 'lost', text: s.lost },
          { name: 'reconnects', text: s.reconnects },
          { name: 'reconnect_gap_us', text: Math.round(s.reconnectGapUs) },
          ...(r.lastOffset === undefined ? [] : [{ name: 'clock_offset_us', text: r.lastOffset.offsetUs }, { name: 'clock_uncertainty_us', text: r.lastOffset.uncertaintyUs }])
        ]
      }])
    }
    const logCounts = this.writer.streamCounts(this.#logId)
    this.writer.writeFooter(this.#logId, [{ name: 'spikewire', children: [{ name: 'entries', text: logCounts.count }] }])
    this.writer.close()
    return stats
  }
}
