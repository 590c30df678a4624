/**
 * Turns what the orchestrator collected into the run's outputs: summary.json, figure.svg and events.csv.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { DelayProxyStats } from '../../src/netem/index.ts'
import { ROWS, checks, phaseResults } from './analysis.ts'
import type { Check, PhaseResult, TimedEvent } from './analysis.ts'
import { clockPairs, deviceRefusals, emulatedLinks, latencies, losses, timing } from './accounting.ts'
import type { NodeFinal } from './accounting.ts'
import { figureSpec, renderSvg } from './figure.ts'
import {
  CULTURE, EVOKED_LATENCY_US, LINKS, NEURON, PHASES, PLAYOUT_DELAY_US, SITE_CLOCKS, SYNAPSE_A, SYNAPSE_B,
  SYNAPSE_DELAY_US, WATERMARK_INTERVAL_MS
} from './params.ts'
import type { LinkSpec, NodeName, Phase } from './params.ts'
import type { LoopDelay } from './loop-delay.ts'

export interface Collected {
  durationS: number
  seed: number
  peers: Record<NodeName, string>
  /** Phases in the recorder's clock. */
  phases: Phase[]
  /** Every recorded event, mapped to the recorder's clock. */
  events: TimedEvent[]
  finals: Partial<Record<NodeName, NodeFinal>>
  proxies: Array<{ spec: LinkSpec, stats: DelayProxyStats }>
  /** What the sites measured themselves at the phase boundaries. */
  siteReports: unknown[]
  /** Time from the sites' start until every linked pair's clock estimate had converged, s. */
  convergedAfterS: number
  /** How late each process's timers ran (the orchestrator also runs the delay proxies). */
  loopDelays: Record<string, LoopDelay>
}

export interface Written {
  ok: boolean
  checks: Check[]
  phases: PhaseResult[]
  summaryPath: string
  figurePath: string
}

const RESPONSE_LAG_US = SYNAPSE_DELAY_US + PLAYOUT_DELAY_US + EVOKED_LATENCY_US

