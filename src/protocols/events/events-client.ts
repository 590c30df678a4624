/**
 * The opener side of /spikewire/events/1.0.0 (spec §9.2): dial, send open, wait for accept or reject.
 */
import type { Libp2p } from '@libp2p/interface'
import {
  EVENTS_PROTOCOL, MIN_MAX_EVENTS, OPEN_TIMEOUT_MS, RejectedError, RemoteCloseError, StreamError, toSpikewireError
} from '../../codec/index.ts'
import type { Accept, DecodeOptions, ErrorCodeName, Message, Open } from '../../codec/index.ts'
import { request } from '../../wire/dial.ts'
import type { FramedStream } from '../../wire/framed.ts'
import type { Target } from '../../wire/target.ts'

export { RejectedError }

/** Reject codes after which trying again cannot help. */
export const PERMANENT_REJECTS: ReadonlySet<string> = new Set<ErrorCodeName>([
  'unknown-port', 'wrong-direction', 'unauthorized', 'channel-out-of-range', 'unsupported', 'invalid-message'
])

/** Closes received instead of an answer to our open (spec §9.2.2: the open failed with that code). */
const closedBeforeAnswer = new WeakSet<Error>()

/**
 * True when an open failed in a way that retrying cannot fix: the acceptor refused it for good, with
 * reject{code} or with close{code} instead of an answer. Spec §9.2.2: an invalid open may be refused either
 * way, and an opener treats both alike.
 */
export function isPermanentRefusal (err: Error): boolean {
  return (err instanceof RejectedError || closedBeforeAnswer.has(err)) && PERMANENT_REJECTS.has((err as RejectedError).code)
}

export interface OpenedStream {
  framed: FramedStream
  accept: Accept
  peer: string
  /**
   * Install the handler for messages after accept. Messages that arrived together with the accept are
   * held until then, already decoded with the accepted port's kind, channel count and our batch limit. They
   * are handed over even when the stream ended meanwhile (they arrived before its end), unless handling
   * one of them fails the stream.
   */
  setHandler: (fn: (msg: Message) => void) => void
}

export interface OpenOptions {
  signal?: AbortSignal
  maxFrameBytes?: number
  timeoutMs?: number
  /** Called when the stream ends (after accept). */
  onClose?: (error?: Error) => void
}

/**
 * Open an events stream. Rejects with a RejectedError (the acceptor's reject{code}), a RemoteCloseError
 * (close{code} before accept), a StreamError 'timeout', or the error of the dial.
 */
export async function openEventsStream (libp2p: Libp2p, target: Target, open: Open, options: OpenOptions = {}): Promise<OpenedStream> {
  let decodeOptions: DecodeOptions = {}
  const held: Message[] = []
  const { framed, reply: accept, peer } = await request<Accept>(libp2p, target, {
    protocol: EVENTS_PROTOCOL,
    request: open,
    timeoutMs: options.timeoutMs ?? OPEN_TIMEOUT_MS,
    awaiting: 'accept or reject',
    maxFrameBytes: options.maxFrameBytes,
    decodeOptions: () => decodeOptions,
    // Each end finishes an events stream with its own close or reject (spec §9.2.10).
    closeRequired: true,
    onClose: options.onClose,
    onReply: (msg, framed) => {
      if (msg.type === 'reject') throw new RejectedError(msg.code, msg.reason)
      if (msg.type !== 'accept') throw new StreamError('unexpected-message', `expected accept or reject, got ${msg.type}`)
      if (msg.port !== open.port) throw new StreamError('invalid-message', `accept names port ${msg.port}, opened ${open.port}`)
      decodeOptions = { kind: msg.kind, channels: msg.channels, maxEvents: open.maxEvents ?? MIN_MAX_EVENTS }
      if (open.channels !== undefined) decodeOptions.filter = new Set(open.channels)
      framed.onMessage = m => { held.push(m) }
      return msg
    }
  }, { signal: options.signal }).catch((err: unknown) => {
    if (err instanceof RemoteCloseError) closedBeforeAnswer.add(err)
    throw err
  })
  const setHandler = (fn: (msg: Message) => void): void => {
    framed.onMessage = fn
    const failure = framed.failure
    while (held.length > 0 && framed.failure === failure) {
      try {
        fn(held.shift()!)
      } catch (err) {
        framed.fail(toSpikewireError(err))
        break
      }
    }
  }
  return { framed, accept, peer, setHandler }
}

