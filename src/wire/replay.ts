/**
 * Replay of an events stream as its event receiver sees it after sending open (spec §9.2): accept or
 * reject first, then batches, watermarks and loss notices, until close. Used for the stream test
 * vectors and by the interop codec entry point; it runs the same classes a live stream uses.
 */
import { MIN_MAX_EVENTS, StreamError, decodeMessage, toSpikewireError } from '../codec/index.ts'
import type { DecodeOptions, ErrorCodeName, KindName } from '../codec/index.ts'
import { EventReceiver } from './receiver.ts'

export interface ReplayContext {
  /** The opener's per-batch limit (default 4096). */
  maxEvents?: number
  /** The channel filter the opener asked for. */
  filter?: number[]
}

export interface ReplayResult {
  ok: boolean
  /** Index of the first message that broke a rule. */
  failAt?: number
  code?: ErrorCodeName
  message?: string
  /** Events missing from the sequence without a loss notice. */
  gap: number
  events: number
}

export function replayReceiverStream (frames: Uint8Array[], context: ReplayContext = {}): ReplayResult {
  let receiver: EventReceiver | undefined
  let decode: DecodeOptions = { maxEvents: context.maxEvents ?? MIN_MAX_EVENTS }
  let finished = false
  let events = 0
  for (let i = 0; i < frames.length; i++) {
    try {
      const msg = decodeMessage(frames[i], decode)
      if (finished) throw new StreamError('unexpected-message', `${msg.type} after the stream ended`)
      if (receiver === undefined) {
        if (msg.type === 'reject') {
          finished = true
          continue
        }
        if (msg.type !== 'accept') throw new StreamError('unexpected-message', `expected accept or reject, got ${msg.type}`)
        receiver = new EventReceiver({
          kind: msg.kind as KindName,
          channels: msg.channels,
          filter: context.filter,
          maxEvents: context.maxEvents ?? MIN_MAX_EVENTS,
          onBatch: b => { events += b.count }
        })
        decode = receiver.decodeOptions
        continue
      }
      if (msg.type === 'close') {
        finished = true
        continue
      }
      receiver.handle(msg)
    } catch (err) {
      const e = toSpikewireError(err)
      return { ok: false, failAt: i, code: e.code, message: e.message, gap: receiver?.stats.gapEvents ?? 0, events }
    }
  }
  return { ok: true, gap: receiver?.stats.gapEvents ?? 0, events }
}
