/**
 * One events stream in subscribe mode, as its opener (spec §9.2): open, then accept or reject, then
 * batches, watermarks and loss notices until a close. It keeps the expected sequence number E and the
 * counts of received, reported lost and unreported missing events (§9.2.4), the time order (§9.2.5),
 * and turns any broken rule into close{code} and a reset (§9.2.10).
 */
import type { Stream } from '@libp2p/interface'
import { batchEvents } from './columns.ts'
import type { Events, StreamContext } from './columns.ts'
import { WireError } from './errors.ts'
import { FrameReader, frame } from './frames.ts'
import { decodeMessage, encodeClose, encodeOpen } from './messages.ts'
import type { Msg } from './messages.ts'

export interface SubscribeInit {
  /** The port to open; undefined: take the accept's port as it comes (replaying a recorded stream). */
  port: string | undefined
  channels?: number[]
  maxEvents?: number
  onBatch?: (seq: number, events: Events) => void
  onWatermark?: (time: number) => void
}

export interface Outcome {
  /** closed: a clean end; rejected: the open was refused; failed: we found an error; reset: the peer reset or ended without close. */
  end: 'closed' | 'rejected' | 'failed' | 'reset'
  /** Our error code (failed), the reject's code (rejected), or the peer's close code. */
  code?: string | number
}

type State = 'waiting' | 'open' | 'closing' | 'peer-ended' | 'done'

export class Subscriber {
  readonly stats = { messages: 0, received: 0, lost: 0, gap: 0, lossNotices: 0, watermarks: 0, expected: 0 }
  readonly accepted: Promise<Msg | undefined>
  readonly ended: Promise<Outcome>
  readonly #stream: Stream
  readonly #init: SubscribeInit
  readonly #reader = new FrameReader()
  readonly #resolveAccepted: (m: Msg | undefined) => void
  readonly #resolveEnded: (o: Outcome) => void
  #ctx: StreamContext | undefined
  #state: State = 'waiting'
  #outcome: Outcome | undefined
  #lastTime = 0
  #watermark = 0

