/**
 * Absolute time rebuilt from a sender's 50 µs deltas (docs/gateway-udp2020.md, "Time"). The chain is
 * anchored at the arrival of the sender's first datagram in the gateway's clock; every later event is the
 * previous event's time plus its delta. The chain is anchored again at a datagram's arrival when:
 *
 * - `ready`:  an `R` datagram came from the address the sender sends from (its program started again);
 * - `source`: the sender's datagrams now come from another address (a new process, a new socket);
 * - `lag`:    the rebuilt time fell behind the arrival by more than `reanchorUs` (the sender restarted and
 *             its deltas start again, or datagrams were lost and their deltas with them);
 * - `ahead`:  the rebuilt time ran ahead of the arrival by more than `reanchorUs` (the sender's clock is
 *             faster than the gateway's and the difference has added up).
 *
 * A delta that puts the event more than `maxAheadUs` after its own arrival, and is itself longer than the
 * time the gateway saw pass since the sender's previous datagram by more than `maxAheadUs`, cannot be true
 * (an event is not reported before it happened, and a clock that runs fast drifts slowly): the datagram
 * is refused as `delta-overflow` and the chain is left as it was. Both conditions are needed: after the
 * gateway stalled, datagrams queued meanwhile are read one right after the other, so their arrival
 * interval is short while their deltas are true; their rebuilt times are then behind their arrivals, not
 * ahead.
 */
import { TICK_US } from './datagram.ts'

export type ReanchorReason = 'ready' | 'source' | 'lag' | 'ahead'
export const REANCHOR_REASONS: readonly ReanchorReason[] = ['ready', 'source', 'lag', 'ahead']

export interface TimelineInit {
  /** Anchor again when the rebuilt time is off the arrival by more than this, µs. */
  reanchorUs: number
  /** Refuse a delta that exceeds the arrival interval by more than this, µs. */
  maxAheadUs: number
}

export type TimelineResult =
  | { ok: true, timeUs: number, reanchored?: ReanchorReason, offUs?: number }
  | { ok: false, reason: 'delta-overflow', excessUs: number }

export class Timeline {
  readonly #init: TimelineInit
  #anchored = false
  #ready = false
  #lastUs = 0
  #lastArrivalUs = 0
  #source: string | undefined
  /** Arrival minus rebuilt time of the last event, µs (positive: the chain is behind). */
  lagUs = 0
  readonly reanchors: Record<ReanchorReason, number> = { ready: 0, source: 0, lag: 0, ahead: 0 }

  constructor (init: TimelineInit) {
    this.#init = init
  }

  /** The address the sender's last datagram came from. */
  get source (): string | undefined {
    return this.#source
  }

  /** An `R` came from this sender's address: its next datagram anchors the chain again. */
  ready (): void {
    if (this.#anchored) this.#ready = true
  }

  /** The time of an event that arrived at `arrivalUs` (gateway clock) from `source` after `deltaTicks`. */
  next (deltaTicks: number, arrivalUs: number, source: string): TimelineResult {
    const deltaUs = deltaTicks * TICK_US
    let reason: ReanchorReason | undefined
    if (this.#anchored) {
      if (this.#ready) reason = 'ready'
      else if (source !== this.#source) reason = 'source'
      else {
        const excessUs = deltaUs - (arrivalUs - this.#lastArrivalUs)
        const t = this.#lastUs + deltaUs
        const off = arrivalUs - t
        if (-off > this.#init.maxAheadUs && excessUs > this.#init.maxAheadUs) return { ok: false, reason: 'delta-overflow', excessUs }
        if (off > this.#init.reanchorUs) reason = 'lag'
        else if (off < -this.#init.reanchorUs) reason = 'ahead'
        else return this.#accept(t, arrivalUs, source)
      }
    }
    const offUs = this.#anchored ? arrivalUs - (this.#lastUs + deltaUs) : undefined
    const wasAnchored = this.#anchored
    this.#anchored = true
    this.#ready = false
    const r = this.#accept(arrivalUs, arrivalUs, source)
    if (!wasAnchored || reason === undefined) return r
    this.reanchors[reason]++
    return { ...r, reanchored: reason, offUs }
  }

  #accept (t: number, arrivalUs: number, source: string): { ok: true, timeUs: number } {
    this.#lastUs = t
    this.#lastArrivalUs = arrivalUs
    this.#source = source
    this.lagUs = arrivalUs - t
    return { ok: true, timeUs: t }
  }
}
