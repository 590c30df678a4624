/**
 * Memristive device model: a bounded, non-volatile resistance programmed by voltage pulses.
 *
 * State x = (R − R_min)/(R_max − R_min) in [0, 1]. A pulse of amplitude V and width τ_p changes x by
 *
 *   k = α · s(|V|) · (τ_p / τ_ref) · max(0, 1 + σ·ξ)            ξ ~ N(0, 1) (σ = 0 by default)
 *   s(v) = 0 for v ≤ V_th, else (e^((v − V_th)/V_0) − 1) / (e^((V_ref − V_th)/V_0) − 1)
 *   V > 0 (potentiating):  1 − x' = (1 − x) · e^(−k)    R rises towards R_max
 *   V < 0 (depressing):    x'     = x · e^(−k)          R falls towards R_min
 *
 * so a step is a fixed fraction of the distance to the bound it moves towards: steps shrink as R
 * approaches that bound and R never leaves [R_min, R_max]. s(V_ref) = 1: a reference pulse (±4 V, 100 µs)
 * moves x by the fraction α of the remaining distance (α_p, α_d = 0.05 by default); the voltage
 * dependence is exponential above a threshold (V_th 1 V, V_0 1 V), so a read voltage does not disturb it.
 *
 * Read-out: weight = round(clip(255 · (R − R_min)/(R_max − R_min), 0, 255)). Potentiation raises R, so it
 * raises the weight (the polarity is this model's convention, chosen to match the 2020 weight mapping).
 * The state (R and the noise generator) is serializable and restores exactly.
 */
import { Prng } from '../base/prng.ts'
import type { PrngState } from '../base/prng.ts'
import { checkNumber } from './params.ts'
import { ModelParamError, ModelUsageError } from './errors.ts'
import type { ModelParam, Pulse } from './index.ts'

export interface MemristorInit {
  /** R_min, kΩ (default 4). */
  rMinKOhm?: number
  /** R_max, kΩ (default 9). */
  rMaxKOhm?: number
  /** Initial R, kΩ (default the midpoint, 6.5). */
  rInitKOhm?: number
  /** α_p: fraction of the distance to R_max covered by one reference pulse (default 0.05). */
  alphaP?: number
  /** α_d: fraction of the distance to R_min covered by one reference pulse (default 0.05). */
  alphaD?: number
  /** V_th, V (default 1). */
  vThV?: number
  /** V_0, V (default 1). */
  v0V?: number
  /** V_ref, V (default 4). */
  vRefV?: number
  /** τ_ref, µs (default 100). */
  widthRefUs?: number
  /** σ: relative cycle-to-cycle variation of a step (default 0). */
  noise?: number
  seed?: number
}

export interface MemristorState {
  /** Resistance, kΩ (for people and other tools). */
  rKOhm: number
  /** Normalised state x, the exact value restored. */
  x: number
  rng: PrngState
}

/** Largest pulse amplitude accepted, V. */
export const MAX_PULSE_V = 20
/** Longest pulse accepted, µs. */
export const MAX_PULSE_US = 1_000_000

/** Weight 0..255 of a resistance (the 2020 mapping). */
export function weightOf (rKOhm: number, rMinKOhm = 4, rMaxKOhm = 9): number {
  return Math.round(Math.min(Math.max(255 * (rKOhm - rMinKOhm) / (rMaxKOhm - rMinKOhm), 0), 255))
}

export class Memristor {
  readonly rMinKOhm: number
  readonly rMaxKOhm: number
  readonly #p: { alphaP: number, alphaD: number, vTh: number, v0: number, vRef: number, widthRef: number, noise: number, sRef: number }
  readonly #rng: Prng
  #x: number
  #pulses = 0

