/**
 * Two libp2p v3 streams joined in memory, for unit tests of the wire engine. Built on @libp2p/utils'
 * AbstractStream, so status, write buffering, drain, pause and close behave as on a muxed stream; what
 * the transport does is under the test's control:
 *
 * - bytes, close-write and reset reach the other end in order, each in its own microtask (never inside
 *   the sender's call, as on a real transport);
 * - `block()` makes the transport report itself full after the next write (send() returns false and
 *   `writableNeedsDrain` is set) until `unblock()`, which emits 'drain';
 * - everything handed to the transport is kept in `written`, and pause/resume requests are counted.
 */
import { AbstractStream } from '@libp2p/utils'
import type { SendResult } from '@libp2p/utils'
import { defaultLogger } from '@libp2p/logger'
import type { Uint8ArrayList } from 'uint8arraylist'

let nextId = 0

export class MemoryStream extends AbstractStream {
  /** Every chunk handed to the transport, in order. */
  readonly written: Uint8Array[] = []
  /** Pause and resume requests this end sent to the other. */
  pauses = 0
  resumes = 0
  #peer: MemoryStream | undefined
  #blocked = false

  constructor (direction: 'inbound' | 'outbound') {
    const id = `mem-${nextId++}`
    super({ id, direction, log: defaultLogger().forComponent(`spikewire:test:memory-stream:${direction}:${id}`) })
  }

  set peer (peer: MemoryStream) {
    this.#peer = peer
  }

  /** From the next write on, the transport takes the bytes but reports that it is full. */
  block (): void {
    this.#blocked = true
  }

  /** The transport has room again: 'drain' is emitted and buffered bytes go out. */
  unblock (): void {
    this.#blocked = false
    this.onMuxerDrain()
  }

  /** Bytes handed to the transport so far. */
  get writtenBytes (): number {
    return this.written.reduce((n, b) => n + b.byteLength, 0)
  }

  sendData (data: Uint8ArrayList): SendResult {
    const bytes = data.subarray()
    this.written.push(bytes)
    this.#toPeer(peer => { peer.onData(bytes) })
    return { sentBytes: bytes.byteLength, canSendMore: !this.#blocked }
  }

  sendReset (): void {
    this.#toPeer(peer => { peer.onRemoteReset() })
  }

  async sendCloseWrite (): Promise<void> {
    this.#toPeer(peer => { peer.onRemoteCloseWrite() })
  }

  async sendCloseRead (): Promise<void> {
    this.#toPeer(peer => { peer.onRemoteCloseRead() })
  }

  sendPause (): void {
    this.pauses++
  }

  sendResume (): void {
    this.resumes++
  }

  #toPeer (fn: (peer: MemoryStream) => void): void {
    const peer = this.#peer
    if (peer === undefined) throw new Error('memory stream without a peer')
    queueMicrotask(() => {
      if (peer.status === 'open' || peer.status === 'closing') fn(peer)
    })
  }
}

/** Two joined streams: [dialer's end, listener's end]. */
export function memoryStreamPair (): [MemoryStream, MemoryStream] {
  const a = new MemoryStream('outbound')
  const b = new MemoryStream('inbound')
  a.peer = b
  b.peer = a
  return [a, b]
}

/** Let queued microtasks and timers of 0 ms run (the stream's read buffer dispatches on a timer). */
export async function settle (rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise(resolve => setImmediate(resolve))
}
