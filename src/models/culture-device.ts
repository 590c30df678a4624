/**
 * The interface between a spikewire culture node and a biological culture on an electrode chip (for
 * example the Padova chip of the 2020 experiment). A real chip driver implements it; culture-emulator.ts
 * is a software stand-in. A node never talks to a device directly: it goes through StimulationGuard
 * (stim-guard.ts), which enforces the stimulation safety limits whatever the input.
 *
 * Stimulation: one biphasic, charge-balanced pulse of fixed shape per call; the caller chooses the
 * electrode and an amplitude code 0..255, a linear fraction of the device's full-scale current. The charge
 * of the first phase is (amplitude / 255) · fullScaleUa · widthUs, in pC (µA · µs = pC).
 *
 * Recording: spikes detected on an electrode, with their time and origin. A driver classifies a spike as
 * 'evoked' when it falls inside its post-stimulus window on that electrode (the 2020 protocol's event
 * type 1, "stimulated action potential") and as 'spontaneous' otherwise (event type 2).
 */
import type { ModelDescription, ModelStats } from './index.ts'

export type SpikeOrigin = 'spontaneous' | 'evoked'

/** Receives recorded spikes, in non-decreasing time order. */
export type RecordSink = (electrode: number, timeUs: number, origin: SpikeOrigin) => void

/** Why a stimulation pulse was not delivered. */
export type StimRefusal =
  | 'invalid' // electrode out of range, non-finite time, amplitude not a finite number in 0..255
  | 'rate' // closer than the minimum interval to the previous pulse on that electrode
  | 'charge' // would exceed the electrode's charge budget in the sliding window
  | 'device' // the device could not deliver it (hardware fault, busy)

export interface StimulusOutcome {
  delivered: boolean
  reason?: StimRefusal
  /** The time the pulse was (or would have been) delivered, µs. */
  timeUs: number
  /** First-phase charge of the pulse, nC (0 when refused as invalid). */
  chargeNc: number
}

/** The device's fixed stimulation pulse. */
export interface StimulusPulseShape {
  /** Width of one phase, µs. */
  widthUs: number
  /** Current at amplitude code 255, µA. */
  fullScaleUa: number
}

/** Largest amplitude code. */
export const MAX_AMPLITUDE = 255

/** First-phase charge of a pulse in nC: (amplitude / 255) · fullScaleUa · widthUs / 1000. */
export function pulseChargeNc (shape: StimulusPulseShape, amplitude: number): number {
  return (amplitude / MAX_AMPLITUDE) * shape.fullScaleUa * shape.widthUs / 1000
}

export interface CultureDevice {
  /** Number of electrodes; electrode ids are 0..electrodes−1, each both recording and stimulating. */
  readonly electrodes: number
  readonly pulse: StimulusPulseShape
  /** The time up to which recorded spikes have been delivered, µs. */
  readonly timeUs: number
  describe (): ModelDescription
  /**
   * Deliver one pulse on `electrode` with amplitude code 0..255 at `timeUs`: at that time if it is still
   * ahead, otherwise as soon as possible (the outcome says when). Calls come in non-decreasing time order.
   * Never throws for bad arguments; refuses them with reason 'invalid'.
   */
  stimulate (electrode: number, timeUs: number, amplitude: number): StimulusOutcome
  /** Deliver the spikes recorded up to `tUs`, in time order. */
  advanceTo (tUs: number, record: RecordSink): void
  /** Time of the next recorded spike if known in advance (an emulator knows it, a chip does not). */
  nextEventUs? (): number
  stats (): ModelStats
}
