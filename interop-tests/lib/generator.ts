/**
 * The deterministic event generator both sides of a run agree on (interop-tests/README.md, "Event
 * generator"). From a seed it gives the channel, the time offset and the value of every event, so the
 * receiver can check each event it gets exactly. It uses only 32-bit unsigned arithmetic, which every
 * language has:
 *
 *   s_0 = seed
 *   s_k+1 = (s_k × 1664525 + 1013904223) mod 2^32          one step per event, event k uses s_k+1
 *   channel_k = (s_k+1 >> 16) mod channels
 *   gap_k     = 0 for k = 0, else min_gap + ((s_k+1 >> 8) mod (max_gap − min_gap + 1))
 *   time_k    = t0 + gap_0 + … + gap_k                      (t0 is the listener's choice: event 0's time)
 *   value_k   = (((s_k+1 >> 20) mod 2001) − 1000) / 8       on weighted ports: −125 … 125 in steps of 1/8,
 *                                                             exact in binary32
 */

export interface GeneratorSpec {
  seed: number
  n: number
  channels: number
  /** Smallest gap between consecutive events, µs (default 0: equal times happen). */
  min_gap_us?: number
  max_gap_us: number
  weighted?: boolean
}

export interface GeneratedEvents {
  channels: number[]
  /** Offsets from event 0, µs (add t0 for absolute times). */
  offsets: number[]
  values: number[] | undefined
}

const TWO32 = 4294967296

export function nextState (s: number): number {
  return (s * 1664525 + 1013904223) % TWO32
}

export function generate (spec: GeneratorSpec): GeneratedEvents {
  const minGap = spec.min_gap_us ?? 0
  const span = spec.max_gap_us - minGap + 1
  if (!(span >= 1) || !Number.isInteger(span)) throw new RangeError('max_gap_us must be an integer ≥ min_gap_us')
  const channels: number[] = new Array(spec.n)
  const offsets: number[] = new Array(spec.n)
  const values: number[] | undefined = spec.weighted === true ? new Array(spec.n) : undefined
  let s = spec.seed >>> 0
  let t = 0
  for (let k = 0; k < spec.n; k++) {
    s = nextState(s)
    channels[k] = Math.floor(s / 65536) % spec.channels
    if (k > 0) t += minGap + (Math.floor(s / 256) % span)
    offsets[k] = t
    if (values !== undefined) values[k] = ((Math.floor(s / 1048576) % 2001) - 1000) / 8
  }
  return { channels, offsets, values }
}

/** Compares received events with the generator; collects the first few differences. */
export class EventChecker {
  readonly events: GeneratedEvents
  t0: number | undefined
  mismatches = 0
  readonly examples: string[] = []

  constructor (spec: GeneratorSpec, t0?: number) {
    this.events = generate(spec)
    this.t0 = t0
  }

  /** Check the event with sequence index `k` (its position in the generated list). */
  check (k: number, channel: number, time: number, value?: number): void {
    if (k === 0 && this.t0 === undefined) this.t0 = time
    const e = this.events
    const t0 = this.t0 ?? time - e.offsets[k]
    const ok = k < e.channels.length && e.channels[k] === channel && t0 + e.offsets[k] === time &&
      (e.values === undefined || e.values[k] === value)
    if (!ok) {
      this.mismatches++
      if (this.examples.length < 3) {
        const want = k < e.channels.length ? `[${e.channels[k]}, ${t0 + e.offsets[k]}${e.values === undefined ? '' : `, ${e.values[k]}`}]` : 'nothing'
        this.examples.push(`event ${k}: got [${channel}, ${time}${value === undefined ? '' : `, ${value}`}], want ${want}`)
      }
    }
  }
}
