/**
 * What the nodes counted, read from their final stats: losses (must be zero), timing counters, clock
 * estimates against the truth, and link latencies.
 */
import type { DelayProxyStats } from '../../src/netem/index.ts'
import type { LatencySnapshot, NodeStats } from '../../src/index.ts'
import { CONSUMES } from './params.ts'
import type { LinkSpec, NodeName } from './params.ts'

/** A node's final report: node.stats(), its hosted models' stats, its drivers' counters. */
export interface NodeFinal {
  stats: NodeStats
  hosts: unknown[]
  drivers: unknown[]
  /** This node's clock − the orchestrator's clock, µs (known because the experiment set it). */
  trueOffsetUs: number
  /** Clock estimates by peer name (the site translated PeerIds to names). */
  clocks: Record<string, { converged: boolean, offsetUs: number, uncertaintyUs: number, rttUs: number, driftPpm: number }>
}

/**
 * Counters of events lost on the way or refused by the machinery that carries them: every gap, loss,
 * drop, overflow and refusal of streams, ports, queues, playouts, merges and models, and invalid inputs.
 */
const LOSS_KEYS = new Set([
  'gapEvents', 'lostEvents', 'reconnectGaps', 'dropped', 'undelivered', 'refused', 'lateDropped', 'overflow',
  'discarded', 'invalid', 'refusedInvalid', 'traceDropped', 'callbackErrors'
])
/**
 * Stimulation pulses that arrived intact but that the culture's safety guard refused (closer than its
 * minimum interval to the previous pulse, or over its charge budget): a device decision, not a loss.
 */
const DEVICE_KEYS = new Set(['refusedRate', 'refusedCharge', 'refusedDevice'])
/** Counters of events that were delivered, but not at their time. */
const TIMING_KEYS = new Set(['violations', 'late', 'lateOutputs', 'outOfOrder'])

/** Sum the counters named in `keys` anywhere in `o`; a merge's per-input counters repeat its totals and are skipped. */
function walk (o: unknown, path: string, keys: Set<string>, out: Record<string, number>): void {
  if (typeof o !== 'object' || o === null) return
  for (const [k, v] of Object.entries(o)) {
    if (k === 'inputs' || k === 'latency') continue
    const p = path === '' ? k : `${path}.${k}`
    if (typeof v === 'number' && keys.has(k)) out[p] = v
    else walk(v, p, keys, out)
  }
}

export interface Counted {
  total: number
  /** Counters that are not zero, by node and path. */
  nonZero: Record<string, number>
  /** How many counters were read. */
  counters: number
}

function count (finals: Partial<Record<NodeName, NodeFinal>>, keys: Set<string>, extra?: (node: NodeName, f: NodeFinal, out: Record<string, number>) => void): Counted {
  const all: Record<string, number> = {}
  for (const [node, f] of Object.entries(finals) as Array<[NodeName, NodeFinal]>) {
    const out: Record<string, number> = {}
    walk({ outPorts: f.stats.outPorts, inPorts: f.stats.inPorts, subscriptions: f.stats.subscriptions, links: f.stats.links, hosts: f.hosts, drivers: f.drivers }, '', keys, out)
    extra?.(node, f, out)
    for (const [p, v] of Object.entries(out)) all[`${node}: ${p}`] = v
  }
  const nonZero = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== 0))
  return { total: Object.values(all).reduce((a, b) => a + b, 0), nonZero, counters: Object.keys(all).length }
}

/** Every gap and loss counter of every node (refused connections and opens included). */
export function losses (finals: Partial<Record<NodeName, NodeFinal>>): Counted {
  return count(finals, LOSS_KEYS, (_node, f, out) => {
    out['refusals.connections'] = f.stats.refusals.connections
    out['refusals.opens'] = f.stats.refusals.opens
  })
}

/** Stimulation pulses refused by the culture's safety guard. */
export function deviceRefusals (finals: Partial<Record<NodeName, NodeFinal>>): Counted {
  return count(finals, DEVICE_KEYS)
}

/** Playout delay violations, late and out-of-order events (delivered, but not at their time). */
export function timing (finals: Partial<Record<NodeName, NodeFinal>>): Counted {
  return count(finals, TIMING_KEYS)
}

