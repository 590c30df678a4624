/**
 * The adversary's tools: watch what a peer sends on a raw stream and how the stream ends, and write
 * case frames (hex, or a batch padded to an exact frame size).
 */
import type { Stream } from '@libp2p/interface'
import { FrameDecoder, decodeMessage, fromHex } from '../../../src/index.ts'
import type { Message } from '../../../src/index.ts'
import type { FrameSpec } from '../../lib/cases.ts'

export interface Received {
  type: string
  code?: string | number
}

export class Watch {
  readonly stream: Stream
  readonly messages: Message[] = []
  readonly ended: Promise<'reset' | 'closed'>
  readonly #decoder = new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024 })
  readonly #waiters = new Set<() => void>()
  #garbage = false
  #closeOnRemoteEnd: boolean
  #remoteEnded = false

  /**
   * @param closeOnRemoteEnd close our write side as soon as the peer closes its own, so that a clean end
   * completes. Off where a reset must follow the peer's close (our close would end the stream first).
   */
  constructor (stream: Stream, closeOnRemoteEnd = true) {
    this.stream = stream
    this.#closeOnRemoteEnd = closeOnRemoteEnd
    const { promise, resolve } = Promise.withResolvers<'reset' | 'closed'>()
    this.ended = promise
    stream.addEventListener('message', e => {
      if (this.#garbage) return
      try {
        for (const f of this.#decoder.push(e.data)) this.messages.push(decodeMessage(f))
      } catch {
        this.#garbage = true
      }
      this.#notify()
    })
    // The peer closed its write side: close ours too, so that a clean end completes.
    stream.addEventListener('remoteCloseWrite', () => {
      this.#remoteEnded = true
      if (this.#closeOnRemoteEnd) void stream.close().catch(() => {})
    })
    stream.addEventListener('close', e => {
      resolve(e.error === undefined ? 'closed' : 'reset')
      this.#notify()
    })
  }

  /** From now on, answer the peer's end of writing with ours (at once if it has ended already). */
  closeOnRemoteEnd (): void {
    this.#closeOnRemoteEnd = true
    if (this.#remoteEnded) void this.stream.close().catch(() => {})
  }

  get received (): Received[] {
    const out: Received[] = this.messages.map(m => m.type === 'close' || m.type === 'reject' ? { type: m.type, code: m.code } : { type: m.type })
    if (this.#garbage) out.push({ type: 'undecodable' })
    return out
  }

  /** Wait until `count` messages arrived (false if the stream ends or the time runs out first). */
  async waitMessages (count: number, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs
    while (this.messages.length < count) {
      if (this.stream.status !== 'open' || Date.now() >= end) return false
      await new Promise<void>(resolve => {
        const timer = setTimeout(done, Math.max(0, end - Date.now()))
        const waiters = this.#waiters
        function done (): void {
          clearTimeout(timer)
          waiters.delete(done)
          resolve()
        }
        waiters.add(done)
      })
    }
    return true
  }

  /** How the stream ended, or "timeout" (then it is reset by us). */
  async end (timeoutMs: number): Promise<'reset' | 'closed' | 'timeout'> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const r = await Promise.race([this.ended, new Promise<'timeout'>(resolve => { timer = setTimeout(() => { resolve('timeout') }, timeoutMs) })])
    clearTimeout(timer)
    if (r === 'timeout') this.stream.abort(new Error('case timed out'))
    return r
  }

  #notify (): void {
    for (const w of [...this.#waiters]) w()
  }
}

function prefix (n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return out
}

/** The bytes of one case frame. */
export function frameBytes (f: FrameSpec): Uint8Array {
  if (typeof f === 'string') return fromHex(f)
  const batch = fromHex(f.pad_batch_hex)
  const head = batch[0]
  if ((head & 0xe0) !== 0xa0 || (head & 0x1f) >= 23) throw new RangeError('pad_batch_hex must be a map of fewer than 23 entries')
  const padLength = f.body_length - batch.length - 2 - 5
  if (padLength < 65536) throw new RangeError('body_length too small for a 4-byte byte-string head')
  const p = prefix(f.body_length)
  if (f.prefix_only === true) return Uint8Array.from(p)
  const out = new Uint8Array(p.length + f.body_length)
  out.set(p, 0)
  let o = p.length
  out.set(batch, o)
  out[o] = head + 1
  o += batch.length
  out[o++] = 0x18
  out[o++] = 0x63 // key 99, unknown to v1: ignored by receivers (spec §7.4)
  out[o++] = 0x5a
  new DataView(out.buffer).setUint32(o, padLength)
  return out
}

/** Write bytes, waiting for the stream to drain when it asks. */
export async function write (stream: Stream, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
  if (!stream.send(bytes)) await stream.onDrain({ signal })
}
