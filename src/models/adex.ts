/**
 * Adaptive exponential integrate-and-fire neurons (Brette & Gerstner 2005, J Neurophysiol 94:3637):
 *
 *   C dV/dt = −g_L (V − E_L) + g_L Δ_T exp((V − V_T)/Δ_T) − w + I_bias + I_syn
 *   τ_w dw/dt = a (V − E_L) − w
 *   when V ≥ V_peak: spike; V ← V_reset, w ← w + b, V held at V_reset for t_ref
 *
 * Defaults are the paper's regular-spiking parameters (C 281 pF, g_L 30 nS, E_L −70.6 mV, V_T −50.4 mV,
 * Δ_T 2 mV, τ_w 144 ms, a 4 nS, b 0.0805 nA, V_reset = E_L, spike cut at 20 mV, no refractory period).
 *
 * Integration: a fixed step (default 10 µs) on a grid anchored at `startUs`, Heun's method (second order)
 * below the spike upstroke and forward Euler on the step where V reaches V_peak. A spike time is placed by
 * linear interpolation of V between the step's end points at V_peak; the reset is applied at that time and
 * the rest of the step is integrated from the reset state. A step is also split at an input time and at the
 * `advanceTo` target, so the state is always at `timeUs`; split points change the numerical path slightly,
 * so bit-identical runs need identical call sequences (advancing in whole steps gives identical results).
 *
 * Input (port 'in', weighted): an event of value w adds w · w_unit nA to a synaptic current I_syn that
 * decays exponentially with τ_syn (a current-based exponential synapse); negative values inhibit.
 *
 * Units inside: mV, pA, pF, nS, ms for rates of change, µs for time (pA/pF = mV/ms, nS·mV = pA).
 */
import { InputQueue } from './inputs.ts'
import { checkChannels, checkNumber, isChannel, perChannel } from './params.ts'
import { ModelParamError, ModelUsageError } from './errors.ts'
import type { EventSink, ModelDescription, ModelStats, NeuronModel, PortSpec } from './index.ts'

export interface AdexInit {
  channels?: number
  startUs?: number
  /** C, pF (281). */
  cPf?: number
  /** g_L, nS (30). */
  gLNs?: number
  /** E_L, mV (−70.6). */
  eLMv?: number
  /** V_T, mV (−50.4). */
  vTMv?: number
  /** Δ_T, mV (2). */
  deltaTMv?: number
  /** τ_w, ms (144). */
  tauWMs?: number
  /** a, nS (4). */
  aNs?: number
  /** b, nA (0.0805). */
  bNa?: number
  /** V_reset, mV (−70.6). */
  vResetMv?: number
  /** Spike cut V_peak, mV (20). */
  vPeakMv?: number
  /** Refractory period, ms (0). */
  tRefMs?: number
  /** Bias current per channel, nA (0). */
  biasNa?: number | readonly number[]
  /** Synaptic current decay τ_syn, ms (5). */
  tauSynMs?: number
  /** Synaptic current jump per unit of input value, nA (0.01: a weight of 255 gives 2.55 nA). */
  wUnitNa?: number
  /** Integration step, µs (10). */
  stepUs?: number
  maxPendingInputs?: number
}

type Params = Required<Omit<AdexInit, 'channels' | 'startUs' | 'biasNa' | 'maxPendingInputs'>>

export class Adex implements NeuronModel {
  readonly output: PortSpec
  readonly inputs: readonly PortSpec[]
  readonly channels: number
  readonly #p: Params
  readonly #startUs: number
  readonly #v: Float64Array
  readonly #w: Float64Array
  readonly #iSyn: Float64Array
  readonly #bias: Float64Array
  readonly #refUntil: Float64Array
  readonly #queue: InputQueue
  readonly #firedCh: number[] = []
  readonly #firedT: number[] = []
  #timeUs: number
  #gridK = 1
  #spikes = 0

