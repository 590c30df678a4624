/**
 * Framing (spec §5): an unsigned LEB128 length prefix of at most 4 bytes in minimal form, then that many
 * bytes of CBOR. The reader decides on the prefix alone (zero length, too long, over the limit) before it
 * buffers any of the body.
 */
import { WireError } from './errors.ts'

export const MAX_FRAME = 1024 * 1024

export function lengthPrefix (n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return out
}

export function frame (body: Uint8Array): Uint8Array {
  const p = lengthPrefix(body.length)
  const out = new Uint8Array(p.length + body.length)
  out.set(p, 0)
  out.set(body, p.length)
  return out
}

export class FrameReader {
  readonly maxFrame: number
  #buf = new Uint8Array(0)
  #need = -1
  #skip = 0

  constructor (maxFrame = MAX_FRAME) {
    this.maxFrame = maxFrame
  }

  /** Add bytes; returns the frame bodies they complete. Throws WireError on a bad prefix. */
  push (chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.#buf.length + chunk.length)
    joined.set(this.#buf, 0)
    joined.set(chunk, this.#buf.length)
    this.#buf = joined
    const out: Uint8Array[] = []
    for (;;) {
      if (this.#need < 0 && !this.#prefix()) break
      if (this.#buf.length < this.#skip + this.#need) break
      out.push(this.#buf.slice(this.#skip, this.#skip + this.#need))
      this.#buf = this.#buf.subarray(this.#skip + this.#need)
      this.#need = -1
    }
    return out
  }

  /** The stream ended: a partial frame left behind is a truncated frame. */
  end (): void {
    if (this.#buf.length > 0) throw new WireError('malformed-frame', 'the stream ended inside a frame')
  }

  #prefix (): boolean {
    let value = 0
    for (let i = 0; i < this.#buf.length; i++) {
      const b = this.#buf[i]
      if (i === 3 && (b & 0x80) !== 0) throw new WireError('malformed-frame', 'length prefix longer than 4 bytes')
      value += (b & 0x7f) * 2 ** (7 * i)
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) throw new WireError('malformed-frame', 'length prefix not in minimal form')
        if (value === 0) throw new WireError('malformed-frame', 'zero-length frame')
        if (value > this.maxFrame) throw new WireError('frame-too-large', `frame of ${value} bytes over ${this.maxFrame}`)
        this.#need = value
        this.#skip = i + 1
        return true
      }
    }
    return false
  }
}
