/**
 * One run: a scenario between a dialer and a listener. The harness starts the rendezvous, then the
 * listener, waits for its `listening` line, starts the dialer with the listener's address, waits for the
 * dialer to exit, puts `done`, and waits for the listener to finish. Both exit codes and the scenario's
 * check make the verdict. On the deadline both process groups are killed.
 */
import { join } from 'node:path'
import { ENV, KEYS } from './contract.ts'
import type { ListeningLine, ResultLine } from './contract.ts'
import { ImplProcess } from './proc.ts'
import { RendezvousServer } from './rendezvous.ts'
import type { Cell } from './matrix.ts'
import type { Observation, SideObservation } from '../scenarios/types.ts'

export type Status = 'pass' | 'fail' | 'n/a'

export interface RunResult {
  scenario: string
  dialer: string
  listener: string
  status: Status
  reason: string
  durationMs: number
}

export interface RunOptions {
  /** Repository root: the implementations' working directory. */
  root: string
  /** Folder for the per-run logs (created by the caller). */
  logDir?: string
  /** Override of every scenario's deadline, ms. */
  timeoutMs?: number
}

const MAX_PARAMS_BYTES = 120 * 1024
const LISTEN_TIMEOUT_MS = 15_000
const LISTENER_GRACE_MS = 3_000

function side (p: ImplProcess | undefined): SideObservation {
  return { exit: p?.exit, result: p?.result as ResultLine | undefined, lines: p?.lines ?? [] }
}

function describeExit (role: string, p: ImplProcess): string | undefined {
  const e = p.exit
  if (e === undefined) return `${role} still running`
  if (e.code === 0) {
    if (p.result === undefined) return `${role} exited 0 without a result line`
    if (p.result.ok !== true) return `${role} result ok=${String(p.result.ok)}`
    return undefined
  }
  const tail = p.stderrTail.trim().split('\n').slice(-3).join(' | ')
  const err = typeof p.result?.error === 'string' ? `: ${p.result.error}` : ''
  return `${role} exited ${e.code ?? e.signal}${err}${tail === '' ? '' : ` [stderr: ${tail.slice(0, 300)}]`}`
}

function pickAddress (l: ListeningLine): string | undefined {
  return l.multiaddrs.find(a => a.startsWith('/ip4/127.0.0.1/tcp/') && a.includes('/p2p/')) ?? l.multiaddrs.find(a => a.includes('/p2p/'))
}

export async function runOne (cell: Cell, options: RunOptions): Promise<RunResult> {
  const { scenario, dialer, listener } = cell
  const base = { scenario: scenario.id, dialer: dialer.id, listener: listener.id }
  if (cell.notApplicable !== undefined) return { ...base, status: 'n/a', reason: cell.notApplicable, durationMs: 0 }
  const started = Date.now()
  const timeoutMs = options.timeoutMs ?? scenario.timeoutMs ?? 20_000
  const deadline = started + timeoutMs
  const plan = scenario.plan({ dialer, listener })
  const params = JSON.stringify(plan.params)
  if (params.length > MAX_PARAMS_BYTES) throw new RangeError(`${scenario.id}: SW_PARAMS is ${params.length} bytes, over ${MAX_PARAMS_BYTES}`)
  const runId = `${scenario.id}--${dialer.id}--${listener.id}`
  const rv = new RendezvousServer()
  const rvAddress = await rv.start()
  const common: Record<string, string> = {
    [ENV.scenario]: scenario.id,
    [ENV.params]: params,
    [ENV.rendezvous]: rvAddress,
    [ENV.timeoutMs]: String(timeoutMs),
    [ENV.runId]: runId
  }
  const logPath = (role: string): string | undefined => options.logDir === undefined ? undefined : join(options.logDir, `${runId}.${role}.log`)
  const failures: string[] = []
  const notes: string[] = []
  let dp: ImplProcess | undefined
  const lp = new ImplProcess({
    command: listener.command!,
    args: listener.args,
    cwd: options.root,
    logPath: logPath('listener'),
    env: {
      ...common,
      [ENV.role]: 'listener',
      [ENV.listen]: '/ip4/127.0.0.1/tcp/0',
      [ENV.ports]: JSON.stringify(plan.ports),
      [ENV.clockOffsetUs]: '0',
      [ENV.clockDriftPpm]: '0',
      ...plan.listenerEnv
    }
  })
  try {
    const listening = await lp.waitForLine(l => l.type === 'listening', Math.min(LISTEN_TIMEOUT_MS, deadline - Date.now())) as ListeningLine | undefined
    const addr = listening === undefined ? undefined : pickAddress(listening)
    if (addr === undefined) {
      failures.push(listening === undefined ? 'the listener did not print a listening line' : `the listening line has no /p2p/ multiaddr: ${JSON.stringify(listening)}`)
    } else {
      dp = new ImplProcess({
        command: dialer.command!,
        args: dialer.args,
        cwd: options.root,
        logPath: logPath('dialer'),
        env: { ...common, [ENV.role]: 'dialer', [ENV.peerAddr]: addr }
      })
      if (!await dp.waitExit(deadline - Date.now())) failures.push(`timeout: the dialer did not finish within ${timeoutMs} ms`)
      rv.put(KEYS.done, { dialer_exit: dp.exit?.code ?? null })
      if (!await lp.waitExit(Math.max(0, Math.min(LISTENER_GRACE_MS, deadline + LISTENER_GRACE_MS - Date.now())))) {
        failures.push('the listener did not finish after `done`')
      }
    }
  } finally {
    dp?.kill()
    lp.kill()
    await Promise.all([dp?.waitExit(2000), lp.waitExit(2000)])
    await rv.stop()
  }
  for (const [role, p] of [['dialer', dp], ['listener', lp]] as const) {
    if (p === undefined) continue
    const e = describeExit(role, p)
    if (e !== undefined && !failures.some(f => f.startsWith('timeout'))) failures.push(e)
    if (p.badLines.length > 0) failures.push(`${role} wrote non-JSON lines on stdout: ${JSON.stringify(p.badLines[0])}`)
  }
  if (dp !== undefined) {
    const o: Observation = {
      pair: { dialer, listener },
      plan,
      dialer: side(dp),
      listener: { ...side(lp), listening: lp.lines.find(l => l.type === 'listening') as ListeningLine | undefined },
      rendezvous: rv.snapshot(),
      note: text => { notes.push(text) }
    }
    try {
      failures.push(...scenario.check(o))
    } catch (err) {
      failures.push(`the check failed: ${(err as Error).message}`)
    }
  }
  const reason = [...failures.map(f => f.length > 400 ? `${f.slice(0, 400)}…` : f), ...notes.map(n => `note: ${n}`)].join('; ')
  return { ...base, status: failures.length === 0 ? 'pass' : 'fail', reason, durationMs: Date.now() - started }
}
