/**
 * A scenario: what both sides are told (ports, parameters, clock), what each role must support, and
 * how the harness judges what they report. One module per scenario; index.ts lists them.
 */
import type { Feature, ListeningLine, PortLayout, ResultLine, StdoutLine } from '../lib/contract.ts'
import type { Exit } from '../lib/proc.ts'
import type { Impl } from '../lib/manifest.ts'

export interface Pair {
  dialer: Impl
  listener: Impl
}

export interface RunPlan {
  /** The listener's ports (SW_PORTS). */
  ports: PortLayout[]
  /** SW_PARAMS, the same for both sides. */
  params: Record<string, unknown>
  /** Extra environment for the listener (e.g. SW_CLOCK_OFFSET_US). */
  listenerEnv?: Record<string, string>
  /** What the harness knows and the check uses (not sent). */
  truth?: Record<string, unknown>
}

export interface SideObservation {
  exit: Exit | undefined
  result: ResultLine | undefined
  lines: StdoutLine[]
}

export interface Observation {
  pair: Pair
  plan: RunPlan
  dialer: SideObservation
  listener: SideObservation & { listening: ListeningLine | undefined }
  /** Everything put in the rendezvous during the run. */
  rendezvous: Record<string, unknown>
  /** Record a remark that does not fail the run (a known issue), shown with the result. */
  note: (text: string) => void
}

export interface Scenario {
  id: string
  title: string
  /** What happens, in a few sentences (README, --list). */
  summary: string
  /** The pass criteria, each checked by `check` (README, --list). */
  criteria: string[]
  requires: { dialer: Feature[], listener: Feature[] }
  /** Timing-sensitive: run while nothing else runs. */
  exclusive?: boolean
  /**
   * Runs again after a failure, this many times (timing scenarios on a shared machine). A pass on a later
   * attempt is reported with the earlier attempts' reasons.
   */
  retries?: number
  /** Deadline of the whole run, ms (default 20 s). */
  timeoutMs?: number
  /** A reason, derived from the pair's manifest entries, why the scenario does not apply. */
  notApplicable?: (pair: Pair) => string | undefined
  plan: (pair: Pair) => RunPlan
  /** The failed criteria, empty when the run passes. Both sides' exit codes are checked by the runner. */
  check: (o: Observation) => string[]
}

/** Collects failed criteria. */
export class Checks {
  readonly failures: string[] = []

  that (ok: boolean, what: string): this {
    if (!ok) this.failures.push(what)
    return this
  }

  /** `actual` must equal `expected` (numbers, strings, booleans). */
  equal (actual: unknown, expected: unknown, what: string): this {
    return this.that(actual === expected, `${what}: got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`)
  }
}

/** A numeric field of a result (NaN when absent or not a number). */
export function num (r: ResultLine | undefined, key: string): number {
  const v = r?.[key]
  return typeof v === 'number' ? v : NaN
}
