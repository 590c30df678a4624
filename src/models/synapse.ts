/**
 * Memristive synapses: `synapses` independent synapses, each a Memristor with its own plasticity rule.
 * Synapse i takes pre-synaptic spikes on channel i of port 'pre' and post-synaptic spikes on channel i of
 * port 'post', and emits on channel i of port 'out' (weighted).
 *
 * - Pre and post events must come in time order across both ports (an upstream merge guarantees it); an
 *   event earlier than the previous one is processed at the previous one's time and counted as `late`.
 * - On each event the rule runs at once; a pulse it returns is applied to the device at the event time,
 *   the device is read, and the weight trace gets a sample (time, weight).
 * - A pre-synaptic spike at t is transmitted with the weight read at t (after any pulse of that event):
 *   output (i, t + delay, value · weight), value 1 for a plain spike. If t + delay is already behind
 *   `timeUs` the output goes out at `timeUs` and is counted as `lateOutputs`.
 * - The resistances are non-volatile: `save()` returns them (JSON-serializable) and `state` in the init
 *   restores them.
 */
import { Memristor } from './memristor.ts'
import type { MemristorInit, MemristorState } from './memristor.ts'
import { RateRule } from './rate-rule.ts'
import type { RateRuleInit } from './rate-rule.ts'
import { StdpRule } from './stdp-rule.ts'
import type { StdpRuleInit } from './stdp-rule.ts'
import { InputQueue } from './inputs.ts'
import { Prng } from '../base/prng.ts'
import { checkChannels, checkNumber, isChannel } from './params.ts'
import { ModelParamError, ModelUsageError } from './errors.ts'
import type { EventSink, ModelDescription, ModelParam, ModelStats, PlasticityRule, PortSpec, Pulse, RuleFactory, SchedulableModel } from './index.ts'

export interface WeightSample {
  synapse: number
  timeUs: number
  weight: number
  rKOhm: number
}

export interface SynapseState {
  devices: MemristorState[]
}

export interface SynapseInit {
  synapses?: number
  /** Synaptic (axonal) delay, µs (default 10 000). */
  delayUs?: number
  /** 'rate' (default), 'stdp', 'none' (static weight) or a factory of custom rules. */
  rule?: 'rate' | 'stdp' | 'none' | RuleFactory
  rateRule?: RateRuleInit
  stdpRule?: StdpRuleInit
  /** Device parameters, shared by all synapses; each device's noise seed is derived from `seed`. */
  device?: Omit<MemristorInit, 'seed'>
  seed?: number
  /** Saved device states to restore (one per synapse). */
  state?: SynapseState
  /** Called after every device read (each pulse, and once per synapse at start). */
  onWeight?: (sample: WeightSample) => void
  /** Most samples kept in `trace` (default 100 000; 0 keeps none). Later samples are counted, not kept. */
  traceLimit?: number
  startUs?: number
  /** Most outputs waiting for their delay (default 65 536); more pre spikes are refused and counted. */
  maxPendingOutputs?: number
}

class NoRule implements PlasticityRule {
  readonly name = 'none'
  params (): ModelParam[] { return [] }
  onPre (): undefined { return undefined }
  onPost (): undefined { return undefined }
}

export class Synapse implements SchedulableModel {
  readonly output: PortSpec
  readonly inputs: readonly PortSpec[]
  readonly synapses: number
  readonly delayUs: number
  readonly trace: WeightSample[] = []
  readonly #devices: Memristor[]
  readonly #rules: PlasticityRule[]
  readonly #out: InputQueue
  readonly #onWeight: ((s: WeightSample) => void) | undefined
  readonly #traceLimit: number
  readonly #seed: number
  #timeUs: number
  #lastInUs = -Infinity
  #late = 0
  #invalid = 0
  #pre = 0
  #post = 0
  #pulses = 0
  #emitted = 0
  #traceDropped = 0

