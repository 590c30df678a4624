import { burstOf, sampleDelayUs } from './link.ts'
import type { ResolvedLinkParams } from './link.ts'
import type { Prng } from '../base/prng.ts'

/** A piece of the byte stream held by a delay line. Times are µs on the proxy's clock. */
export interface Chunk {
  data: Uint8Array
  /** When the proxy read the bytes from the sending socket. */
  arrivalUs: number
  /** When the bytes are due to be written to the receiving socket. */
  releaseUs: number
}

/** Largest segment the shaper schedules on its own when a rate limit is set. */
export const MAX_SEGMENT_BYTES = 16384

/**
 * One direction of one connection: a FIFO of chunks, each with its release time. Pure bookkeeping on
 * numbers (no timers, no sockets), so it can be tested on a manual clock.
 *
 * The model is a bottleneck link followed by a propagation path:
 * 1. Rate limit (token bucket, depth B bytes, rate R bytes/s), computed as the equivalent GCRA: a segment of
 *    n bytes leaves the bottleneck at departure = max(arrival, tat − (B − n)/R), then tat = max(tat,
 *    departure) + n/R. When a rate is set, reads are cut into segments of at most min(B, 16 KiB) so the
 *    bytes come out paced rather than in one lump.
 * 2. Delay: each segment draws d = delay + jitter sample (see LinkParams).
 * 3. Order: TCP is a byte stream, so a segment can never overtake the one before it:
 *    release = max(previous release, departure + d). A real path's FIFO queue behaves the same way, which
 *    also means that when segments are closer together than the jitter spread, the observed delays
 *    are pushed towards the upper end of the distribution.
 *
 * New parameters apply to bytes pushed after the change; chunks already queued keep their release times.
 */
export class DelayLine {
  #params: ResolvedLinkParams
  #burst: number
  readonly #rng: Prng
  #queue: Chunk[] = []
  #head = 0
  #bytes = 0
  #lastReleaseUs = -Infinity
  #tatUs = -Infinity

  constructor (params: ResolvedLinkParams, rng: Prng) {
    this.#params = params
    this.#burst = burstOf(params)
    this.#rng = rng
  }

  get params (): ResolvedLinkParams {
    return this.#params
  }

  setParams (params: ResolvedLinkParams): void {
    this.#params = params
    this.#burst = burstOf(params)
  }

  /** Bytes waiting for release. */
  get queuedBytes (): number {
    return this.#bytes
  }

  /** Chunks waiting for release. */
  get queuedChunks (): number {
    return this.#queue.length - this.#head
  }

  /** Release time of the oldest queued chunk, or undefined when empty. */
  nextDueUs (): number | undefined {
    return this.#queue[this.#head]?.releaseUs
  }

  /** Queue bytes read at `arrivalUs`; returns the number of segments queued. */
  push (data: Uint8Array, arrivalUs: number): number {
    if (data.byteLength === 0) return 0
    const rate = this.#params.rateBytesPerSec
    if (rate === Infinity) {
      this.#enqueue(data, arrivalUs, arrivalUs)
      return 1
    }
    const segment = Math.max(1, Math.min(this.#burst, MAX_SEGMENT_BYTES))
    const usPerByte = 1e6 / rate
    let count = 0
    for (let off = 0; off < data.byteLength; off += segment) {
      const piece = data.subarray(off, Math.min(off + segment, data.byteLength))
      const n = piece.byteLength
      const departureUs = Math.max(arrivalUs, this.#tatUs - (this.#burst - n) * usPerByte)
      this.#tatUs = Math.max(this.#tatUs, departureUs) + n * usPerByte
      this.#enqueue(piece, arrivalUs, departureUs)
      count++
    }
    return count
  }

  /** Remove and return, in order, every chunk with releaseUs ≤ `nowUs`. */
  takeDue (nowUs: number): Chunk[] {
    const out: Chunk[] = []
    while (this.#head < this.#queue.length && this.#queue[this.#head].releaseUs <= nowUs) {
      const c = this.#queue[this.#head++]
      this.#bytes -= c.data.byteLength
      out.push(c)
    }
    if (this.#head === this.#queue.length) {
      this.#queue = []
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
    return out
  }

  /** Drop everything queued (the shaper and ordering state are kept). */
  clear (): void {
    this.#queue = []
    this.#head = 0
    this.#bytes = 0
  }

  #enqueue (data: Uint8Array, arrivalUs: number, departureUs: number): void {
    const releaseUs = Math.max(this.#lastReleaseUs, departureUs + sampleDelayUs(this.#params, this.#rng))
    this.#lastReleaseUs = releaseUs
    this.#queue.push({ data, arrivalUs, releaseUs })
    this.#bytes += data.byteLength
  }
}
