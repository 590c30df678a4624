/**
 * Every parameter of the three-site experiment, in one place: the orchestrator (run.ts) and the sites
 * (site.ts) both read them from here.
 *
 * Nodes (libp2p peers): Padova runs one node (`padova`, the culture), Southampton two (`synapse-a`,
 * `synapse-b`, one per memristive synapse), Zurich one (`zurich`, the neuromorphic chip with a pacemaker
 * neuron and a post-synaptic neuron). The orchestrator runs a fifth node, `recorder`, that only subscribes.
 */
import type { LinkParams } from '../../src/netem/index.ts'

export type SiteName = 'padova' | 'southampton' | 'zurich'
export type NodeName = 'padova' | 'synapse-a' | 'synapse-b' | 'zurich' | 'recorder'

export const SITE_NODES: Record<SiteName, NodeName[]> = {
  padova: ['padova'],
  southampton: ['synapse-a', 'synapse-b'],
  zurich: ['zurich']
}

/** Whose events each node consumes (and so keeps a clock estimate of); the recorder consumes everyone's. */
export const CONSUMES: Record<NodeName, NodeName[]> = {
  padova: ['synapse-a'],
  zurich: ['synapse-b'],
  'synapse-a': ['zurich', 'padova'],
  'synapse-b': ['padova', 'zurich'],
  recorder: ['padova', 'synapse-a', 'synapse-b', 'zurich']
}

export const SITE_OF: Record<Exclude<NodeName, 'recorder'>, SiteName> = {
  padova: 'padova',
  'synapse-a': 'southampton',
  'synapse-b': 'southampton',
  zurich: 'zurich'
}

/**
 * Each site's clock is its host's clock shifted by a known offset and drift (like three lab computers
 * without a common time base). The orchestrator's clock is the reference (offset 0); the truth is known,
 * so the summary can compare every clock estimate with it.
 */
export const SITE_CLOCKS: Record<SiteName, { offsetUs: number, driftPpm: number }> = {
  padova: { offsetUs: 180_000, driftPpm: 15 },
  southampton: { offsetUs: 37_000, driftPpm: 5 },
  zurich: { offsetUs: -95_000, driftPpm: -10 }
}

/**
 * The inter-site links, each through its own delay proxy. Southampton dials both other sites, so `up` is
 * Southampton → the other site and `down` the way back. Jitter is uniform on ±jitterMs; the proxy keeps
 * TCP's byte order, so jitter delays bytes but never reorders them. The Zurich link is asymmetric by
 * 2 ms (internet routes often are): a clock estimate cannot see that, so it must stay inside its
 * uncertainty.
 */
export interface LinkSpec {
  name: string
  /** The site whose node the proxy forwards to. */
  target: 'padova' | 'zurich'
  up: LinkParams
  down: LinkParams
}

export const LINKS: LinkSpec[] = [
  { name: 'padova-southampton', target: 'padova', up: { delayMs: 15, jitterMs: 2 }, down: { delayMs: 15, jitterMs: 2 } },
  { name: 'zurich-southampton', target: 'zurich', up: { delayMs: 10, jitterMs: 2 }, down: { delayMs: 12, jitterMs: 2 } }
]

/** Idle watermark period of every site node's out ports, ms: bounds how long a merge waits on a quiet input. */
export const WATERMARK_INTERVAL_MS = 10

/** Synaptic (axonal) delay of both memristive synapses, µs: output time = pre-synaptic spike time + this. */
export const SYNAPSE_DELAY_US = 10_000

/**
 * Playout delay of the devices' inputs (the culture's stimulation, the silicon neuron's input), µs: an
 * event stamped t is applied at t + this (mapped to local time). It must cover the time a synapse output
 * takes to arrive: the merge's wait for both inputs' watermarks (one link latency + a watermark period)
 * plus the link to the device. Later arrivals are applied at once and counted as violations.
 */
export const PLAYOUT_DELAY_US = 80_000

/** Culture emulator: one electrode; output channel 0 spontaneous spikes, channel 1 evoked spikes. */
export const CULTURE = {
  electrodes: 1,
  spontaneousHz: 2,
  /** P(evoked | amplitude w) = 0.9 / (1 + exp(−(w − 128) / 20)); latency 10 ± 2.5 ms in [5, 15] ms. */
  limits: { maxChargeNc: 100 }
}
/** Mean latency of an evoked action potential after its stimulus, µs (the emulator's default). */
export const EVOKED_LATENCY_US = 10_000

/** Synapse A (pacemaker → culture): starts weak, R = 4.5 kΩ → weight 26. The 2020 rate rule. */
export const SYNAPSE_A = { rule: 'rate' as const, delayUs: SYNAPSE_DELAY_US, device: { rInitKOhm: 4.5 } }
/** Synapse B (culture → silicon neuron): starts strong, R = 8.5 kΩ → weight 230. The 2020 rate rule. */
export const SYNAPSE_B = { rule: 'rate' as const, delayUs: SYNAPSE_DELAY_US, device: { rInitKOhm: 8.5 } }

/**
 * Post-synaptic silicon neuron: LIF with the defaults (threshold 20 mV above rest, τ 10 ms); an input of
 * value w (the synapse weight) moves V by w · 0.12 mV, so one culture spike fires it when w ≥ 167, and
 * two culture spikes a few ms apart fire it at lower weights.
 */
export const NEURON = { wUnitMv: 0.12 }

/** Pacemaker base rate, Hz. */
export const BASE_RATE_HZ = 10

export type PhaseKind = 'none' | 'potentiation' | 'depression'

export interface PhaseSpec {
  name: string
  kind: PhaseKind
  rateHz: number
  /** Share of the total duration. */
  share: number
}

/**
 * The Figure 2 protocol, plus a last test phase that shows the effect of depression. Potentiation drives
 * the synapse above the rule's 20 Hz threshold, depression below its 5 Hz threshold; in the `none` phases
 * the 10 Hz pacemaker sits between the two and leaves the weight alone.
 */
export const PHASES: PhaseSpec[] = [
  { name: 'baseline', kind: 'none', rateHz: BASE_RATE_HZ, share: 5 / 45 },
  { name: 'potentiation', kind: 'potentiation', rateHz: 30, share: 15 / 45 },
  { name: 'after potentiation', kind: 'none', rateHz: BASE_RATE_HZ, share: 5 / 45 },
  { name: 'depression', kind: 'depression', rateHz: 2, share: 15 / 45 },
  { name: 'after depression', kind: 'none', rateHz: BASE_RATE_HZ, share: 5 / 45 }
]

/** Default total duration of the phases, s. */
export const DEFAULT_DURATION_S = 45

/** A phase with absolute times (µs in some clock). */
export interface Phase {
  name: string
  kind: PhaseKind
  rateHz: number
  startUs: number
  endUs: number
}

/** The phases laid out from `startUs` over `durationS` seconds. */
export function schedule (startUs: number, durationS: number): Phase[] {
  const phases: Phase[] = []
  let t = startUs
  for (const p of PHASES) {
    const end = t + Math.round(p.share * durationS * 1e6)
    phases.push({ name: p.name, kind: p.kind, rateHz: p.rateHz, startUs: t, endUs: end })
    t = end
  }
  return phases
}
