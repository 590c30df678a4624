/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna, 2018) seeded through splitmix32.
 * Pure JavaScript integer arithmetic, so a seed gives the same sequence on every platform.
 * Not for cryptography.
 */
import { InvalidArgumentError } from './errors.ts'

const TWO_32 = 4294967296
const TWO_53 = 9007199254740992

function rotl (x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

/** splitmix32 output for the counter value `x` (one step of the generator from state x − golden). */
function splitmix32 (x: number): number {
  let z = (x + 0x9e3779b9) | 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

/** A generator's complete state, for saving and restoring a sequence. */
export interface PrngState {
  s: [number, number, number, number]
  /** The cached second normal deviate of Box–Muller, or null. */
  spare: number | null
}

export class Prng {
  #s0 = 0
  #s1 = 0
  #s2 = 0
  #s3 = 0
  #spare: number | null = null
  readonly #seedLo: number
  readonly #seedHi: number

  /**
   * @param seed an integer 0 ≤ seed < 2^53. The four state words are splitmix32 outputs of the low
   * 32 bits, each mixed with a splitmix32 output of the high bits.
   */
  constructor (seed = 0) {
    if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_53) {
      throw new InvalidArgumentError(`seed must be an integer in [0, 2^53), got ${seed}`)
    }
    this.#seedLo = seed >>> 0
    this.#seedHi = Math.floor(seed / TWO_32) >>> 0
    this.#init(this.#seedLo, this.#seedHi)
  }

  #init (lo: number, hi: number): void {
    const w: number[] = []
    for (let i = 0; i < 4; i++) {
      const a = splitmix32((lo + Math.imul(i, 0x9e3779b9)) | 0)
      const b = splitmix32((hi ^ 0x632be5ab) + Math.imul(i + 1, 0x85ebca6b) | 0)
      w.push((a ^ rotl(b, 13)) >>> 0)
    }
    if ((w[0] | w[1] | w[2] | w[3]) === 0) w[0] = 1
    this.#s0 = w[0]
    this.#s1 = w[1]
    this.#s2 = w[2]
    this.#s3 = w[3]
    this.#spare = null
  }

  /** A generator whose state is exactly `state` (xoshiro128** words, not a seed). */
  static fromState (state: PrngState): Prng {
    const p = new Prng(0)
    p.setState(state)
    return p
  }

  /**
   * An independent generator for sub-stream `stream` (an integer 0 ≤ stream < 2^32) of this generator's
   * seed. It depends only on the seed and `stream`, not on how many numbers were drawn, so one model can
   * give each concern (spontaneous activity, stimulation, device noise) its own reproducible stream.
   */
  fork (stream: number): Prng {
    if (!Number.isInteger(stream) || stream < 0 || stream >= TWO_32) {
      throw new InvalidArgumentError(`stream must be an integer in [0, 2^32), got ${stream}`)
    }
    const p = new Prng(0)
    p.#init(splitmix32(this.#seedLo ^ splitmix32(stream)), (this.#seedHi ^ rotl(splitmix32(stream ^ 0x5bd1e995), 7)) >>> 0)
    return p
  }

  state (): PrngState {
    return { s: [this.#s0, this.#s1, this.#s2, this.#s3], spare: this.#spare }
  }

  setState (state: PrngState): void {
    const [a, b, c, d] = state.s
    for (const x of state.s) {
      if (!Number.isInteger(x) || x < 0 || x >= TWO_32) throw new InvalidArgumentError('state: state words must be uint32')
    }
    if ((a | b | c | d) === 0) throw new InvalidArgumentError('state: the all-zero state is invalid')
    this.#s0 = a
    this.#s1 = b
    this.#s2 = c
    this.#s3 = d
    this.#spare = state.spare
  }

  /** Next uint32 (xoshiro128**). */
  nextUint32 (): number {
    const s1 = this.#s1
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = s1 << 9
    this.#s2 ^= this.#s0
    this.#s3 ^= this.#s1
    this.#s1 ^= this.#s2
    this.#s0 ^= this.#s3
    this.#s2 ^= t
    this.#s3 = rotl(this.#s3, 11)
    this.#s0 >>>= 0
    this.#s1 >>>= 0
    this.#s2 >>>= 0
    this.#s3 >>>= 0
    return result
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next (): number {
    const hi = this.nextUint32() >>> 5
    const lo = this.nextUint32() >>> 6
    return (hi * 67108864 + lo) / TWO_53
  }

  /** Uniform double in [lo, hi). */
  uniform (lo: number, hi: number): number {
    return lo + (hi - lo) * this.next()
  }

  /** Uniform integer in [0, n) without modulo bias; 1 ≤ n ≤ 2^32. */
  int (n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_32) throw new InvalidArgumentError(`int(n) needs 1 ≤ n ≤ 2^32, got ${n}`)
    const limit = TWO_32 - (TWO_32 % n)
    for (;;) {
      const x = this.nextUint32()
      if (x < limit) return x % n
    }
  }

  /** True with probability p. */
  bernoulli (p: number): boolean {
    return this.next() < p
  }

  /** Exponential deviate with the given rate (mean 1/rate): −ln(1 − U)/rate, U uniform in [0, 1). */
  exponential (rate = 1): number {
    return -Math.log1p(-this.next()) / rate
  }

  /** Normal deviate (Box–Muller; the second deviate of each pair is kept for the next call). */
  normal (mean = 0, sd = 1): number {
    if (this.#spare !== null) {
      const z = this.#spare
      this.#spare = null
      return mean + sd * z
    }
    const u1 = 1 - this.next()
    const u2 = this.next()
    const r = Math.sqrt(-2 * Math.log(u1))
    this.#spare = r * Math.sin(2 * Math.PI * u2)
    return mean + sd * r * Math.cos(2 * Math.PI * u2)
  }
}

/** A generator for `seed` (see {@link Prng}). */
export function prng (seed = 0): Prng {
  return new Prng(seed)
}