  constructor (stream: Stream, init: SubscribeInit) {
    this.#stream = stream
    this.#init = init
    const a = Promise.withResolvers<Msg | undefined>()
    const e = Promise.withResolvers<Outcome>()
    this.accepted = a.promise
    this.ended = e.promise
    this.#resolveAccepted = a.resolve
    this.#resolveEnded = e.resolve
    stream.addEventListener('message', evt => {
      const data = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()
      this.#guard(() => {
        for (const body of this.#reader.push(data)) {
          if (this.#state === 'done') return
          this.stats.messages++
          this.#onMessage(decodeMessage(body))
        }
      })
    })
    stream.addEventListener('remoteCloseWrite', () => { this.#guard(() => { this.#onRemoteEnd() }) })
    stream.addEventListener('close', evt => {
      this.#finish(this.#outcome ?? (evt.error === undefined ? { end: 'closed' } : { end: 'reset' }))
    })
    stream.send(frame(encodeOpen(init.port ?? 'spikes', { channels: init.channels, maxEvents: init.maxEvents })))
  }

  pause (): void { this.#stream.pause() }
  resume (): void { this.#stream.resume() }

  get outcome (): Outcome | undefined {
    return this.#outcome
  }

  /** End the stream ourselves: close{normal}, then our write side; resolves when it has ended. */
  async close (): Promise<Outcome> {
    if (this.#state === 'waiting' || this.#state === 'open') {
      this.#state = 'closing'
      this.#outcome = { end: 'closed', code: 'normal' }
      this.#send(encodeClose('normal'))
      await this.#stream.close().catch(() => {})
    }
    return await this.ended
  }

  #onMessage (m: Msg): void {
    if (this.#state === 'closing') return // in flight before our close: ignored (§9.2.10)
    if (this.#state === 'peer-ended') throw new WireError('unexpected-message', `${m.type} after the peer's ${this.#outcome?.end === 'rejected' ? 'reject' : 'close'}`)
    if (this.#state === 'waiting') {
      if (m.type === 'accept') {
        if (this.#init.port !== undefined && m.port !== this.#init.port) throw new WireError('invalid-message', `accept names port ${String(m.port)}`)
        this.#ctx = { kind: m.kind as 'spike' | 'weighted', channels: m.channels as number, maxEvents: this.#init.maxEvents ?? 4096 }
        if (this.#init.channels !== undefined) this.#ctx.filter = new Set(this.#init.channels)
        this.#state = 'open'
        this.#resolveAccepted(m)
        return
      }
      if (m.type === 'reject' || m.type === 'close') return this.#peerEnded(m, m.type === 'reject' ? 'rejected' : undefined)
      throw new WireError('unexpected-message', `${m.type} before accept`)
    }
    switch (m.type) {
      case 'batch': {
        const ev = batchEvents(m, this.#ctx!)
        this.#sequence(m.seq as number)
        const first = ev.times[0]
        if (first < this.#lastTime || first < this.#watermark) throw new WireError('time-regression', `batch at ${first} before ${Math.max(this.#lastTime, this.#watermark)}`)
        this.stats.expected = (m.seq as number) + (m.count as number)
        this.#lastTime = ev.times[ev.times.length - 1]
        this.stats.received += m.count as number
        this.#init.onBatch?.(m.seq as number, ev)
        return
      }
      case 'watermark':
        this.#sequence(m.seq as number)
        if ((m.time as number) < this.#watermark) throw new WireError('time-regression', 'watermark went back')
        this.#watermark = m.time as number
        this.stats.watermarks++
        this.#init.onWatermark?.(m.time as number)
        return
      case 'loss':
        if (m.seq !== this.stats.expected) throw new WireError('invalid-sequence', `loss at ${String(m.seq)}, expected ${this.stats.expected}`)
        this.stats.expected = (m.seq as number) + (m.count as number)
        this.stats.lost += m.count as number
        this.stats.lossNotices++
        return
      case 'close':
        return this.#peerEnded(m)
      default:
        throw new WireError('unexpected-message', `${m.type} on an open subscription`)
    }
  }

  #sequence (seq: number): void {
    if (seq < this.stats.expected) throw new WireError('invalid-sequence', `seq ${seq} below ${this.stats.expected}`)
    this.stats.gap += seq - this.stats.expected
    this.stats.expected = seq
  }

  /** A reject or a close from the peer: it sends nothing more; we close our write side. */
  #peerEnded (m: Msg, end?: 'rejected'): void {
    this.#state = 'peer-ended'
    const code = m.code as string | number
    this.#outcome = end === 'rejected' ? { end, code } : code === 'normal' ? { end: 'closed', code } : { end: 'failed', code }
    if (end === 'rejected') this.#resolveAccepted(undefined)
    void this.#stream.close().catch(() => {})
  }

  #onRemoteEnd (): void {
    this.#reader.end()
    if (this.#state === 'waiting' || this.#state === 'open') {
      // The peer's write side ended without a close: the stream failed (§9.2.10); we send nothing.
      this.#outcome = { end: 'reset' }
      this.#state = 'done'
      this.#stream.abort(new Error('the peer ended the stream without a close'))
    } else if (this.#state === 'closing') {
      void this.#stream.close().catch(() => {})
    }
  }

  #send (body: Uint8Array): void {
    if (this.#stream.status === 'open' && this.#stream.writeStatus === 'writable') this.#stream.send(frame(body))
  }

  #guard (fn: () => void): void {
    try {
      fn()
    } catch (err) {
      const code = err instanceof WireError ? err.code : 'internal-error'
      if (this.#state === 'done') return
      this.#state = 'done'
      this.#outcome = { end: 'failed', code }
      try { this.#send(encodeClose(code)) } catch { /* best effort */ }
      this.#stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  #finish (o: Outcome): void {
    this.#state = 'done'
    this.#resolveAccepted(undefined)
    this.#resolveEnded(o)
  }
}
