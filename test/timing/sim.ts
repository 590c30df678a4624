/** Simulated spike streams for playout and merge tests. */
import { SkewedClock } from '../../src/base/clock.ts'
import { SimulatedScheduler } from '../../src/timing/sim-scheduler.ts'
import { prng } from '../../src/base/prng.ts'

/** Uniform numbers in [0, 1) from the models' seeded generator: the same seed, the same sequence. */
export function rng (seed: number): () => number {
  const p = prng(seed)
  return () => p.next()
}

export interface SimEvent {
  /** Index in send order. */
  i: number
  /** Sender-clock timestamp (integer µs, as on the wire). */
  timeUs: number
  /** Local time the sender's timestamp corresponds to (exact mapping). */
  localUs: number
  /** Local arrival time. */
  arrivalUs: number
}

export interface StreamSim {
  scheduler: SimulatedScheduler
  sender: SkewedClock
  /** Exact sender → local mapping. */
  toLocal: (remoteUs: number) => number
  events: SimEvent[]
}

/**
 * A sender whose clock is offset and drifting relative to the receiver (the scheduler's clock), emitting
 * Poisson spikes at `rateHz` for `durationUs`; each crosses the network in `latencyUs()` and the stream
 * delivers in order (a later event never arrives before an earlier one, as on a TCP/yamux stream unless
 * `inOrder` is false).
 */
export function streamSim (o: {
  seed: number
  rateHz: number
  durationUs: number
  latencyUs: (r: () => number) => number
  offsetUs?: number
  driftPpm?: number
  inOrder?: boolean
  scheduler?: SimulatedScheduler
}): StreamSim {
  const r = rng(o.seed)
  const scheduler = o.scheduler ?? new SimulatedScheduler()
  const start = scheduler.nowUs()
  const sender = new SkewedClock(scheduler.clock, { offsetUs: o.offsetUs ?? 0, driftPpm: o.driftPpm ?? 0 })
  const s0 = sender.toSkewed(start)
  const slope = 1 + sender.driftPpm * 1e-6
  const toLocal = (remoteUs: number): number => start + (remoteUs - s0) / slope
  const events: SimEvent[] = []
  let T = start + 1000
  let lastArrival = -Infinity
  for (let i = 0; ; i++) {
    T += -Math.log(1 - r()) * 1e6 / o.rateHz
    if (T > start + o.durationUs) break
    const timeUs = Math.round(sender.toSkewed(T))
    let arrivalUs = T + o.latencyUs(r)
    if (o.inOrder !== false) arrivalUs = Math.max(arrivalUs, lastArrival)
    lastArrival = arrivalUs
    events.push({ i, timeUs, localUs: toLocal(timeUs), arrivalUs })
  }
  return { scheduler, sender, toLocal, events }
}

/** Schedule each event's arrival on the scheduler, calling `arrive` then. */
export function scheduleArrivals (sim: StreamSim, arrive: (e: SimEvent) => void): void {
  for (const e of sim.events) sim.scheduler.setTimer(e.arrivalUs, () => { arrive(e) })
}