  constructor (init: SynapseInit = {}) {
    const n = this.synapses = checkChannels('synapses', init.synapses ?? 1)
    this.delayUs = checkNumber('delayUs', init.delayUs ?? 10_000, { min: 0 })
    this.#timeUs = checkNumber('startUs', init.startUs ?? 0)
    this.#seed = init.seed ?? 0
    const root = new Prng(this.#seed)
    this.#devices = Array.from({ length: n }, (_, i) => new Memristor({ ...init.device, seed: root.fork(i).nextUint32() }))
    if (init.state !== undefined) {
      if (!Array.isArray(init.state.devices) || init.state.devices.length !== n) throw new ModelParamError('state', `must hold ${n} device states`)
      init.state.devices.forEach((s, i) => this.#devices[i].restore(s))
    }
    const rule = init.rule ?? 'rate'
    let factory: RuleFactory
    if (rule === 'rate') factory = () => new RateRule(init.rateRule)
    else if (rule === 'stdp') factory = () => new StdpRule(init.stdpRule)
    else if (rule === 'none') factory = () => new NoRule()
    else if (typeof rule === 'function') factory = rule
    else throw new ModelParamError('rule', 'must be rate, stdp, none or a factory')
    this.#rules = Array.from({ length: n }, () => factory())
    this.#out = new InputQueue(n, checkNumber('maxPendingOutputs', init.maxPendingOutputs ?? 65536, { min: 1, integer: true }))
    this.#onWeight = init.onWeight
    this.#traceLimit = checkNumber('traceLimit', init.traceLimit ?? 100_000, { min: 0, integer: true })
    this.output = { name: 'out', kind: 'weighted', channels: n }
    this.inputs = [{ name: 'pre', kind: 'spike', channels: n }, { name: 'post', kind: 'spike', channels: n }]
    for (let i = 0; i < n; i++) this.#sample(i, this.#timeUs)
  }

  get timeUs (): number {
    return this.#timeUs
  }

  describe (): ModelDescription {
    const d = this.#devices[0]
    const rule = this.#rules[0]
    return {
      name: `memristive-synapse/${rule.name}`,
      params: [
        ['synapses', this.synapses, ''],
        ['delay', this.delayUs / 1000, 'ms'],
        ...d.params(),
        ...rule.params(),
        ['seed', this.#seed, '']
      ]
    }
  }

  stats (): ModelStats {
    return {
      pre: this.#pre,
      post: this.#post,
      late: this.#late,
      invalid: this.#invalid,
      pulses: this.#pulses,
      emitted: this.#emitted,
      lateOutputs: this.#out.counts.late,
      overflow: this.#out.counts.overflow,
      traceDropped: this.#traceDropped
    }
  }

  weight (synapse: number): number {
    return this.#device(synapse).weight
  }

  resistanceKOhm (synapse: number): number {
    return this.#device(synapse).resistanceKOhm
  }

  /** The non-volatile state of every device. */
  save (): SynapseState {
    return { devices: this.#devices.map(d => d.save()) }
  }

  /** A pre-synaptic spike (value: its weight if the pre port is weighted; 1 for a spike). */
  pre (channel: number, timeUs: number, value = 1): boolean {
    const t = this.#accept(channel, timeUs, value)
    if (t === undefined) return false
    this.#pre++
    this.#apply(channel, t, this.#rules[channel].onPre(t))
    return this.#out.push(channel, t + this.delayUs, value * this.#devices[channel].weight, this.#timeUs)
  }

  /** A post-synaptic spike. */
  post (channel: number, timeUs: number): boolean {
    const t = this.#accept(channel, timeUs, 1)
    if (t === undefined) return false
    this.#post++
    this.#apply(channel, t, this.#rules[channel].onPost(t))
    return true
  }

  nextEventUs (): number {
    return this.#out.peekTime()
  }

  advanceTo (tUs: number, emit: EventSink): void {
    if (!Number.isFinite(tUs)) throw new ModelUsageError('invalid-time', `advanceTo needs a finite time, got ${tUs}`)
    while (this.#out.peekTime() <= tUs) {
      this.#emitted++
      emit(this.#out.peekChannel(), this.#out.peekTime(), this.#out.peekValue())
      this.#out.shift()
    }
    if (tUs > this.#timeUs) this.#timeUs = tUs
  }

  #device (synapse: number): Memristor {
    if (!isChannel(synapse, this.synapses)) throw new ModelUsageError('channel-out-of-range', `no synapse ${synapse}`)
    return this.#devices[synapse]
  }

  /** Validate an input; returns its (possibly clamped) time, or undefined when refused. */
  #accept (channel: number, timeUs: number, value: number): number | undefined {
    if (!isChannel(channel, this.synapses) || !Number.isFinite(timeUs) || !Number.isFinite(value)) {
      this.#invalid++
      return undefined
    }
    if (timeUs < this.#lastInUs) {
      this.#late++
      timeUs = this.#lastInUs
    }
    this.#lastInUs = timeUs
    return timeUs
  }

  #apply (i: number, t: number, pulse: Pulse | undefined): void {
    if (pulse === undefined) return
    this.#devices[i].apply(pulse)
    this.#pulses++
    this.#sample(i, t)
  }

  #sample (i: number, t: number): void {
    const d = this.#devices[i]
    const s: WeightSample = { synapse: i, timeUs: t, weight: d.weight, rKOhm: d.resistanceKOhm }
    if (this.trace.length < this.#traceLimit) this.trace.push(s)
    else this.#traceDropped++
    this.#onWeight?.(s)
  }
}
