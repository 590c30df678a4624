/**
 * The culture node model: a CultureDevice (emulator or chip driver) behind a StimulationGuard, seen as a
 * spikewire model.
 *
 * Input port 'stim' (weighted, one channel per electrode): an event (electrode, t, w) asks for one
 * stimulation pulse of amplitude code w (0..255) — for example a pre-synaptic spike scaled by a memristive
 * synapse's weight. The guard may refuse it (`input` returns false; counted in `stats()`).
 *
 * Output port 'spikes' (spike, 2 × electrodes channels): channel e (0 ≤ e < electrodes) carries the
 * spontaneous spikes of electrode e, channel electrodes + e its evoked spikes. A subscriber that wants
 * every spike of an electrode takes both; one that measures evoked responses filters channels ≥ electrodes.
 */
import { StimulationGuard } from './stim-guard.ts'
import type { StimulationCounters, StimulationLimits } from './stim-guard.ts'
import type { CultureDevice, SpikeOrigin, StimulusOutcome } from './culture-device.ts'
import type { EventSink, Model, ModelDescription, ModelStats, PortSpec } from './index.ts'

/** Output channel of a spike of `origin` on `electrode`. */
export function cultureChannel (electrode: number, origin: SpikeOrigin, electrodes: number): number {
  return origin === 'evoked' ? electrodes + electrode : electrode
}

/** Electrode and origin of an output channel. */
export function cultureElectrode (channel: number, electrodes: number): { electrode: number, origin: SpikeOrigin } {
  return channel >= electrodes ? { electrode: channel - electrodes, origin: 'evoked' } : { electrode: channel, origin: 'spontaneous' }
}

export class CultureModel implements Model {
  readonly output: PortSpec
  readonly inputs: readonly PortSpec[]
  readonly guard: StimulationGuard
  readonly electrodes: number
  /** Present when the device knows its next spike in advance (the emulator does). */
  readonly nextEventUs?: () => number
  #lastOutcome: StimulusOutcome | undefined
  #spontaneous = 0
  #evoked = 0

  constructor (device: CultureDevice, limits: StimulationLimits = {}) {
    this.guard = new StimulationGuard(device, limits)
    this.electrodes = device.electrodes
    this.output = { name: 'spikes', kind: 'spike', channels: 2 * this.electrodes }
    this.inputs = [{ name: 'stim', kind: 'weighted', channels: this.electrodes }]
    const next = this.guard.nextEventUs
    if (next !== undefined) this.nextEventUs = next
  }

  get timeUs (): number {
    return this.guard.timeUs
  }

  describe (): ModelDescription {
    return this.guard.describe()
  }

  stats (): ModelStats {
    return { ...this.guard.stats(), outSpontaneous: this.#spontaneous, outEvoked: this.#evoked }
  }

  /** The safety counters (delivered and refused pulses, charge). */
  counters (): StimulationCounters {
    return { ...this.guard.counters }
  }

  /** The outcome of the last `input` call. */
  get lastOutcome (): StimulusOutcome | undefined {
    return this.#lastOutcome
  }

  /** Ask for a stimulation pulse; the full outcome is in `lastOutcome` (or call `stimulate`). */
  input (channel: number, timeUs: number, value: number): boolean {
    return this.stimulate(channel, timeUs, value).delivered
  }

  stimulate (electrode: number, timeUs: number, amplitude: number): StimulusOutcome {
    this.#lastOutcome = this.guard.stimulate(electrode, timeUs, amplitude)
    return this.#lastOutcome
  }

  advanceTo (tUs: number, emit: EventSink): void {
    const n = this.electrodes
    this.guard.advanceTo(tUs, (e, t, origin) => {
      if (origin === 'evoked') {
        this.#evoked++
        emit(n + e, t)
      } else {
        this.#spontaneous++
        emit(e, t)
      }
    })
  }
}
