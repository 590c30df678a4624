/**
 * Per-phase results of the experiment from the recorded events (all times already in the recorder's
 * clock), and the checks that decide the exit code.
 *
 * Definitions (also written into summary.json):
 * - weight at a time: the last weight-trace sample of the synapse at or before it;
 * - pacemaker spikes of a phase: Zurich pacemaker spikes with a time inside the phase;
 * - stimuli of a phase: synapse A outputs whose pre-synaptic spike (output time − synaptic delay) is
 *   inside the phase; their amplitude is synapse A's weight at that spike;
 * - evoked spikes of a phase: culture spikes on the evoked channel whose time minus the nominal
 *   stimulus-to-response lag (synaptic delay + playout delay + mean evoked latency) is inside the phase,
 *   so a response counts in the phase of the pacemaker spike that caused it;
 * - evoked response rate of a phase: evoked spikes / pacemaker spikes.
 */
import type { NodeName, Phase, PhaseKind } from './params.ts'

/** One recorded event in the recorder's clock. */
export interface TimedEvent {
  node: NodeName
  port: string
  channel: number
  tUs: number
  value?: number
}

/** The raster rows, in signal order: what they are and how to find their events. */
export const ROWS: Array<{ label: string, node: NodeName, port: string, channel?: number }> = [
  { label: 'Zurich pacemaker', node: 'zurich', port: 'pacemaker' },
  { label: 'synapse A → Padova stim', node: 'synapse-a', port: 'out' },
  { label: 'Padova evoked', node: 'padova', port: 'spikes', channel: 1 },
  { label: 'Padova spontaneous', node: 'padova', port: 'spikes', channel: 0 },
  { label: 'synapse B → Zurich in', node: 'synapse-b', port: 'out' },
  { label: 'Zurich neuron', node: 'zurich', port: 'neuron' }
]

export interface PhaseResult {
  name: string
  kind: PhaseKind
  rateHz: number
  startS: number
  endS: number
  weights: Record<'synapse-a' | 'synapse-b', { start: number | null, end: number | null }>
  pacemakerSpikes: number
  stimuli: number
  meanStimulusAmplitude: number | null
  evokedSpikes: number
  evokedPerPacemakerSpike: number | null
  neuronSpikes: number
  /** Events of every raster row inside the phase. */
  spikes: Record<string, number>
}

export interface Lags {
  synapseDelayUs: number
  responseLagUs: number
}

const inside = (t: number, p: Phase): boolean => t >= p.startUs && t < p.endUs
const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits

function select (events: TimedEvent[], node: NodeName, port: string, channel?: number): TimedEvent[] {
  return events.filter(e => e.node === node && e.port === port && (channel === undefined || e.channel === channel))
}

/** Weight of a synapse at `tUs`: the last trace sample at or before it (null before the first). */
export function weightAt (trace: TimedEvent[], tUs: number): number | null {
  let w: number | null = null
  for (const e of trace) {
    if (e.tUs > tUs) break
    w = e.value ?? null
  }
  return w
}

export function phaseResults (events: TimedEvent[], phases: Phase[], lags: Lags): PhaseResult[] {
  const sorted = [...events].sort((a, b) => a.tUs - b.tUs)
  const traceA = select(sorted, 'synapse-a', 'weight')
  const traceB = select(sorted, 'synapse-b', 'weight')
  const pacemaker = select(sorted, 'zurich', 'pacemaker')
  const stimuli = select(sorted, 'synapse-a', 'out')
  const evoked = select(sorted, 'padova', 'spikes', 1)
  const neuron = select(sorted, 'zurich', 'neuron')
  const t0 = phases[0]?.startUs ?? 0
  return phases.map(p => {
    const pm = pacemaker.filter(e => inside(e.tUs, p)).length
    const st = stimuli.filter(e => inside(e.tUs - lags.synapseDelayUs, p))
    const ev = evoked.filter(e => inside(e.tUs - lags.responseLagUs, p)).length
    const amp = st.length === 0 ? null : round(st.reduce((s, e) => s + (e.value ?? 0), 0) / st.length, 1)
    return {
      name: p.name,
      kind: p.kind,
      rateHz: p.rateHz,
      startS: round((p.startUs - t0) / 1e6),
      endS: round((p.endUs - t0) / 1e6),
      weights: {
        'synapse-a': { start: weightAt(traceA, p.startUs), end: weightAt(traceA, p.endUs) },
        'synapse-b': { start: weightAt(traceB, p.startUs), end: weightAt(traceB, p.endUs) }
      },
      pacemakerSpikes: pm,
      stimuli: st.length,
      meanStimulusAmplitude: amp,
      evokedSpikes: ev,
      evokedPerPacemakerSpike: pm === 0 ? null : round(ev / pm),
      neuronSpikes: neuron.filter(e => inside(e.tUs, p)).length,
      spikes: Object.fromEntries(ROWS.map(r => [r.label, select(sorted, r.node, r.port, r.channel).filter(e => inside(e.tUs, p)).length]))
    }
  })
}

