/**
 * Leaky integrate-and-fire neurons, solved exactly between events.
 *
 *   τ_m dV/dt = −(V − E_L) + R·I_bias,   R = τ_m / C
 *
 * Between inputs the input current is constant, so V(t) = V∞ + (V0 − V∞)·e^(−(t−t0)/τ_m) with
 * V∞ = E_L + R·I_bias, and the threshold crossing time is exact: t* = t0 + τ_m·ln((V∞ − V0)/(V∞ − θ))
 * when V∞ > θ (never otherwise). At a crossing the neuron emits a spike, V is held at V_reset for t_ref,
 * then evolves again from V_reset.
 *
 * Input (port 'in', weighted): an event of value w is an instantaneous charge injection (a delta synaptic
 * current) that moves V by w · w_unit mV at the event time; negative values inhibit. If the jump reaches
 * θ the spike is at the input time. Inputs that arrive during the refractory period are ignored and counted.
 *
 * Units inside: mV, ms (for τ), µs (for time), nA, pF; R·I in mV = 1000 · I[nA] · τ[ms] / C[pF].
 */
import { IndexedMinHeap } from './heap.ts'
import { InputQueue } from './inputs.ts'
import { checkChannels, checkNumber, isChannel, perChannel } from './params.ts'
import { ModelParamError, ModelUsageError } from './errors.ts'
import type { EventSink, ModelDescription, ModelStats, NeuronModel, PortSpec, SchedulableModel } from './index.ts'

export interface LifInit {
  /** Number of independent neurons (default 1). */
  channels?: number
  /** Time at which the neurons start at rest, µs (default 0). */
  startUs?: number
  /** Membrane capacitance C, pF (default 250). */
  cPf?: number
  /** Membrane time constant τ_m, ms (default 10; R = τ_m / C = 40 MΩ with the default C). */
  tauMs?: number
  /** Resting (leak reversal) potential E_L, mV (default −70). */
  eLMv?: number
  /** Threshold θ, mV (default −50). */
  vThMv?: number
  /** Reset potential, mV (default −70; must be below θ). */
  vResetMv?: number
  /** Absolute refractory period, ms (default 2). */
  tRefMs?: number
  /** Constant bias current per channel, nA (default 0; rheobase is (θ − E_L)·C/τ_m = 0.5 nA with the defaults). */
  biasNa?: number | readonly number[]
  /** Voltage jump per unit of input value, mV (default 0.1: a weight of 255 gives 25.5 mV). */
  wUnitMv?: number
  /** Largest number of queued future inputs (default 65536); more are refused and counted. */
  maxPendingInputs?: number
}

export class Lif implements NeuronModel, SchedulableModel {
  readonly output: PortSpec
  readonly inputs: readonly PortSpec[]
  readonly channels: number
  readonly #p: Required<Omit<LifInit, 'biasNa' | 'channels' | 'startUs' | 'maxPendingInputs'>>
  readonly #v: Float64Array
  readonly #tv: Float64Array
  readonly #refUntil: Float64Array
  readonly #bias: Float64Array
  readonly #heap: IndexedMinHeap
  readonly #queue: InputQueue
  #timeUs: number
  #spikes = 0
  #refractoryIgnored = 0

