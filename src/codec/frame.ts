/**
 * Stream framing (spec §5): each message is an unsigned varint length followed by that many bytes of
 * CBOR. The decoder checks the announced length against its limit before it buffers the body, so a peer
 * cannot make it hold more than one maximum frame.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { DEFAULT_MAX_FRAME_BYTES, MAX_LENGTH_PREFIX_BYTES } from './constants.ts'
import { FrameError } from './errors.ts'
import { readLengthPrefix } from './varint.ts'

export interface FrameDecoderInit {
  /** Largest frame body accepted, bytes (default 1 MiB). */
  maxFrameBytes?: number
}

/** Splits a byte stream into frame bodies. Feed chunks with `push`, then drain complete frames. */
export class FrameDecoder {
  readonly maxFrameBytes: number
  readonly #buffer = new Uint8ArrayList()
  #need = -1
  #prefix = 0

  constructor (init: FrameDecoderInit = {}) {
    this.maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  }

  /** Bytes held that do not form a complete frame yet. */
  get buffered (): number {
    return this.#buffer.byteLength
  }

  /** Add received bytes and yield every frame body they complete. Throws FrameError on a bad prefix. */
  * push (chunk: Uint8Array | Uint8ArrayList): Generator<Uint8Array> {
    this.#buffer.append(chunk)
    for (;;) {
      if (this.#need < 0) {
        const p = readLengthPrefix(this.#buffer, 0, MAX_LENGTH_PREFIX_BYTES)
        if (p === undefined) return
        if (p.value === 0) throw new FrameError('malformed-frame', 'zero-length frame')
        if (p.value > this.maxFrameBytes) {
          throw new FrameError('frame-too-large', `frame of ${p.value} bytes exceeds the limit of ${this.maxFrameBytes}`)
        }
        this.#need = p.value
        this.#prefix = p.bytes
      }
      if (this.#buffer.byteLength < this.#prefix + this.#need) return
      const end = this.#prefix + this.#need
      const frame = this.#buffer.subarray(this.#prefix, end)
      this.#buffer.consume(end)
      this.#need = -1
      yield frame
    }
  }

  /**
   * Call when the stream has ended: throws FrameError(malformed-frame) when a partial frame is left,
   * since the remote closed in the middle of a message.
   */
  end (): void {
    if (this.#buffer.byteLength > 0) {
      throw new FrameError('malformed-frame', `stream ended inside a frame (${this.#buffer.byteLength} byte(s) left)`)
    }
  }
}

/** Split a buffer holding whole frames (e.g. a test vector) into frame bodies; throws on any leftover. */
export function splitFrames (bytes: Uint8Array, init: FrameDecoderInit = {}): Uint8Array[] {
  const d = new FrameDecoder(init)
  const frames = [...d.push(bytes)]
  d.end()
  return frames
}
