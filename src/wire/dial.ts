/**
 * Opening a spikewire stream as a client: dial the peer, open a stream for one protocol, wrap it in a
 * FramedStream; and the request pattern on top of it — send the first message, wait for the first answer
 * with a deadline. On any failure the stream is aborted and the error rethrown: no stream is left behind.
 */
import type { Connection, Libp2p } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { RejectedError, RemoteCloseError, StreamError, toSpikewireError } from '../codec/index.ts'
import type { Message } from '../codec/index.ts'
import { withDeadline } from '../base/abort.ts'
import { FramedStream } from './framed.ts'
import type { FramedStreamInit } from './framed.ts'
import { dialPeer } from './relay-dial.ts'
import type { Target } from './target.ts'

const log = logger('spikewire:dial')

export interface DialedStream {
  framed: FramedStream
  connection: Connection
  /** PeerId of the remote, as a string. */
  peer: string
}

/**
 * Dial `target` (directly, else through the node's relays: relay-dial.ts) and open a framed stream for
 * `protocol`. The connection is dialled first so its remote peer is known for certain (stream ids are unique
 * only within a connection).
 */
export async function dialFramed (libp2p: Libp2p, target: Target, protocol: string, init: FramedStreamInit = {},
  options: { signal?: AbortSignal } = {}): Promise<DialedStream> {
  const connection = await dialPeer(libp2p, target, options)
  // A relayed connection may carry limits (a relay that applies them to this peer, spec §4.1.3): the stream
  // is opened on it all the same; the relay then cuts it at its limit and the link reconnects.
  const stream = await connection.newStream(protocol, { ...options, runOnLimitedConnection: true })
  const framed = new FramedStream(stream, init)
  return { framed, connection, peer: connection.remotePeer.toString() }
}

export interface RequestInit<T> extends Omit<FramedStreamInit, 'onMessage'> {
  protocol: string
  /** The first message, sent as soon as the stream is open. */
  request: Message
  /**
   * Turn the first message of the remote into the answer. Throwing fails the request: after a RejectedError
   * or RemoteCloseError (the remote's word) the stream's write side is closed; any other error is sent as
   * close{code} and the stream reset.
   * A close from the remote never reaches it: it becomes a RemoteCloseError.
   */
  onReply: (msg: Message, framed: FramedStream) => T
  /** Deadline for the dial, the stream and the answer together, ms. */
  timeoutMs: number
  /** What was not received in time, for the timeout error ('accept or reject'). */
  awaiting: string
}

export interface Answered<T> extends DialedStream {
  reply: T
}

/**
 * Dial, send `init.request` and wait for the first answer. The deadline sends close{timeout} and rejects
 * with a StreamError 'timeout'; the caller's signal resets the stream and rejects with its reason. After
 * the answer, further messages go to `framed.onMessage` (it throws until the caller replaces it).
 */
export async function request<T> (libp2p: Libp2p, target: Target, init: RequestInit<T>,
  options: { signal?: AbortSignal } = {}): Promise<Answered<T>> {
  const deadline = withDeadline(init.timeoutMs, options.signal)
  const answer = Promise.withResolvers<T>()
  let settled = false
  const settle = (fn: () => void): void => {
    if (settled) return
    settled = true
    fn()
  }
  const { protocol, request: first, onReply, awaiting, onClose } = init
  let dialed: DialedStream
  try {
    dialed = await dialFramed(libp2p, target, protocol, {
      maxFrameBytes: init.maxFrameBytes,
      decodeOptions: init.decodeOptions,
      onData: init.onData,
      closeRequired: init.closeRequired,
      onRemoteEnd: () => {
        // The remote ended its write side before answering: no answer will come (spec §9.1, §9.2.2).
        settle(() => { answer.reject(new StreamError('unexpected-message', `the stream ended before ${awaiting}`)) })
        init.onRemoteEnd?.()
      },
      onClose: err => {
        settle(() => { answer.reject(err ?? new StreamError('unexpected-message', `the stream closed before ${awaiting}`)) })
        onClose?.(err)
      }
    }, { signal: deadline })
  } catch (err) {
    throw timedOut(deadline, options.signal) ? new StreamError('timeout', `no ${awaiting} in time (dial)`) : err
  }
  const { framed } = dialed
  framed.onMessage = (msg: Message) => {
    if (settled) throw new StreamError('unexpected-message', `${msg.type} after ${awaiting}`)
    if (msg.type === 'close') {
      settle(() => { answer.reject(new RemoteCloseError(msg.code, msg.reason)) })
      return
    }
    try {
      const reply = onReply(msg, framed)
      settle(() => { answer.resolve(reply) })
    } catch (err) {
      settle(() => { answer.reject(err) })
      if (!(err instanceof RejectedError || err instanceof RemoteCloseError)) throw err
    }
  }
  const onAbort = (): void => {
    const err = timedOut(deadline, options.signal)
      ? new StreamError('timeout', `no ${awaiting} in time`)
      : options.signal!.reason as Error
    settle(() => { answer.reject(err) })
    if (err instanceof StreamError) framed.fail(err)
    else framed.abort(err)
  }
  deadline.addEventListener('abort', onAbort, { once: true })
  try {
    if (deadline.aborted) onAbort()
    else framed.send(first)
    const reply = await answer.promise
    return { ...dialed, reply }
  } catch (err) {
    log('%s request to %s failed: %s', protocol, dialed.peer, (err as Error).message)
    if (framed.open) {
      if (err instanceof RejectedError || err instanceof RemoteCloseError) endAfterRefusal(framed)
      else framed.abort(err instanceof Error ? err : toSpikewireError(err))
    }
    throw err
  } finally {
    deadline.removeEventListener('abort', onAbort)
  }
}

/** How long the remote gets to end its side after refusing, before the stream is reset, ms. */
const REFUSAL_CLOSE_MS = 2000

/**
 * The remote refused (reject or close instead of the answer): we send nothing more and close our write side
 * (spec §9.2.3, §9.2.10), resetting only if the stream does not end in time.
 */
function endAfterRefusal (framed: FramedStream): void {
  void framed.stream.close({ signal: AbortSignal.timeout(REFUSAL_CLOSE_MS) })
    .catch((err: unknown) => { framed.abort(err instanceof Error ? err : new Error(String(err))) })
}

/** True when `deadline` aborted by its own timeout rather than because the caller's signal did. */
function timedOut (deadline: AbortSignal, signal: AbortSignal | undefined): boolean {
  return deadline.aborted && signal?.aborted !== true
}
