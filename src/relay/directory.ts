/**
 * The relay directory protocol (spec §9.4, /spikewire/relay-directory/1.0.0): a peer asks a relay which
 * peers hold a reservation on it and at which relayed addresses they can be reached.
 *
 *   client → directory-request { 0: 12, 1: max }
 *   relay  → directory         { 0: 13, 1: [ { 1: peer, 2: [addr…] } … ], 2: total }   then closes its side
 *        or close              { 0: 9, 1: code, 2: reason }                             then resets
 *
 * Frames are the usual ones (spec §5: varint length, deterministic CBOR). The request is at most
 * MAX_REQUEST_BYTES; an answer at most MAX_ANSWER_BYTES. A relay whose config has `list: false` does not
 * handle the protocol at all (the client sees the protocol refused during negotiation).
 */
import { encode as cborEncode, rfc8949EncodeOptions } from 'cborg'
import type { Libp2p, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { multiaddr } from '@multiformats/multiaddr'
import { FrameDecoder, MessageType, MessageError, PeerReportedError, SpikewireError, StreamError, decodeMessage, encodeFrame, frameBytes, toSpikewireError } from '../codec/index.ts'
import { readCbor } from '../codec/cbor-reader.ts'
import type { CborValue } from '../codec/cbor-reader.ts'
import { PROTOCOL_PREFIX } from '../codec/constants.ts'
import { dialPeer } from '../wire/relay-dial.ts'
import type { Target } from '../wire/target.ts'
import { InvalidArgumentError } from '../base/errors.ts'
import { withDeadline } from '../base/abort.ts'

const log = logger('spikewire:relay-directory')

export const DIRECTORY_PROTOCOL = `${PROTOCOL_PREFIX}/relay-directory/1.0.0`
export const DirectoryType = { request: 12, answer: 13 } as const
/** §9.4: a directory-request frame body is at most 64 bytes. */
export const MAX_REQUEST_BYTES = 64
/** §9.4: a directory answer frame body is at most 1 MiB. */
export const MAX_ANSWER_BYTES = 1024 * 1024
/** §9.4: an answer lists at most 1024 peers, each with at most 16 addresses of at most 256 bytes. */
export const MAX_LISTED = 1024
export const MAX_PEER_ADDRS = 16
/** §9.4: the exchange must finish within 10 s. */
export const DIRECTORY_TIMEOUT_MS = 10_000
/** Directory streams a relay serves at once (all peers together). */
const MAX_STREAMS = 32

export interface DirectoryEntry {
  /** The PeerId holding a reservation. */
  peer: string
  /** Its addresses through the relay, each …/p2p/RELAY/p2p-circuit/p2p/PEER. */
  addrs: string[]
}

export interface DirectoryAnswer {
  peers: DirectoryEntry[]
  /** Reservations held on the relay; more than peers.length when the answer was cut at `max`. */
  total: number
}

export interface DirectoryStats {
  /** Directory streams opened to the relay. */
  requests: number
  /** Answers sent. */
  answered: number
  /** Requests refused: the peer neither holds a reservation nor may connect (close{unauthorized}). */
  refused: number
  /** Requests that broke the protocol (oversize, not CBOR, wrong message, timeout): close{code} and reset. */
  invalid: number
}

// ---- codec ----------------------------------------------------------------------------------------------

function invalid (message: string): never {
  throw new MessageError('invalid-message', message)
}

function mapOf (bytes: Uint8Array, expected: number): Map<CborValue, CborValue> {
  const item = readCbor(bytes, { maxDepth: 4 })
  if (!(item instanceof Map)) invalid('a directory message must be a map')
  const t = item.get(0)
  if (t === MessageType.close) {
    const close = decodeMessage(bytes)
    if (close.type === 'close') throw new PeerReportedError(close.code, `the relay closed the directory stream: ${close.code}${close.reason === undefined ? '' : ` (${close.reason})`}`, close.reason)
  }
  if (t !== expected) {
    if (typeof t === 'bigint') throw new MessageError('unknown-message-type', `unknown message type ${t}`)
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0) invalid('message type must be an unsigned integer')
    // §9.4: a known type out of place is unexpected-message; a type no version defines, unknown-message-type.
    const known = (Object.values(MessageType) as number[]).includes(t) || t === DirectoryType.request || t === DirectoryType.answer
    if (!known) throw new MessageError('unknown-message-type', `unknown message type ${t}`)
    throw new StreamError('unexpected-message', `expected message type ${expected}, got ${t}`)
  }
  for (const k of item.keys()) if (typeof k !== 'number' || !Number.isInteger(k) || k < 0) invalid('map keys must be unsigned integers')
  return item
}