export async function writeOutputs (dir: string, c: Collected): Promise<Written> {
  await mkdir(dir, { recursive: true })
  const nameOf = (peer: string): NodeName => (Object.entries(c.peers).find(([, id]) => id === peer)?.[0] ?? peer) as NodeName
  const phases = phaseResults(c.events, c.phases, { synapseDelayUs: SYNAPSE_DELAY_US, responseLagUs: RESPONSE_LAG_US })
  const lost = losses(c.finals)
  const refused = deviceRefusals(c.finals)
  const list = checks(phases, lost.total, lost.nonZero, refused.total)
  const ok = list.every(x => x.ok || !x.required)
  const t0 = c.phases[0].startUs
  const end = c.phases[c.phases.length - 1].endUs
  const inRun = c.events.filter(e => e.tUs >= t0 && e.tUs < end)
  const totals = Object.fromEntries(ROWS.map(r => [r.label, inRun.filter(e => e.node === r.node && e.port === r.port && (r.channel === undefined || r.channel === e.channel)).length]))
  const clocks = clockPairs(c.finals)
  const summary = {
    experiment: 'The 2020 three-lab Figure 2 protocol (Serb et al., Sci Rep 10:2590) as three peer-to-peer processes',
    createdAt: new Date().toISOString(),
    ok,
    checks: list,
    durationS: c.durationS,
    seed: c.seed,
    definitions: {
      time: 'seconds from the start of the first phase, in the orchestrator\'s (recorder\'s) clock; every event was mapped there with the recorder\'s clock estimate of its sender',
      weight: 'synapse weight 0..255 = round(255·(R − 4 kΩ)/(9 kΩ − 4 kΩ)); a phase\'s start/end weight is the last weight-trace sample at or before that time',
      pacemakerSpikes: 'Zurich pacemaker spikes inside the phase',
      stimuli: 'synapse A outputs (stimulation requests to Padova) whose pre-synaptic spike (output time − synaptic delay) is inside the phase; meanStimulusAmplitude is their mean value (= synapse A weight)',
      evokedSpikes: `culture spikes on the evoked channel whose time − ${RESPONSE_LAG_US / 1000} ms (synaptic delay + playout delay + mean evoked latency) is inside the phase, i.e. counted in the phase of the pacemaker spike that caused them`,
      evokedPerPacemakerSpike: 'evokedSpikes / pacemakerSpikes',
      losses: 'sum of every gap, loss, drop, overflow and refusal counter of every node (subscriptions, push links, out and in ports, senders, playouts, merges, models, drivers, refused connections and opens); must be 0',
      deviceRefusals: 'stimuli that reached Padova intact but were refused by the culture\'s safety guard (minimum interval 20 ms, charge budget); reported, not a loss',
      timing: 'events delivered but not at their time (playout delay violations, late and out-of-order events), over the whole run including the warm-up before clocks converged; eventLoopDelay: how late each process\'s timers ran (perf_hooks), which is where CPU contention shows',
      clocks: 'per pair (from, to): θ = clock of `to` − clock of `from` as `from` estimates it, ± its uncertainty; the true θ is known because each site\'s clock was shifted by a set offset and drift',
      latency: 'one-way, arrival − event time mapped to the receiver\'s clock (p50/p99 over the last 4096 events)'
    },
    parameters: {
      phases: PHASES.map(p => ({ name: p.name, kind: p.kind, rateHz: p.rateHz, seconds: Math.round(p.share * c.durationS * 1000) / 1000 })),
      synapseDelayMs: SYNAPSE_DELAY_US / 1000,
      playoutDelayMs: PLAYOUT_DELAY_US / 1000,
      responseLagMs: RESPONSE_LAG_US / 1000,
      watermarkIntervalMs: WATERMARK_INTERVAL_MS,
      culture: CULTURE,
      synapseA: SYNAPSE_A,
      synapseB: SYNAPSE_B,
      neuron: NEURON,
      siteClocks: SITE_CLOCKS,
      links: LINKS
    },
    nodes: c.peers,
    phases,
    spikes: { experiment: totals, recorded: c.events.length },
    links: { emulated: emulatedLinks(c.proxies), measured: latencies(c.finals, nameOf) },
    clocks: { convergedAfterS: c.convergedAfterS, pairs: clocks, allWithinUncertainty: clocks.every(p => p.withinUncertainty) },
    losses: lost,
    deviceRefusals: refused,
    timing: { ...timing(c.finals), eventLoopDelay: c.loopDelays },
    siteReports: c.siteReports
  }
  const summaryPath = join(dir, 'summary.json')
  await writeFile(summaryPath, JSON.stringify(summary, null, 2) + '\n')
  const a = (i: number, end: boolean): number | null => phases[i]?.weights['synapse-a'][end ? 'end' : 'start'] ?? null
  const pot = phases.findIndex(p => p.kind === 'potentiation')
  const dep = phases.findIndex(p => p.kind === 'depression')
  const spec = figureSpec({
    events: c.events,
    phases,
    t0Us: t0,
    title: 'Silicon → memristor → living neurons, peer to peer (the 2020 three-lab experiment, emulated)',
    subtitle: [
      'Zurich pacemaker → synapse A (Southampton) → Padova culture → synapse B (Southampton) → Zurich neuron; every link a libp2p connection through a delay proxy',
      `links Padova–Southampton ${fmtLink(LINKS[0])}, Zurich–Southampton ${fmtLink(LINKS[1])}; clocks synchronised (true offsets up to ${maxOffsetMs()} ms)`,
      `synapse A weight ${a(pot, false)} → ${a(pot, true)} (potentiation), ${a(dep, false)} → ${a(dep, true)} (depression); ` +
        `${totals['Zurich pacemaker']} pacemaker spikes, ${c.events.length} events recorded, ${lost.total} lost`
    ]
  })
  const figurePath = join(dir, 'figure.svg')
  await writeFile(figurePath, await renderSvg(spec))
  const csv = ['node,port,channel,time_s,value', ...c.events.map(e =>
    `${e.node},${e.port},${e.channel},${((e.tUs - t0) / 1e6).toFixed(6)},${e.value ?? ''}`)]
  await writeFile(join(dir, 'events.csv'), csv.join('\n') + '\n')
  return { ok, checks: list, phases, summaryPath, figurePath }
}

function fmtLink (l: LinkSpec): string {
  return `${l.up.delayMs} ± ${l.up.jitterMs} ms / ${l.down.delayMs} ± ${l.down.jitterMs} ms`
}

function maxOffsetMs (): number {
  return Math.max(...Object.values(SITE_CLOCKS).map(c => Math.abs(c.offsetUs))) / 1000
}