  constructor (init: MemristorInit = {}) {
    this.rMinKOhm = checkNumber('rMinKOhm', init.rMinKOhm ?? 4, { above: 0 })
    this.rMaxKOhm = checkNumber('rMaxKOhm', init.rMaxKOhm ?? 9)
    if (!(this.rMaxKOhm > this.rMinKOhm)) throw new ModelParamError('rMaxKOhm', 'must be above rMinKOhm')
    const r0 = checkNumber('rInitKOhm', init.rInitKOhm ?? (this.rMinKOhm + this.rMaxKOhm) / 2, { min: this.rMinKOhm, max: this.rMaxKOhm })
    const vTh = checkNumber('vThV', init.vThV ?? 1, { min: 0 })
    const v0 = checkNumber('v0V', init.v0V ?? 1, { above: 0 })
    const vRef = checkNumber('vRefV', init.vRefV ?? 4, { above: vTh })
    this.#p = {
      alphaP: checkNumber('alphaP', init.alphaP ?? 0.05, { min: 0, max: 1 }),
      alphaD: checkNumber('alphaD', init.alphaD ?? 0.05, { min: 0, max: 1 }),
      vTh,
      v0,
      vRef,
      widthRef: checkNumber('widthRefUs', init.widthRefUs ?? 100, { above: 0 }),
      noise: checkNumber('noise', init.noise ?? 0, { min: 0, max: 1 }),
      sRef: Math.expm1((vRef - vTh) / v0)
    }
    this.#rng = new Prng(init.seed ?? 0)
    this.#x = (r0 - this.rMinKOhm) / (this.rMaxKOhm - this.rMinKOhm)
  }

  get resistanceKOhm (): number {
    return this.rMinKOhm + this.#x * (this.rMaxKOhm - this.rMinKOhm)
  }

  /** Normalised state x in [0, 1]. */
  get state01 (): number {
    return this.#x
  }

  get weight (): number {
    return weightOf(this.resistanceKOhm, this.rMinKOhm, this.rMaxKOhm)
  }

  get pulses (): number {
    return this.#pulses
  }

  params (): ModelParam[] {
    const p = this.#p
    return [
      ['R_min', this.rMinKOhm, 'kOhm'],
      ['R_max', this.rMaxKOhm, 'kOhm'],
      ['alpha_p', p.alphaP, ''],
      ['alpha_d', p.alphaD, ''],
      ['V_th', p.vTh, 'V'],
      ['V_0', p.v0, 'V'],
      ['V_ref', p.vRef, 'V'],
      ['width_ref', p.widthRef, 'us'],
      ['noise', p.noise, '']
    ]
  }

  /** The factor s(|V|) of the equations. */
  voltageFactor (voltageV: number): number {
    const v = Math.abs(voltageV)
    return v <= this.#p.vTh ? 0 : Math.expm1((v - this.#p.vTh) / this.#p.v0) / this.#p.sRef
  }

  /** Apply one programming pulse; returns the new resistance, kΩ. */
  apply (pulse: Pulse): number {
    const { voltageV, widthUs } = pulse
    if (!Number.isFinite(voltageV) || Math.abs(voltageV) > MAX_PULSE_V) throw new ModelUsageError('invalid-pulse', `pulse amplitude ${voltageV} V is outside ±${MAX_PULSE_V} V`)
    if (!Number.isFinite(widthUs) || widthUs < 0 || widthUs > MAX_PULSE_US) throw new ModelUsageError('invalid-pulse', `pulse width ${widthUs} µs is outside 0..${MAX_PULSE_US}`)
    this.#pulses++
    const p = this.#p
    const variation = p.noise > 0 ? Math.max(0, 1 + p.noise * this.#rng.normal()) : 1
    const base = this.voltageFactor(voltageV) * (widthUs / p.widthRef) * variation
    if (voltageV > 0) {
      this.#x = 1 - (1 - this.#x) * Math.exp(-p.alphaP * base)
    } else if (voltageV < 0) {
      this.#x = this.#x * Math.exp(-p.alphaD * base)
    }
    this.#x = Math.min(Math.max(this.#x, 0), 1)
    return this.resistanceKOhm
  }

  /** The non-volatile state, JSON-serializable. */
  save (): MemristorState {
    return { rKOhm: this.resistanceKOhm, x: this.#x, rng: this.#rng.state() }
  }

  /** Restore a state saved by `save`; x must lie in [0, 1] and agree with rKOhm. */
  restore (state: MemristorState): void {
    const x = checkNumber('x', state.x, { min: 0, max: 1 })
    const r = checkNumber('rKOhm', state.rKOhm, { min: this.rMinKOhm, max: this.rMaxKOhm })
    if (Math.abs(this.rMinKOhm + x * (this.rMaxKOhm - this.rMinKOhm) - r) > 1e-9 * this.rMaxKOhm) {
      throw new ModelParamError('rKOhm', 'does not match x')
    }
    this.#rng.setState(state.rng)
    this.#x = x
  }
}