function uint (v: CborValue | undefined, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) invalid(`${what} must be an integer from ${min} to ${max}`)
  return v
}

function text (v: CborValue | undefined, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || new TextEncoder().encode(v).length > 256) invalid(`${what} must be a text of 1 to 256 bytes`)
  return v
}

export function encodeDirectoryRequest (max: number): Uint8Array {
  return frameBytes(cborEncode(new Map([[0, DirectoryType.request], [1, max]]), rfc8949EncodeOptions))
}

/** The `max` of a directory-request frame body. Throws SpikewireError with the spec's code. */
export function decodeDirectoryRequest (body: Uint8Array): number {
  const m = mapOf(body, DirectoryType.request)
  return uint(m.get(1), 'directory-request.max', 1, MAX_LISTED)
}

export function encodeDirectoryAnswer (answer: DirectoryAnswer): Uint8Array {
  const peers = answer.peers.map(p => new Map<number, unknown>([[1, p.peer], [2, p.addrs]]))
  return frameBytes(cborEncode(new Map<number, unknown>([[0, DirectoryType.answer], [1, peers], [2, answer.total]]), rfc8949EncodeOptions))
}

/** A directory answer from its frame body. Throws SpikewireError with the spec's code. */
export function decodeDirectoryAnswer (body: Uint8Array, max = MAX_LISTED): DirectoryAnswer {
  const m = mapOf(body, DirectoryType.answer)
  const list = m.get(1)
  if (!Array.isArray(list) || list.length > max) invalid(`directory.peers must be an array of at most ${max} entries`)
  const peers = list.map((e, i): DirectoryEntry => {
    if (!(e instanceof Map)) invalid(`directory.peers[${i}] must be a map`)
    const addrs = e.get(2)
    if (!Array.isArray(addrs) || addrs.length > MAX_PEER_ADDRS) invalid(`directory.peers[${i}].addrs must be an array of at most ${MAX_PEER_ADDRS} texts`)
    return {
      peer: text(e.get(1), `directory.peers[${i}].peer`),
      addrs: addrs.map((a, j) => {
        const s = text(a, `directory.peers[${i}].addrs[${j}]`)
        try { multiaddr(s) } catch { invalid(`directory.peers[${i}].addrs[${j}] is not a multiaddr`) }
        return s
      })
    }
  })
  const total = uint(m.get(2), 'directory.total', peers.length, Number.MAX_SAFE_INTEGER)
  return { peers, total }
}

// ---- server ---------------------------------------------------------------------------------------------

export interface DirectoryServerInit {
  maxListed: number
  /** May this peer read the directory? */
  mayList: (peer: string) => boolean
  /** The peers holding reservations and their relayed addresses. */
  listed: () => DirectoryEntry[]
}

