/**
 * The attack suite's runner: starts the target and the witness in their own processes, then runs each case
 * in turn — a quiet baseline window, the attack (RSS of the target sampled for its peak, its CPU use, the
 * witness's window), the hostile peers stopped, a settling pause, RSS after — and judges it.
 *
 * A case is judged held, degraded or failed by the worst of three: its own checks (what its fix must
 * achieve, e.g. a newcomer still gets in), the target's memory (what it retains after a full collection at
 * the end of the attack, minus before) and the witness (largest
 * gap between arrivals, events lost, reconnects). The thresholds are stated in every result line.
 */
import { fileURLToPath } from 'node:url'
import type { Libp2p } from '@libp2p/interface'
import { ChildRpc } from '../child-rpc.ts'
import { ProcessMeter, rssMB } from './proc.ts'
import { sleep, stopAll } from './hostile.ts'
import { targetConfig } from './target.ts'
import type { ProbeResult, WitnessWindow } from './witness.ts'

export type Level = 'held' | 'degraded' | 'failed'

/** One thing a case's fix must achieve, with the value measured and the rule applied. */
export interface Check {
  name: string
  level: Level
  value: unknown
  criterion: string
}

export interface CaseOutcome {
  checks: Check[]
  details: Record<string, unknown>
}

export interface AttackCase {
  name: string
  /** The item of issue 11's "Hostile peers" list it replays. */
  item: number
  what: string
  run: (ctx: CaseContext) => Promise<CaseOutcome>
}

export interface CaseResult {
  bench: 'attack'
  case: string
  item: number
  what: string
  verdict: Level
  criteria: string
  checks: Check[]
  rss: { beforeMB: number, peakMB: number, afterMB: number }
  /** JS heap + external memory after a full collection: before the attack, and at its end with the attackers still connected. */
  retained: { beforeMB: number, attackMB: number, attack: Retained }
  cpu: { baselinePct: number, attackPct: number }
  witness: WitnessWindow & { baselineGapMs: number }
  details: Record<string, unknown>
  durationS: number
}

/** What the target retains after a full collection, MB: the sum, the JS heap, memory outside it, and the array buffers in that. */
export interface Retained { retainedMB: number, heapMB: number, externalMB: number, arrayBuffersMB: number }

export const MEMORY = { heldMB: 64, degradedMB: 128 }
export const WITNESS = { heldGapMs: 1000, degradedGapMs: 5000 }
export const CRITERIA = `memory: what the target retains (heap + external after two full collections) at the end of the attack, attackers still connected, minus before: ≤ ${MEMORY.heldMB} MB held, ≤ ${MEMORY.degradedMB} MB degraded, else failed (RSS is reported, not judged: it includes garbage not yet collected); ` +
  `witness: largest gap ≤ ${WITNESS.heldGapMs} ms and no event lost held, ≤ ${WITNESS.degradedGapMs} ms without reconnecting degraded, else failed; ` +
  'each check as stated; the verdict is the worst of all'

const LEVELS: Level[] = ['held', 'degraded', 'failed']
export const worst = (...l: Level[]): Level => LEVELS[Math.max(0, ...l.map(x => LEVELS.indexOf(x)))]

/** A check from a count of successes: all held, at least half degraded, fewer failed. */
export function share (name: string, ok: number, n: number, what: string): Check {
  const level: Level = n > 0 && ok === n ? 'held' : n > 0 && ok * 2 >= n ? 'degraded' : 'failed'
  return { name, level, value: `${ok}/${n}`, criterion: `${what}: all held, at least half degraded, else failed` }
}

export interface SuiteOptions {
  short: boolean
  /** Only these cases (by name); default all. */
  only?: string[]
}

/** What a case may use: the target, the witness and newcomers, and the run's time scale. */
export class CaseContext {
  readonly short: boolean
  readonly target: { addr: string, host: string, port: number, peer: string, pid: number }
  readonly #targetRpc: ChildRpc
  readonly #witness: ChildRpc
  readonly #peers = new Set<Libp2p>()
  readonly #cleanups: Array<() => void | Promise<void>> = []

  constructor (short: boolean, target: CaseContext['target'], targetRpc: ChildRpc, witness: ChildRpc) {
    this.short = short
    this.target = target
    this.#targetRpc = targetRpc
    this.#witness = witness
  }

  /** `fullMs` in the full run, `shortMs` in the short one. */
  ms (fullMs: number, shortMs: number): number {
    return this.short ? shortMs : fullMs
  }

  /** Keep a hostile peer to stop after the case. */
  own<T extends Libp2p> (peer: T): T {
    this.#peers.add(peer)
    return peer
  }

  /** Run `fn` after the case (before the hostile peers stop). */
  defer (fn: () => void | Promise<void>): void {
    this.#cleanups.push(fn)
  }

  /** What the target retains now, after a full collection (as the suite measures before and after a case). */
  async targetRetained (): Promise<Retained> {
    return await this.#targetRpc.call<Retained>('retained')
  }

  async targetStats (): Promise<TargetStats> {
    return await this.#targetRpc.call<TargetStats>('stats')
  }

  /** A newcomer with a new identity, from 127.0.0.1: describe, or subscribe until the first batch. */
  async probe (kind: 'describe' | 'subscribe', timeoutMs = 5000): Promise<ProbeResult> {
    return await this.#witness.call<ProbeResult>('probe', { addr: this.target.addr, kind, timeoutMs })
  }