  constructor (init: AdexInit = {}) {
    const channels = this.channels = checkChannels('channels', init.channels ?? 1)
    this.#startUs = checkNumber('startUs', init.startUs ?? 0)
    const pos = { above: 0 }
    this.#p = {
      cPf: checkNumber('cPf', init.cPf ?? 281, pos),
      gLNs: checkNumber('gLNs', init.gLNs ?? 30, pos),
      eLMv: checkNumber('eLMv', init.eLMv ?? -70.6),
      vTMv: checkNumber('vTMv', init.vTMv ?? -50.4),
      deltaTMv: checkNumber('deltaTMv', init.deltaTMv ?? 2, pos),
      tauWMs: checkNumber('tauWMs', init.tauWMs ?? 144, pos),
      aNs: checkNumber('aNs', init.aNs ?? 4),
      bNa: checkNumber('bNa', init.bNa ?? 0.0805),
      vResetMv: checkNumber('vResetMv', init.vResetMv ?? -70.6),
      vPeakMv: checkNumber('vPeakMv', init.vPeakMv ?? 20),
      tRefMs: checkNumber('tRefMs', init.tRefMs ?? 0, { min: 0 }),
      tauSynMs: checkNumber('tauSynMs', init.tauSynMs ?? 5, pos),
      wUnitNa: checkNumber('wUnitNa', init.wUnitNa ?? 0.01),
      stepUs: checkNumber('stepUs', init.stepUs ?? 10, { above: 0, max: 1000 })
    }
    if (!(this.#p.vResetMv < this.#p.vPeakMv)) throw new ModelParamError('vResetMv', 'must be below vPeakMv')
    if (!(this.#p.vTMv < this.#p.vPeakMv)) throw new ModelParamError('vTMv', 'must be below vPeakMv')
    this.#bias = perChannel('biasNa', init.biasNa ?? 0, channels)
    this.#v = new Float64Array(channels).fill(this.#p.eLMv)
    this.#w = new Float64Array(channels)
    this.#iSyn = new Float64Array(channels)
    this.#refUntil = new Float64Array(channels).fill(-Infinity)
    this.#queue = new InputQueue(channels, checkNumber('maxPendingInputs', init.maxPendingInputs ?? 65536, { min: 1, integer: true }))
    this.#timeUs = this.#startUs
    this.output = { name: 'spikes', kind: 'spike', channels }
    this.inputs = [{ name: 'in', kind: 'weighted', channels }]
  }

  get timeUs (): number {
    return this.#timeUs
  }

  describe (): ModelDescription {
    const p = this.#p
    let sum = 0
    for (const b of this.#bias) sum += b
    return {
      name: 'adex',
      params: [
        ['channels', this.channels, ''],
        ['C', p.cPf, 'pF'],
        ['g_L', p.gLNs, 'nS'],
        ['E_L', p.eLMv, 'mV'],
        ['V_T', p.vTMv, 'mV'],
        ['Delta_T', p.deltaTMv, 'mV'],
        ['tau_w', p.tauWMs, 'ms'],
        ['a', p.aNs, 'nS'],
        ['b', p.bNa, 'nA'],
        ['V_reset', p.vResetMv, 'mV'],
        ['V_peak', p.vPeakMv, 'mV'],
        ['t_ref', p.tRefMs, 'ms'],
        ['I_bias', sum / this.channels, 'nA'],
        ['tau_syn', p.tauSynMs, 'ms'],
        ['w_unit', p.wUnitNa, 'nA'],
        ['dt', p.stepUs, 'us']
      ]
    }
  }

  stats (): ModelStats {
    return { ...this.#queue.counts, spikes: this.#spikes }
  }

  input (channel: number, timeUs: number, value: number): boolean {
    return this.#queue.push(channel, timeUs, value, this.#timeUs)
  }

  setBias (nA: number, channel?: number): void {
    checkNumber('nA', nA)
    if (channel === undefined) this.#bias.fill(nA)
    else if (isChannel(channel, this.channels)) this.#bias[channel] = nA
    else throw new ModelUsageError('channel-out-of-range', `no channel ${channel}`)
  }

  potential (channel: number): number {
    if (!isChannel(channel, this.channels)) throw new ModelUsageError('channel-out-of-range', `no channel ${channel}`)
    return this.#v[channel]
  }

  /** Adaptation current w of a channel, nA. */
  adaptation (channel: number): number {
    return this.#w[channel] / 1000
  }

  advanceTo (tUs: number, emit: EventSink): void {
    if (!Number.isFinite(tUs)) throw new ModelUsageError('invalid-time', `advanceTo needs a finite time, got ${tUs}`)
    const stepUs = this.#p.stepUs
    for (;;) {
      const grid = this.#startUs + this.#gridK * stepUs
      const target = Math.min(grid, this.#queue.peekTime(), tUs)
      if (target > this.#timeUs) {
        this.#step(this.#timeUs, target - this.#timeUs, emit)
        this.#timeUs = target
      }
      if (target === grid) this.#gridK++
      while (this.#queue.peekTime() <= this.#timeUs) {
        this.#iSyn[this.#queue.peekChannel()] += this.#queue.peekValue() * this.#p.wUnitNa * 1000
        this.#queue.shift()
      }
      if (this.#timeUs >= tUs) break
    }
  }

  /** dV/dt, mV/ms, for V (mV), w (pA) and total current i (pA). */
  #dv (v: number, w: number, i: number): number {
    const p = this.#p
    const expo = Math.exp(Math.min((v - p.vTMv) / p.deltaTMv, 700))
    return (-p.gLNs * (v - p.eLMv) + p.gLNs * p.deltaTMv * expo - w + i) / p.cPf
  }

  /** dw/dt, pA/ms. */
  #dw (v: number, w: number): number {
    const p = this.#p
    return (p.aNs * (v - p.eLMv) - w) / p.tauWMs
  }

  /**
   * Advance every channel from t0 by hUs; spikes are emitted in time order. Within a channel the interval
   * is cut at the end of a refractory period and at a spike: after a spike the rest of the interval is
   * integrated from the reset state, so resets do not lag behind the spike.
   */
  #step (t0: number, hUs: number, emit: EventSink): void {
    const p = this.#p
    const tEnd = t0 + hUs
    const v = this.#v
    const w = this.#w
    const bPa = p.bNa * 1000
    const tauSynUs = p.tauSynMs * 1000
    for (let c = 0; c < this.channels; c++) {
      const i0 = this.#iSyn[c]
      const bias = this.#bias[c] * 1000
      let t = t0
      for (let pass = 0; pass < 4 && t < tEnd; pass++) {
        if (t < this.#refUntil[c]) {
          const until = Math.min(this.#refUntil[c], tEnd)
          v[c] = p.vResetMv
          w[c] += ((until - t) / 1000) * this.#dw(p.vResetMv, w[c])
          t = until
          continue
        }
        const hh = tEnd - t
        const h = hh / 1000
        const v0 = v[c]
        const w0 = w[c]
        const ia = bias + i0 * Math.exp(-(t - t0) / tauSynUs)
        const ib = bias + i0 * Math.exp(-hUs / tauSynUs)
        const k1v = this.#dv(v0, w0, ia)
        const k1w = this.#dw(v0, w0)
        let v1 = v0 + h * k1v
        let w1 = w0 + h * k1w
        if (v1 < p.vPeakMv) {
          // Heun's method (second order) away from the spike upstroke; Euler where the predictor crosses.
          v1 = v0 + (h / 2) * (k1v + this.#dv(v1, w1, ib))
          w1 = w0 + (h / 2) * (k1w + this.#dw(v0 + h * k1v, w1))
        }
        if (v1 >= p.vPeakMv) {
          const frac = v1 > v0 ? Math.min(Math.max((p.vPeakMv - v0) / (v1 - v0), 0), 1) : 0
          const ts = t + frac * hh
          this.#firedCh.push(c)
          this.#firedT.push(ts)
          v[c] = p.vResetMv
          w[c] = w0 + frac * (w1 - w0) + bPa
          this.#refUntil[c] = ts + p.tRefMs * 1000
          t = ts
          continue
        }
        v[c] = v1
        w[c] = w1
        t = tEnd
      }
      this.#iSyn[c] = i0 * Math.exp(-hUs / tauSynUs)
    }
    const n = this.#firedCh.length
    if (n === 0) return
    if (n > 1) {
      const order = Array.from({ length: n }, (_, i) => i)
      order.sort((a, b) => this.#firedT[a] - this.#firedT[b] || this.#firedCh[a] - this.#firedCh[b])
      for (const i of order) emit(this.#firedCh[i], this.#firedT[i])
    } else {
      emit(this.#firedCh[0], this.#firedT[0])
    }
    this.#spikes += n
    this.#firedCh.length = 0
    this.#firedT.length = 0
  }
}