export interface Check {
  name: string
  ok: boolean
  detail: string
  /** Required checks decide the exit code; the others are reported. */
  required: boolean
}

function byKind (results: PhaseResult[], kind: PhaseKind): PhaseResult | undefined {
  return results.find(r => r.kind === kind)
}

/** The expected outcome of the Figure 2 protocol, and zero losses. */
export function checks (results: PhaseResult[], lossTotal: number, lossDetail: Record<string, number>, refusedStimuli = 0): Check[] {
  const out: Check[] = []
  const pot = byKind(results, 'potentiation')
  const dep = byKind(results, 'depression')
  const potIndex = pot === undefined ? -1 : results.indexOf(pot)
  const before = results.slice(0, Math.max(potIndex, 0)).findLast(r => r.kind === 'none')
  const after = results.slice(potIndex + 1).find(r => r.kind === 'none')
  const depIndex = dep === undefined ? -1 : results.indexOf(dep)
  const afterDep = depIndex < 0 ? undefined : results.slice(depIndex + 1).find(r => r.kind === 'none')
  const wa = (r: PhaseResult | undefined): { start: number | null, end: number | null } => r?.weights['synapse-a'] ?? { start: null, end: null }
  const gt = (a: number | null | undefined, b: number | null | undefined): boolean => a != null && b != null && a > b
  out.push({
    name: 'synapse A potentiates in the potentiation phase',
    ok: gt(wa(pot).end, wa(pot).start),
    detail: `weight ${wa(pot).start} → ${wa(pot).end}`,
    required: true
  })
  out.push({
    name: 'synapse A depresses in the depression phase',
    ok: gt(wa(dep).start, wa(dep).end),
    detail: `weight ${wa(dep).start} → ${wa(dep).end}`,
    required: true
  })
  out.push({
    name: 'the same 10 Hz input evokes more responses after potentiation than before',
    ok: gt(after?.evokedPerPacemakerSpike, before?.evokedPerPacemakerSpike),
    detail: `evoked per pacemaker spike ${before?.evokedPerPacemakerSpike} (${before?.name}) → ${after?.evokedPerPacemakerSpike} (${after?.name})`,
    required: true
  })
  out.push({
    name: 'no event lost anywhere',
    ok: lossTotal === 0,
    detail: lossTotal === 0 ? 'every gap and loss counter is 0' : `${lossTotal} lost or refused: ${JSON.stringify(lossDetail)}`,
    required: true
  })
  out.push({
    name: 'fewer evoked responses after depression than after potentiation',
    ok: gt(after?.evokedPerPacemakerSpike, afterDep?.evokedPerPacemakerSpike),
    detail: `evoked per pacemaker spike ${after?.evokedPerPacemakerSpike} → ${afterDep?.evokedPerPacemakerSpike}`,
    required: false
  })
  out.push({
    name: 'the culture\'s safety guard refused no stimulus',
    ok: refusedStimuli === 0,
    detail: refusedStimuli === 0
      ? 'every stimulus was delivered'
      : `${refusedStimuli} refused for coming closer than the guard's minimum interval to the previous one (stimuli delivered late, after a playout delay violation or a stalled event loop, bunch up)`,
    required: false
  })
  return out
}
