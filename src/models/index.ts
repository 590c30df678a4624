/**
 * Computational models of spikewire nodes: silicon neurons, spike sources, a biological culture emulator
 * and a memristive synapse. Pure library code: no networking, no clock reads, deterministic for a seed.
 *
 * ## Time
 * Times are microseconds as JS numbers (a node passes its Clock readings, µs since the Unix epoch; a
 * simulation may start at 0). Output times may carry a fractional part; the wire rounds them.
 *
 * ## Driving a model
 * - `advanceTo(tUs, emit)` computes the model up to `tUs` and calls `emit(channel, timeUs, value?)` once per
 *   output event with `timeUs ≤ tUs`, in non-decreasing time order. Afterwards `timeUs === max(previous,
 *   tUs)`. A real-time node calls it with its clock reading; a simulation calls it as fast as it likes.
 *   A call with `tUs` at or before `timeUs` emits nothing. `tUs` must be finite.
 * - `nextEventUs()` (where present) is the time of the next output if no further input arrives, or
 *   `Infinity`; when a queued input acts earlier, its time is returned instead (it may cause an output).
 *   A simulation can advance straight there. Models that cannot know it (AdEx, a culture behind a real chip
 *   driver) leave it out.
 * - Input methods (`input`, `pre`, `post`) take events in time order. An input is applied at its own time
 *   if the model has not yet produced outputs past the point where the input acts; otherwise it is applied
 *   at the earliest time still open and counted as `late`. Inputs never throw: a bad channel, a non-finite
 *   time or value is refused (the method returns false) and counted. Counters are read with `stats()`.
 *   Neurons queue inputs and integrate them when `advanceTo` reaches their time; the synapse runs its
 *   plasticity rule at once; the culture accepts or refuses a stimulation pulse at once.
 *   A neuron fed over a network therefore has to be advanced with a lag at least as large as the input
 *   latency, or late inputs are moved forward; the synapse only needs its delay to cover the latency
 *   (its outputs are due at pre time + delay).
 * - Spike outputs call `emit(channel, timeUs)`; weighted outputs call `emit(channel, timeUs, value)`.
 * - Parameters are checked once, at construction (ModelParamError, code 'invalid-param'). Driving errors
 *   (a non-finite `advanceTo` time, an unknown channel in `setBias`) throw ModelUsageError.
 *
 * ## Files
 * prng.ts (seeded xoshiro128**), lif.ts, adex.ts, poisson.ts, pacemaker.ts, replay.ts + replay-parse.ts
 * (REPLAY-FORMAT.md), culture-device.ts (the chip-driver interface), culture-emulator.ts, stim-guard.ts
 * (safety limits), culture.ts (the node model), memristor.ts, rate-rule.ts, stdp-rule.ts, synapse.ts;
 * helpers: errors.ts, params.ts, heap.ts, inputs.ts.
 *
 * ## Description
 * `describe()` returns `{ name, params: [[name, value, unit], ...] }` for the node description on the
 * wire. Units are SI-ish strings: "ms", "us", "mV", "V", "nA", "uA", "pF", "nS", "Hz", "kOhm", "nC";
 * "" marks a dimensionless number (spec §8.2).
 */

/** Receives output events. `value` is present for weighted outputs only. */
export type EventSink = (channel: number, timeUs: number, value?: number) => void

/** One model parameter: [name, value, unit]. */
export type ModelParam = [name: string, value: number, unit: string]

export interface ModelDescription {
  name: string
  params: ModelParam[]
}

/** What a model's port carries, so a node can declare it on the wire. */
export interface PortSpec {
  name: string
  kind: 'spike' | 'weighted'
  channels: number
}

/** Named counters (inputs accepted, late, refused, outputs emitted, ...). */
export type ModelStats = Record<string, number>

/** Every model. */
export interface Model {
  /** The time up to which outputs have been produced, µs. */
  readonly timeUs: number
  /** The port the outputs of `advanceTo` belong to. */
  readonly output: PortSpec
  /** The input ports, in the order of the input methods (empty for sources). */
  readonly inputs: readonly PortSpec[]
  describe (): ModelDescription
  advanceTo (tUs: number, emit: EventSink): void
  stats (): ModelStats
}

/** A model whose next output time is known in advance (sources, LIF, culture emulator, synapse). */
export interface SchedulableModel extends Model {
  nextEventUs (): number
}

/**
 * A silicon neuron population of `channels` independent neurons. Input port 'in' (weighted); output
 * port 'spikes'. See lif.ts and adex.ts for the unit of an input's value.
 */
export interface NeuronModel extends Model {
  input (channel: number, timeUs: number, value: number): boolean
  /** Set the constant bias current (nA) of one channel, or of all when `channel` is omitted, from `timeUs` on. */
  setBias (nA: number, channel?: number): void
  /** Membrane potential (mV) of a channel at `timeUs`. */
  potential (channel: number): number
}

/** A spike source (Poisson, pacemaker, replay): no inputs, output port 'spikes'. */
export type SourceModel = SchedulableModel

/** A programming pulse for a memristive device: amplitude (V, signed) and width (µs). */
export interface Pulse {
  voltageV: number
  widthUs: number
}