  /** Newcomers one after another until `until` (performance.now() ms), at least one. */
  async probeUntil (kind: 'describe' | 'subscribe', until: number, pauseMs = 300): Promise<ProbeResult[]> {
    const results: ProbeResult[] = []
    do {
      results.push(await this.probe(kind, Math.round(Math.max(1000, Math.min(5000, until - performance.now() + 1000)))))
      await sleep(pauseMs)
    } while (performance.now() < until)
    return results
  }

  async cleanup (): Promise<void> {
    for (const fn of this.#cleanups.splice(0)) {
      try { await fn() } catch { /* the case is over */ }
    }
    await stopAll(this.#peers)
    this.#peers.clear()
  }
}

export interface TargetStats {
  connections: number
  guard?: Record<string, number>
  refusals: { connections: number, opens: number }
  subscribers: number
  sink: { streams: number, batches: number, events: number, gapEvents: number, lostEvents: number, refused: number }
  memory: NodeJS.MemoryUsage
}

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url))

/** Probe results as a summary for a result line. */
export function probeSummary (r: ProbeResult[]): { ok: number, n: number, maxMs: number, errors: string[] } {
  return {
    ok: r.filter(x => x.ok).length,
    n: r.length,
    maxMs: Math.max(0, ...r.map(x => x.ms)),
    errors: [...new Set(r.filter(x => !x.ok).map(x => x.error ?? 'unknown'))]
  }
}

/** Run the cases; `report` receives each result as soon as it is known. Returns every result. */
export async function runSuite (cases: AttackCase[], options: SuiteOptions, report: (r: CaseResult) => void): Promise<CaseResult[]> {
  const targetRpc = new ChildRpc(here('./target.ts'), 30_000)
  const witness = new ChildRpc(here('./witness.ts'), 30_000)
  const results: CaseResult[] = []
  try {
    const started = await targetRpc.call<{ peer: string, multiaddrs: string[], pid: number }>('start', { config: targetConfig(options.short) })
    const addr = started.multiaddrs.find(a => a.startsWith('/ip4/127.0.0.1/'))!
    const port = Number(/\/tcp\/(\d+)\//.exec(addr)![1])
    await witness.call('watch', { addr })
    const ctx = new CaseContext(options.short, { addr, host: '127.0.0.1', port, peer: started.peer, pid: started.pid }, targetRpc, witness)
    await sleep(1000)
    for (const c of cases) {
      if (options.only !== undefined && !options.only.includes(c.name)) continue
      const r = await runCase(c, ctx, targetRpc, witness)
      results.push(r)
      report(r)
    }
  } finally {
    await Promise.allSettled([targetRpc.exit(), witness.exit()])
  }
  return results
}

async function runCase (c: AttackCase, ctx: CaseContext, targetRpc: ChildRpc, witness: ChildRpc): Promise<CaseResult> {
  const t0 = performance.now()
  const pid = ctx.target.pid
  // Baseline: what the target retains, then the witness and the target's CPU with no attack.
  const retainedBefore = (await targetRpc.call<Retained>('retained')).retainedMB
  await witness.call('window')
  const base = new ProcessMeter(pid)
  base.start()
  await sleep(ctx.ms(1500, 1000))
  const baseline = await witness.call<WitnessWindow>('window')
  const baseCpu = base.stop().cpuPct
  const before = rssMB(pid)
  const meter = new ProcessMeter(pid)
  meter.start()
  let outcome: CaseOutcome
  try {
    outcome = await c.run(ctx)
  } catch (err) {
    outcome = { checks: [{ name: 'ran', level: 'failed', value: String((err as Error).stack ?? err), criterion: 'the case ran to its end' }], details: {} }
  }
  const during = meter.stop()
  const w = await witness.call<WitnessWindow>('window')
  const attackMemory = await targetRpc.call<Retained>('retained').catch(() => ({ retainedMB: NaN, heapMB: NaN, externalMB: NaN, arrayBuffersMB: NaN }))
  const retainedAttack = attackMemory.retainedMB
  await ctx.cleanup()
  await sleep(ctx.ms(2000, 1000))
  const after = rssMB(pid)
  const alive = targetRpc.child.exitCode === null
  const growth = retainedAttack - retainedBefore
  const memory: Level = growth <= MEMORY.heldMB ? 'held' : growth <= MEMORY.degradedMB ? 'degraded' : 'failed'
  const seen: Level = w.reconnects > 0 || w.largestGapMs > WITNESS.degradedGapMs
    ? 'failed'
    : w.largestGapMs > WITNESS.heldGapMs || w.lostEvents > 0 ? 'degraded' : 'held'
  const checks = alive ? outcome.checks : [...outcome.checks, { name: 'targetAlive', level: 'failed' as Level, value: false, criterion: 'the target process is still running' }]
  const round = (x: number): number => Math.round(x * 10) / 10
  return {
    bench: 'attack',
    case: c.name,
    item: c.item,
    what: c.what,
    verdict: worst(memory, seen, ...checks.map(x => x.level)),
    criteria: CRITERIA,
    checks,
    rss: { beforeMB: round(before), peakMB: round(during.peakMB), afterMB: round(after) },
    retained: { beforeMB: retainedBefore, attackMB: retainedAttack, attack: attackMemory },
    cpu: { baselinePct: round(baseCpu), attackPct: round(during.cpuPct) },
    witness: { ...w, baselineGapMs: baseline.largestGapMs },
    details: outcome.details,
    durationS: round((performance.now() - t0) / 1000)
  }
}
