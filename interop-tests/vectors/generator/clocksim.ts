/**
 * Synthesis of clock-probe samples for the clocksync vectors: a known truth (the peer's offset and drift
 * relative to the client), a network path (one-way delays with random queueing), and probe bursts. The
 * client's clock is the reference time; the server's clock reads t + θ(t) with
 * θ(t) = offset + drift · (t − anchor). Deterministic: a seeded generator, integer timestamps.
 */

export interface Truth {
  /** θ at `anchorUs`, µs: server clock − client clock. */
  offsetUs: number
  /** Rate difference, ppm (positive: the server's clock runs fast). */
  driftPpm: number
  /** Client time at which θ = offsetUs. */
  anchorUs: number
}

export interface Path {
  /** Fixed one-way delays, µs: client → server (up) and back (down). */
  upUs: number
  downUs: number
  /** Mean of the exponential queueing delay added to each direction independently, µs. */
  jitterUs: number
  /** Server processing time between receipt and answer, µs. */
  processUs: number
  /** The same queueing delay in both directions (a perfectly symmetric path). */
  symmetric?: boolean
}

export interface Synthesis {
  truth: Truth
  path: Path
  seed: number
  /** Client time of the first request. */
  startUs: number
  bursts: number
  perBurst: number
  /** Time between the probes of a burst and between the starts of bursts, µs. */
  spacingUs: number
  periodUs: number
  /** Bursts during which the server's clock reads `us` off (a glitch, not a change of the truth). */
  glitch?: { burst: number, us: number }
}

export type Sample = [t1: number, t2: number, t3: number, t4: number]

/** The true offset θ(t) at client time t. */
export function trueOffset (truth: Truth, tUs: number): number {
  return truth.offsetUs + truth.driftPpm * 1e-6 * (tUs - truth.anchorUs)
}

/** mulberry32: a small, well-known 32-bit generator; numbers in [0, 1). */
function random (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** Samples and their burst ids (0, 1, …), in the order the requests were sent. */
export function synthesise (s: Synthesis): { samples: Sample[], bursts: number[] } {
  const rnd = random(s.seed)
  const queue = (): number => Math.round(-s.path.jitterUs * Math.log(1 - rnd()))
  const server = (t: number, burst: number): number =>
    Math.round(t + trueOffset(s.truth, t)) + (s.glitch?.burst === burst ? s.glitch.us : 0)
  const samples: Sample[] = []
  const bursts: number[] = []
  for (let b = 0; b < s.bursts; b++) {
    for (let k = 0; k < s.perBurst; k++) {
      const t1 = s.startUs + b * s.periodUs + k * s.spacingUs
      const qUp = queue()
      const up = s.path.upUs + qUp
      const down = s.path.downUs + (s.path.symmetric === true ? qUp : queue())
      const arrive = t1 + up
      const leave = arrive + s.path.processUs
      samples.push([t1, server(arrive, b), server(leave, b), leave + down])
      bursts.push(b)
    }
  }
  return { samples, bursts }
}
