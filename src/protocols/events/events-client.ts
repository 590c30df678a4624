/**
 * The opener side of /spikewire/events/1.0.0 (spec §9.2): dial, send open, wait for accept or reject.
 */
import type { Libp2p } from '@libp2p/interface'
import { EVENTS_PROTOCOL, MIN_MAX_EVENTS, OPEN_TIMEOUT_MS, SpikewireError, StreamError, toSpikewireError } from '../../codec/index.ts'
import type { Accept, DecodeOptions, ErrorCodeName, Message, Open } from '../../codec/index.ts'
import { FramedStream } from '../../wire/framed.ts'
import { parseTarget } from '../../wire/target.ts'
import type { Target } from '../../wire/target.ts'

/** The acceptor refused the open. `code` is the registry name from the reject. */
export class RejectedError extends SpikewireError {
  override name = 'RejectedError'
}

/** Reject codes after which trying again cannot help. */
export const PERMANENT_REJECTS: ReadonlySet<string> = new Set<ErrorCodeName>([
  'unknown-port', 'wrong-direction', 'unauthorized', 'channel-out-of-range', 'unsupported', 'invalid-message'
])

export interface OpenedStream {
  framed: FramedStream
  accept: Accept
  peer: string
  /**
   * Install the handler for messages after accept. Messages that arrived together with the accept are
   * held until then, already decoded with the accepted port's kind, channel count and our batch limit.
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

export async function openEventsStream (libp2p: Libp2p, target: Target, open: Open, options: OpenOptions = {}): Promise<OpenedStream> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? OPEN_TIMEOUT_MS)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
  // Dial the connection first: its remotePeer is the peer the events come from. (Stream ids are only
  // unique within a connection, so searching all connections for the stream's id can find another peer.)
  const connection = await libp2p.dial(parseTarget(target), { signal })
  const stream = await connection.newStream(EVENTS_PROTOCOL, { signal })
  let decodeOptions: DecodeOptions = {}
  const held: Message[] = []
  const { promise, resolve, reject } = Promise.withResolvers<Accept>()
  let settled = false
  const framed = new FramedStream(stream, {
    maxFrameBytes: options.maxFrameBytes,
    decodeOptions: () => decodeOptions,
    onClose: (err) => {
      if (!settled) {
        settled = true
        reject(err ?? new StreamError('unexpected-message', 'the stream closed before accept'))
      }
      options.onClose?.(err)
    }
  })
  framed.onMessage = (msg: Message) => {
    if (settled) throw new StreamError('unexpected-message', `${msg.type} before the stream was set up`)
    settled = true
    if (msg.type === 'accept') {
      if (msg.port !== open.port) throw new StreamError('invalid-message', `accept names port ${msg.port}, opened ${open.port}`)
      decodeOptions = { kind: msg.kind, channels: msg.channels, maxEvents: open.maxEvents ?? MIN_MAX_EVENTS }
      if (open.channels !== undefined) decodeOptions.filter = new Set(open.channels)
      framed.onMessage = m => { held.push(m) }
      resolve(msg)
    } else if (msg.type === 'reject') {
      const code = typeof msg.code === 'number' ? 'internal-error' : msg.code
      reject(new RejectedError(code, msg.reason ?? `rejected: ${code}`))
      void framed.stream.close().catch(() => {})
    } else if (msg.type === 'close') {
      const code = typeof msg.code === 'number' ? 'internal-error' : msg.code
      reject(new StreamError(code, `closed before accept: ${msg.reason ?? code}`))
    } else {
      const err = new StreamError('unexpected-message', `expected accept or reject, got ${msg.type}`)
      reject(err)
      throw err
    }
  }
  const onAbort = (): void => {
    if (!settled) {
      settled = true
      const err = new StreamError('timeout', 'no accept or reject in time')
      framed.fail(err)
      reject(err)
    }
  }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    framed.send(open)
    const accept = await promise
    const setHandler = (fn: (msg: Message) => void): void => {
      framed.onMessage = fn
      while (held.length > 0 && framed.open) {
        try {
          fn(held.shift()!)
        } catch (err) {
          framed.fail(toSpikewireError(err))
        }
      }
    }
    return { framed, accept, peer: connection.remotePeer.toString(), setHandler }
  } catch (err) {
    if (framed.open) framed.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

