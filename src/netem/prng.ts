/**
 * Seeded pseudo-random numbers for reproducible jitter. sfc32 (Chris Doty-Humphrey's small fast chaotic
 * generator), seeded through splitmix32 so that nearby seeds give unrelated streams. Not cryptographic.
 */

export interface Random {
  /** Uniform in [0, 1). */
  next(): number
}

/** A 32-bit mix of a seed and a stream number (splitmix32 finaliser). */
export function mixSeed (seed: number, stream: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b9) + Math.imul(stream >>> 0, 0x85ebca6b) + 0x6a09e667) >>> 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
  return (z ^ (z >>> 16)) >>> 0
}

/** sfc32 seeded from one 32-bit number. The same seed always gives the same sequence. */
export function createRandom (seed: number): Random {
  let a = mixSeed(seed, 1)
  let b = mixSeed(seed, 2)
  let c = mixSeed(seed, 3)
  let d = 1
  const step = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = ((c << 21) | (c >>> 11)) >>> 0
    c = (c + t) >>> 0
    return t
  }
  for (let i = 0; i < 12; i++) step()
  return { next: () => step() / 4294967296 }
}

/** Standard normal sample (Box–Muller, one of the pair). */
export function normal (rng: Random): number {
  let u = 0
  while (u === 0) u = rng.next()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next())
}