  constructor (init: LifInit = {}) {
    const channels = this.channels = checkChannels('channels', init.channels ?? 1)
    const startUs = checkNumber('startUs', init.startUs ?? 0)
    this.#p = {
      cPf: checkNumber('cPf', init.cPf ?? 250, { above: 0 }),
      tauMs: checkNumber('tauMs', init.tauMs ?? 10, { above: 0 }),
      eLMv: checkNumber('eLMv', init.eLMv ?? -70),
      vThMv: checkNumber('vThMv', init.vThMv ?? -50),
      vResetMv: checkNumber('vResetMv', init.vResetMv ?? -70),
      tRefMs: checkNumber('tRefMs', init.tRefMs ?? 2, { min: 0 }),
      wUnitMv: checkNumber('wUnitMv', init.wUnitMv ?? 0.1)
    }
    if (!(this.#p.vResetMv < this.#p.vThMv)) throw new ModelParamError('vResetMv', 'must be below vThMv')
    this.#bias = perChannel('biasNa', init.biasNa ?? 0, channels)
    this.#v = new Float64Array(channels).fill(this.#p.eLMv)
    this.#tv = new Float64Array(channels).fill(startUs)
    this.#refUntil = new Float64Array(channels).fill(-Infinity)
    this.#heap = new IndexedMinHeap(channels)
    this.#queue = new InputQueue(channels, checkNumber('maxPendingInputs', init.maxPendingInputs ?? 65536, { min: 1, integer: true }))
    this.#timeUs = startUs
    this.output = { name: 'spikes', kind: 'spike', channels }
    this.inputs = [{ name: 'in', kind: 'weighted', channels }]
    for (let c = 0; c < channels; c++) this.#schedule(c)
  }

  get timeUs (): number {
    return this.#timeUs
  }

  describe (): ModelDescription {
    const p = this.#p
    let sum = 0
    for (const b of this.#bias) sum += b
    return {
      name: 'lif',
      params: [
        ['channels', this.channels, ''],
        ['C', p.cPf, 'pF'],
        ['tau_m', p.tauMs, 'ms'],
        ['E_L', p.eLMv, 'mV'],
        ['V_th', p.vThMv, 'mV'],
        ['V_reset', p.vResetMv, 'mV'],
        ['t_ref', p.tRefMs, 'ms'],
        ['I_bias', sum / this.channels, 'nA'],
        ['w_unit', p.wUnitMv, 'mV']
      ]
    }
  }

  stats (): ModelStats {
    return { ...this.#queue.counts, spikes: this.#spikes, refractoryIgnored: this.#refractoryIgnored }
  }

  input (channel: number, timeUs: number, value: number): boolean {
    return this.#queue.push(channel, timeUs, value, this.#timeUs)
  }

  setBias (nA: number, channel?: number): void {
    checkNumber('nA', nA)
    if (channel !== undefined && !isChannel(channel, this.channels)) throw new ModelUsageError('channel-out-of-range', `no channel ${channel}`)
    const from = channel ?? 0
    const to = channel ?? this.channels - 1
    for (let c = from; c <= to; c++) {
      this.#evolve(c, this.#timeUs)
      this.#bias[c] = nA
      this.#schedule(c)
    }
  }

  potential (channel: number): number {
    if (!isChannel(channel, this.channels)) throw new ModelUsageError('channel-out-of-range', `no channel ${channel}`)
    return this.#valueAt(channel, this.#timeUs)
  }

  nextEventUs (): number {
    return Math.min(this.#heap.peekPriority(), this.#queue.peekTime())
  }

  advanceTo (tUs: number, emit: EventSink): void {
    if (!Number.isFinite(tUs)) throw new ModelUsageError('invalid-time', `advanceTo needs a finite time, got ${tUs}`)
    const p = this.#p
    for (;;) {
      const ts = this.#heap.peekPriority()
      const ti = this.#queue.peekTime()
      if (ts > tUs && ti > tUs) break
      if (ts <= ti) {
        const c = this.#heap.peekKey()
        this.#fire(c, ts, emit)
        continue
      }
      const c = this.#queue.peekChannel()
      const w = this.#queue.peekValue()
      this.#queue.shift()
      if (ti < this.#refUntil[c]) {
        this.#refractoryIgnored++
        continue
      }
      this.#evolve(c, ti)
      this.#v[c] += w * p.wUnitMv
      if (this.#v[c] >= p.vThMv) this.#fire(c, ti, emit)
      else this.#schedule(c)
    }
    if (tUs > this.#timeUs) this.#timeUs = tUs
  }

  #fire (c: number, t: number, emit: EventSink): void {
    this.#spikes++
    emit(c, t)
    this.#v[c] = this.#p.vResetMv
    this.#tv[c] = t
    this.#refUntil[c] = t + this.#p.tRefMs * 1000
    this.#schedule(c)
  }

  /** V∞ of channel c, mV. */
  #vInf (c: number): number {
    const p = this.#p
    return p.eLMv + 1000 * this.#bias[c] * p.tauMs / p.cPf
  }

  /** V of channel c at time t ≥ its state time, without changing the state. */
  #valueAt (c: number, t: number): number {
    const p = this.#p
    if (t <= this.#refUntil[c]) return p.vResetMv
    let t0 = this.#tv[c]
    let v0 = this.#v[c]
    if (t0 < this.#refUntil[c]) {
      t0 = this.#refUntil[c]
      v0 = p.vResetMv
    }
    if (t <= t0) return v0
    const vInf = this.#vInf(c)
    return vInf + (v0 - vInf) * Math.exp(-(t - t0) / (p.tauMs * 1000))
  }

  #evolve (c: number, t: number): void {
    if (t <= this.#tv[c]) return
    this.#v[c] = this.#valueAt(c, t)
    this.#tv[c] = t
  }

  /** Recompute the next threshold crossing of channel c assuming no further input. */
  #schedule (c: number): void {
    const p = this.#p
    let t0 = this.#tv[c]
    let v0 = this.#v[c]
    if (t0 < this.#refUntil[c]) {
      t0 = this.#refUntil[c]
      v0 = p.vResetMv
    }
    const vInf = this.#vInf(c)
    let next = Infinity
    if (vInf > p.vThMv) {
      next = v0 >= p.vThMv ? t0 : t0 + p.tauMs * 1000 * Math.log((vInf - v0) / (vInf - p.vThMv))
    }
    this.#heap.set(c, next)
  }
}