export interface ClockPair {
  from: NodeName
  to: NodeName
  converged: boolean
  /** Estimated θ = clock of `to` − clock of `from`, ms. */
  offsetMs: number
  uncertaintyMs: number
  rttMs: number
  driftPpm: number
  trueOffsetMs: number
  errorMs: number
  withinUncertainty: boolean
}

const ms = (us: number): number => Math.round(us) / 1000

/** The clock estimate of every node of each peer whose events it consumes, against the truth. */
export function clockPairs (finals: Partial<Record<NodeName, NodeFinal>>): ClockPair[] {
  const out: ClockPair[] = []
  for (const [from, f] of Object.entries(finals) as Array<[NodeName, NodeFinal]>) {
    for (const [to, c] of Object.entries(f.clocks) as Array<[NodeName, NodeFinal['clocks'][string]]>) {
      const peer = finals[to]
      if (peer === undefined || !CONSUMES[from].includes(to)) continue
      const truth = peer.trueOffsetUs - f.trueOffsetUs
      const error = c.offsetUs - truth
      out.push({
        from,
        to,
        converged: c.converged,
        offsetMs: ms(c.offsetUs),
        uncertaintyMs: ms(c.uncertaintyUs),
        rttMs: ms(c.rttUs),
        driftPpm: Math.round(c.driftPpm * 100) / 100,
        trueOffsetMs: ms(truth),
        errorMs: ms(error),
        withinUncertainty: Math.abs(error) <= c.uncertaintyUs
      })
    }
  }
  return out
}

export interface LatencyRow {
  from: NodeName
  to: NodeName
  what: string
  count: number
  p50Ms: number | null
  p99Ms: number | null
}

function row (from: NodeName, to: NodeName, what: string, l: LatencySnapshot): LatencyRow {
  const f = (v: number): number | null => Number.isFinite(v) ? ms(v) : null
  return { from, to, what, count: l.count, p50Ms: f(l.p50Us), p99Ms: f(l.p99Us) }
}

/**
 * One-way latencies between sites as the receivers measured them (arrival − the event's time mapped to
 * the receiver's clock): the synapses' subscriptions, and the devices' inputs (for those, the event time
 * is the pre-synaptic spike time + the synaptic delay, so the figure includes the synapse's wait for
 * its merge).
 */
export function latencies (finals: Partial<Record<NodeName, NodeFinal>>, nameOf: (peer: string) => NodeName): LatencyRow[] {
  const rows: LatencyRow[] = []
  for (const to of ['synapse-a', 'synapse-b'] as const) {
    for (const s of finals[to]?.stats.subscriptions ?? []) rows.push(row(nameOf(s.peer), to, `subscription ${s.port}`, s.latency))
  }
  const device = (to: 'padova' | 'zurich', from: NodeName, what: string): void => {
    const h = finals[to]?.hosts[0] as { playout?: { latency: LatencySnapshot } } | undefined
    if (h?.playout !== undefined) rows.push(row(from, to, what, h.playout.latency))
  }
  device('padova', 'synapse-a', 'push out → stim (event age at arrival)')
  device('zurich', 'synapse-b', 'push out → in (event age at arrival)')
  return rows
}

export interface EmulatedLink {
  name: string
  direction: string
  delayMs: number
  jitterMs: number
  /** Delay the proxy actually added per chunk, ms. */
  observed: { chunks: number, p50Ms: number, p99Ms: number, maxMs: number }
  droppedBytes: number
}

export function emulatedLinks (links: Array<{ spec: LinkSpec, stats: DelayProxyStats }>): EmulatedLink[] {
  const out: EmulatedLink[] = []
  for (const { spec, stats } of links) {
    for (const dir of ['up', 'down'] as const) {
      const d = stats[dir]
      out.push({
        name: spec.name,
        direction: dir === 'up' ? `southampton → ${spec.target}` : `${spec.target} → southampton`,
        delayMs: spec[dir].delayMs ?? 0,
        jitterMs: spec[dir].jitterMs ?? 0,
        observed: { chunks: d.chunks, p50Ms: round3(d.addedDelayMs.p50), p99Ms: round3(d.addedDelayMs.p99), maxMs: round3(d.addedDelayMs.max) },
        droppedBytes: d.droppedBytes
      })
    }
  }
  return out
}

function round3 (v: number): number {
  return Math.round(v * 1000) / 1000
}
