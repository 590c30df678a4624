/**
 * The server side of /spikewire/clock/1.0.0 (spec §9.3): answer every clock-request, in the order
 * received, with the time it was received (t2, read when its bytes arrived, before decoding) and the
 * time of the answer (t3).
 *
 * A client cannot make the server hold more than a bounded amount for it (spec §11.4):
 * - Pace: answers take a token from the peer's bucket (shared by its clock streams); without one they
 *   wait, the wait lying between t2 and t3 (spec §9.3.1), so it changes no sample, only how many a
 *   client gets. At most `maxPending` requests wait; then the server stops reading the stream, exactly at
 *   the next frame, and the muxer window stops the client.
 * - Backpressure: while the stream does not take more (send() returned false: the client does not read
 *   its answers) the server stops reading too; a stream that does not drain within `stallMs` is closed
 *   with slow-consumer and reset.
 * - Idle: a stream that brings no request and gets no answer for `idleMs` is closed with timeout.
 * - End: after the client's close{normal}, or the end of its writing, the server sends the answers it
 *   owes and closes its write side — the normal end of a clock stream; it answers the close with no close
 *   of its own (spec §9.3.1). A close with any other code fails the stream: nothing more is sent, and the
 *   write side is closed.
 */
import type { Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { StreamError, toSpikewireError } from '../../codec/index.ts'
import type { Message } from '../../codec/index.ts'
import { FramedStream } from '../../wire/framed.ts'
import { wireTime } from '../../base/clock.ts'
import type { Clock } from '../../base/clock.ts'
import type { TokenBucket } from './rate.ts'

const log = logger('spikewire:clock-server')

export interface ClockServerLimits {
  /** No request and no answer for this long: close{timeout}, ms. */
  idleMs: number
  /** The stream does not drain for this long: close{slow-consumer}, ms. */
  stallMs: number
  /** Requests read but not answered before the server stops reading the stream. */
  maxPending: number
}

/** What the clock server counts, over every clock stream it served (node.stats().clockServer). */
export interface ClockServerStats {
  /** Clock streams open now. */
  streams: number
  requests: number
  answers: number
  /** Answers that waited for the peer's rate. */
  delayed: number
  /** Times a stream stopped being read: too many requests waiting, or the client not reading. */
  holds: number
  /** Streams closed with timeout (idle). */
  idleClosed: number
  /** Streams closed with slow-consumer (answers not read). */
  stalledClosed: number
  /** Streams the server closed after the client's end, every request answered. */
  ended: number
}

export function newClockServerStats (): ClockServerStats {
  return { streams: 0, requests: 0, answers: 0, delayed: 0, holds: 0, idleClosed: 0, stalledClosed: 0, ended: 0 }
}

export interface ClockServerContext {
  clock: Clock
  limits: ClockServerLimits
  /** The peer's answer rate. */
  bucket: TokenBucket
  stats: ClockServerStats
  /** The stream is gone (the service releases the peer's bucket). */
  onClose?: () => void
}

interface Request { id: number, t1: number, t2: number }

export function handleClockStream (stream: Stream, ctx: ClockServerContext): void {
  const { clock, limits, bucket, stats } = ctx
  const pending: Request[] = []
  let t2 = 0
  let ending = false
  let finished = false
  let lastActivityUs = clock.nowUs()
  let rateTimer: ReturnType<typeof setTimeout> | undefined
  let stallTimer: ReturnType<typeof setTimeout> | undefined
  let idleTimer: ReturnType<typeof setTimeout> | undefined
  let pumping = false
  let again = false
  stats.streams++

  const framed = new FramedStream(stream, {
    maxFrameBytes: 1024,
    onData: () => { t2 = clock.nowUs() },
    onRemoteEnd: () => {
      ending = true
      pump()
    },
    onClose: () => {
      clearTimeout(rateTimer)
      clearTimeout(stallTimer)
      clearTimeout(idleTimer)
      pending.length = 0
      stats.streams--
      ctx.onClose?.()
    }
  })
  stream.addEventListener('drain', () => { pump() })

  framed.onMessage = (msg: Message) => {
    if (msg.type === 'close') {
      if (msg.code !== 'normal') {
        // The client failed the stream (spec §9.2.10): answer nothing more, send no close of our own.
        finished = true
        pending.length = 0
        void framed.stream.close().catch(err => { framed.abort(err) })
        return
      }
      ending = true
      pump()
      return
    }
    if (msg.type !== 'clock-request') throw new StreamError('unexpected-message', `expected clock-request, got ${msg.type}`)
    stats.requests++
    lastActivityUs = clock.nowUs()
    pending.push({ id: msg.id, t1: msg.t1, t2 })
    if (pending.length >= limits.maxPending) hold()
    pump()
  }

  function hold (): void {
    if (framed.held) return
    stats.holds++
    framed.hold()
  }

  /** Answer what the rate and the stream allow; re-entrant calls (release() reads more) loop here. */
  function pump (): void {
    if (pumping) {
      again = true
      return
    }
    pumping = true
    try {
      do {
        again = false
        step()
      } while (again && framed.open && !finished)
    } catch (err) {
      framed.fail(toSpikewireError(err))
    } finally {
      pumping = false
    }
  }

  function step (): void {
    if (!framed.open || finished) return
    while (pending.length > 0) {
      if (framed.needsDrain) return congested()
      const waitUs = bucket.take()
      if (waitUs > 0) {
        if (rateTimer === undefined) {
          stats.delayed++
          rateTimer = setTimeout(() => {
            rateTimer = undefined
            pump()
          }, Math.max(1, Math.ceil(waitUs / 1000)))
        }
        break
      }
      const r = pending.shift()!
      framed.send({ type: 'clock-response', id: r.id, t1: r.t1, t2: wireTime(r.t2), t3: wireTime(clock.nowUs()) })
      stats.answers++
      lastActivityUs = clock.nowUs()
    }
    if (framed.needsDrain) return congested()
    clearTimeout(stallTimer)
    stallTimer = undefined
    if (framed.held && pending.length <= limits.maxPending / 2) framed.release()
    if (pending.length === 0 && ending && !framed.held) finish()
  }

  /** The client does not read its answers: read nothing more until the stream drains, for at most stallMs. */
  function congested (): void {
    hold()
    if (stallTimer !== undefined) return
    stallTimer = setTimeout(() => {
      stallTimer = undefined
      if (!framed.open || !framed.needsDrain) return
      stats.stalledClosed++
      log('a clock stream did not drain for %d ms', limits.stallMs)
      framed.fail(new StreamError('slow-consumer', `the clock answers were not read for ${limits.stallMs} ms`))
    }, limits.stallMs)
    stallTimer.unref?.()
  }

  /** Every request of the ended client is answered: close the write side, no close message (spec §9.3.1). */
  function finish (): void {
    if (finished) return
    finished = true
    stats.ended++
    void framed.stream.close().catch(err => { framed.abort(err) })
  }

  const checkIdle = (): void => {
    idleTimer = undefined
    if (stream.status !== 'open') return
    const idleUs = clock.nowUs() - lastActivityUs
    if (idleUs >= limits.idleMs * 1000) {
      stats.idleClosed++
      // After our end a client that keeps its own write side open is reset (no close: we sent ours).
      if (finished) framed.abort(new StreamError('timeout', `the client did not end the stream within ${limits.idleMs} ms`))
      else framed.fail(new StreamError('timeout', `no clock request for ${limits.idleMs} ms`))
      return
    }
    idleTimer = setTimeout(checkIdle, Math.max(1, limits.idleMs - idleUs / 1000))
    idleTimer.unref?.()
  }
  idleTimer = setTimeout(checkIdle, limits.idleMs)
  idleTimer.unref?.()
}
