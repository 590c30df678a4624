/**
 * The streams of one protocol that each peer holds on this node, all ports and connections together, bounded
 * (spec §11.4: per peer, for each protocol), so that one peer cannot take every slot: events streams (of a
 * port), describe streams and clock streams each have one.
 */
import type { Stream } from '@libp2p/interface'
import { StreamError, encodeFrame } from '../codec/index.ts'
import type { ErrorCodeName } from '../codec/index.ts'

export class PeerStreams {
  readonly max: number
  readonly #count = new Map<string, number>()

  constructor (max: number) {
    this.max = max
  }

  /** Streams `peer` holds now. */
  count (peer: string): number {
    return this.#count.get(peer) ?? 0
  }

  /** Take a slot for `peer`: the function that gives it back (once), or undefined when it has `max` already. */
  take (peer: string): (() => void) | undefined {
    const n = this.count(peer)
    if (n >= this.max) return undefined
    this.#count.set(peer, n + 1)
    let held = true
    return () => {
      if (!held) return
      held = false
      const m = this.count(peer) - 1
      if (m <= 0) this.#count.delete(peer)
      else this.#count.set(peer, m)
    }
  }
}

/**
 * Refuse a stream of a protocol without open/reject (describe, clock) that would pass a limit: send
 * close{code} as its only message (spec §11.4) and close the write side once the peer's first message (its
 * request, in flight) or the end of its write side arrives; what it sent is ignored. Closing at once could
 * end the write side while the dialer is still negotiating the protocol, and some dialers then miss that end.
 * A stream the peer does not end within `timeoutMs` is reset.
 */
export function refuseStream (stream: Stream, code: ErrorCodeName, reason: string, timeoutMs: number): void {
  const timer = setTimeout(() => { stream.abort(new StreamError('timeout', 'a refused stream did not end in time')) }, timeoutMs)
  timer.unref?.()
  let closing = false
  const closeWrite = (): void => {
    if (closing) return
    closing = true
    void stream.close().catch(err => { stream.abort(err) })
  }
  // Nothing the peer sends is decoded: its bytes only tell that its request has arrived.
  stream.addEventListener('message', closeWrite)
  stream.addEventListener('remoteCloseWrite', closeWrite)
  stream.addEventListener('close', () => { clearTimeout(timer) })
  try {
    stream.send(encodeFrame({ type: 'close', code, reason }))
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
}