/**
 * A plasticity rule for one synapse. It sees that synapse's pre- and post-synaptic spikes in time order
 * and answers with the programming pulse to apply at that time, if any (positive voltage potentiates:
 * raises R and the weight; negative depresses).
 */
export interface PlasticityRule {
  readonly name: string
  params (): ModelParam[]
  onPre (timeUs: number): Pulse | undefined
  onPost (timeUs: number): Pulse | undefined
}

/** Makes one rule instance per synapse. */
export type RuleFactory = () => PlasticityRule

export { Prng } from '../base/prng.ts'
export type { PrngState } from '../base/prng.ts'
export { ModelError, ModelParamError, ModelUsageError, ReplayFormatError } from './errors.ts'
export type { ModelErrorCode, ModelUsageErrorCode, ReplayErrorCode } from './errors.ts'

import { Lif } from './lif.ts'
import type { LifInit } from './lif.ts'
import { Adex } from './adex.ts'
import type { AdexInit } from './adex.ts'
import { Poisson } from './poisson.ts'
import type { PoissonInit } from './poisson.ts'
import { Pacemaker } from './pacemaker.ts'
import type { PacemakerInit } from './pacemaker.ts'
import { Replay } from './replay.ts'
import type { ReplayInit, ReplayStart } from './replay.ts'
import { parseSpikeTrain, readSpikeTrainFile } from './replay-parse.ts'
import type { ReplayParseOptions, SpikeTrain } from './replay-parse.ts'
import { CultureEmulator } from './culture-emulator.ts'
import type { CultureEmulatorInit } from './culture-emulator.ts'
import { CultureModel } from './culture.ts'
import type { CultureDevice } from './culture-device.ts'
import type { StimulationLimits } from './stim-guard.ts'
import { Memristor } from './memristor.ts'
import type { MemristorInit } from './memristor.ts'
import { RateRule } from './rate-rule.ts'
import type { RateRuleInit } from './rate-rule.ts'
import { StdpRule } from './stdp-rule.ts'
import type { StdpRuleInit } from './stdp-rule.ts'
import { Synapse } from './synapse.ts'
import type { SynapseInit } from './synapse.ts'

export { Lif, Adex, Poisson, Pacemaker, Replay, CultureEmulator, CultureModel, Memristor, RateRule, StdpRule, Synapse }
export { prng } from '../base/prng.ts'
export { parseSpikeTrain, readSpikeTrainFile }
export { StimulationGuard } from './stim-guard.ts'
export { evokedProbability } from './culture-emulator.ts'
export { cultureChannel, cultureElectrode } from './culture.ts'
export { weightOf } from './memristor.ts'
export { pulseChargeNc } from './culture-device.ts'
export type { LifInit, AdexInit, PoissonInit, PacemakerInit, ReplayInit, ReplayStart, ReplayParseOptions, SpikeTrain }
export type { CultureEmulatorInit, CultureDevice, StimulationLimits, MemristorInit, RateRuleInit, StdpRuleInit, SynapseInit }
export type { SpikeOrigin, RecordSink, StimulusOutcome, StimRefusal, StimulusPulseShape } from './culture-device.ts'
export type { StimulationCounters } from './stim-guard.ts'
export type { MemristorState } from './memristor.ts'
export type { SynapseState, WeightSample } from './synapse.ts'

/** Leaky integrate-and-fire neurons (exact event-driven solution). */
export function lif (init: LifInit = {}): Lif {
  return new Lif(init)
}

/** Adaptive exponential integrate-and-fire neurons (fixed-step Euler). */
export function adex (init: AdexInit = {}): Adex {
  return new Adex(init)
}

export function poisson (init: PoissonInit = {}): Poisson {
  return new Poisson(init)
}

export function pacemaker (init: PacemakerInit = {}): Pacemaker {
  return new Pacemaker(init)
}

/** A replay source over a parsed train (see REPLAY-FORMAT.md). */
export function replay (train: SpikeTrain, init: ReplayInit = {}): Replay {
  return new Replay(train, init)
}

/** A replay source over a file (parsed strictly; ReplayFormatError on any broken rule). */
export async function replayFile (path: string, init: ReplayInit & ReplayParseOptions = {}, options: { signal?: AbortSignal } = {}): Promise<Replay> {
  const train = await readSpikeTrainFile(path, init, options)
  return new Replay(train, init)
}

/** A culture node model over a device (a chip driver or the emulator), always behind the safety guard. */
export function cultureModel (device: CultureDevice, limits: StimulationLimits = {}): CultureModel {
  return new CultureModel(device, limits)
}

/** The emulated culture behind the safety guard. */
export function culture (init: CultureEmulatorInit & { limits?: StimulationLimits } = {}): CultureModel {
  return new CultureModel(new CultureEmulator(init), init.limits)
}

export function memristor (init: MemristorInit = {}): Memristor {
  return new Memristor(init)
}

export function rateRule (init: RateRuleInit = {}): RateRule {
  return new RateRule(init)
}

export function stdpRule (init: StdpRuleInit = {}): StdpRule {
  return new StdpRule(init)
}

/** Memristive synapses with a plasticity rule (default: the 2020 rate rule). */
export function synapse (init: SynapseInit = {}): Synapse {
  return new Synapse(init)
}