/** Read the first frame of `stream`, at most `maxBytes`, within the signal's time. */
async function readFirstFrame (stream: Stream, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const decoder = new FrameDecoder({ maxFrameBytes: maxBytes })
  const onAbort = (): void => { stream.abort(new StreamError('timeout', 'no directory message in time')) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    for await (const chunk of stream) {
      for (const frame of decoder.push(chunk)) return frame
    }
    if (signal.aborted) throw new StreamError('timeout', 'no directory message in time')
    decoder.end()
    throw new StreamError('unexpected-message', 'the stream ended before a directory message')
  } catch (err) {
    if (signal.aborted) throw new StreamError('timeout', 'no directory message in time')
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** Send close{code} and reset the stream (spec §9.4: errors end the exchange). */
function failStream (stream: Stream, err: SpikewireError): void {
  try {
    stream.send(encodeFrame({ type: 'close', code: err.code, reason: err.message.slice(0, 200) }))
  } catch {
    // The stream may be closed already: the reset below is what matters.
  }
  // Let the close frame leave before the reset.
  setTimeout(() => { stream.abort(err) }, 50)
}

export class DirectoryServer {
  readonly #libp2p: Libp2p
  readonly #init: DirectoryServerInit
  readonly #stats: DirectoryStats = { requests: 0, answered: 0, refused: 0, invalid: 0 }

  constructor (libp2p: Libp2p, init: DirectoryServerInit) {
    this.#libp2p = libp2p
    this.#init = init
  }

  stats (): DirectoryStats {
    return { ...this.#stats }
  }

  async start (): Promise<void> {
    await this.#libp2p.handle(DIRECTORY_PROTOCOL, (stream, connection) => {
      this.#serve(stream, connection.remotePeer.toString()).catch((err: unknown) => {
        log.error('directory stream from %s failed: %e', connection.remotePeer.toString(), err)
        stream.abort(err instanceof Error ? err : new Error(String(err)))
      })
    }, { maxInboundStreams: MAX_STREAMS, maxOutboundStreams: 1, runOnLimitedConnection: false })
  }

  async stop (): Promise<void> {
    await this.#libp2p.unhandle(DIRECTORY_PROTOCOL).catch(() => {})
  }

  async #serve (stream: Stream, peer: string): Promise<void> {
    this.#stats.requests++
    let max: number
    try {
      const body = await readFirstFrame(stream, MAX_REQUEST_BYTES, AbortSignal.timeout(DIRECTORY_TIMEOUT_MS))
      max = decodeDirectoryRequest(body)
    } catch (err) {
      this.#stats.invalid++
      const e = toSpikewireError(err)
      log('invalid directory request from %s: %s (%s)', peer, e.code, e.message)
      failStream(stream, e)
      return
    }
    if (!this.#init.mayList(peer)) {
      this.#stats.refused++
      failStream(stream, new StreamError('unauthorized', 'this peer may not read the directory of this relay'))
      return
    }
    const all = this.#init.listed()
    const peers = all.slice(0, Math.min(max, this.#init.maxListed)).map(p => ({ peer: p.peer, addrs: p.addrs.slice(0, MAX_PEER_ADDRS) }))
    stream.send(encodeDirectoryAnswer({ peers, total: all.length }))
    this.#stats.answered++
    await stream.close({ signal: AbortSignal.timeout(DIRECTORY_TIMEOUT_MS) }).catch((err: Error) => { stream.abort(err) })
  }
}

// ---- client ---------------------------------------------------------------------------------------------

export interface ListRelayPeersOptions {
  /** Most peers wanted (1 to 1024, default 1024); the relay may list fewer (its maxListed). */
  max?: number
  signal?: AbortSignal
  /** Deadline of the whole exchange, ms (default 10,000). */
  timeoutMs?: number
}

/**
 * Ask the relay at `relayAddr` (a multiaddr ending in /p2p/RELAY, or its PeerId) for the peers holding a
 * reservation on it. Throws a SpikewireError: `unauthorized` when the relay refuses this peer, `unsupported`
 * when it does not list (its config has list: false), `timeout`, or the code of a broken answer.
 */
export async function listRelayPeers (libp2p: Libp2p, relayAddr: Target, options: ListRelayPeersOptions = {}): Promise<DirectoryAnswer> {
  const max = options.max ?? MAX_LISTED
  if (!Number.isInteger(max) || max < 1 || max > MAX_LISTED) throw new InvalidArgumentError(`max must be an integer from 1 to ${MAX_LISTED}`)
  const signal = withDeadline(options.timeoutMs ?? DIRECTORY_TIMEOUT_MS, options.signal)
  const connection = await dialPeer(libp2p, relayAddr, { signal })
  let stream: Stream
  try {
    stream = await connection.newStream(DIRECTORY_PROTOCOL, { signal })
  } catch (err) {
    if ((err as Error).name === 'UnsupportedProtocolError') throw new SpikewireError('unsupported', `the relay ${connection.remotePeer.toString()} does not list its peers`)
    throw err
  }
  try {
    stream.send(encodeDirectoryRequest(max))
    const body = await readFirstFrame(stream, MAX_ANSWER_BYTES, signal)
    const answer = decodeDirectoryAnswer(body, max)
    await stream.close({ signal }).catch(() => { stream.abort(new Error('close failed')) })
    return answer
  } catch (err) {
    if (options.signal?.aborted === true) {
      stream.abort(err as Error)
      throw options.signal.reason
    }
    const e = toSpikewireError(err)
    if (!(e instanceof PeerReportedError)) failStream(stream, e)
    else stream.abort(e)
    throw e
  }
}

