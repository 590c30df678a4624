/**
 * What a scenario handler of the TypeScript implementation gets: the configuration from the environment
 * (interop-tests/README.md, "Environment"), the rendezvous, the time left, and small helpers.
 */
import { ENV, KEYS } from '../../lib/contract.ts'
import type { LimitsParams, PortLayout, Role } from '../../lib/contract.ts'
import { RendezvousClient } from '../../lib/rendezvous.ts'

export class UsageError extends Error {
  override name = 'UsageError'
  readonly code = 'usage'
}

export interface Ctx {
  role: Role
  scenario: string
  listen: string
  peerAddr: string
  ports: PortLayout[]
  params: Record<string, unknown>
  limits: LimitsParams
  clockOffsetUs: number
  clockDriftPpm: number
  /** For the handler's own keys (one request at a time). */
  rv: RendezvousClient
  /** Listener: put `listener-ready` (once; call it when the scenario is set up). A no-op for a dialer. */
  ready: () => Promise<void>
  /** Listener: resolves when the harness puts `done` (the dialer has exited). */
  done: Promise<void>
  /** Milliseconds left before the run's deadline, minus a margin to report. */
  remainingMs: () => number
  log: (message: string) => void
  close: () => void
}

function json<T> (name: string, fallback: T): T {
  const v = process.env[name]
  if (v === undefined || v === '') return fallback
  try {
    return JSON.parse(v) as T
  } catch (err) {
    throw new UsageError(`${name} is not valid JSON: ${(err as Error).message}`)
  }
}

function number (name: string): number {
  const v = Number(process.env[name] ?? '0')
  if (!Number.isFinite(v)) throw new UsageError(`${name} must be a number`)
  return v
}

export function contextFromEnv (): Ctx {
  const role = process.env[ENV.role]
  if (role !== 'dialer' && role !== 'listener') throw new UsageError(`${ENV.role} must be "dialer" or "listener"`)
  const scenario = process.env[ENV.scenario] ?? ''
  if (scenario === '') throw new UsageError(`${ENV.scenario} is required`)
  const rendezvous = process.env[ENV.rendezvous] ?? ''
  if (rendezvous === '') throw new UsageError(`${ENV.rendezvous} is required`)
  const peerAddr = process.env[ENV.peerAddr] ?? ''
  if (role === 'dialer' && peerAddr === '') throw new UsageError(`${ENV.peerAddr} is required for a dialer`)
  const started = Date.now()
  const timeoutMs = Number(process.env[ENV.timeoutMs] ?? '20000')
  const params = json<Record<string, unknown>>(ENV.params, {})
  const rv = new RendezvousClient(rendezvous)
  const runId = process.env[ENV.runId] ?? scenario
  let doneRv: RendezvousClient | undefined
  let done: Promise<void> = new Promise(() => {})
  if (role === 'listener') {
    // A separate connection: a get waits, and answers come in request order.
    doneRv = new RendezvousClient(rendezvous)
    done = doneRv.get(KEYS.done, timeoutMs).then(() => {})
    done.catch(() => {})
  }
  let readyPut: Promise<void> | undefined
  const ready = async (): Promise<void> => {
    if (role !== 'listener') return
    readyPut ??= rv.put(KEYS.listenerReady, true)
    await readyPut
  }
  return {
    role,
    scenario,
    listen: process.env[ENV.listen] ?? '/ip4/127.0.0.1/tcp/0',
    peerAddr,
    ports: json<PortLayout[]>(ENV.ports, []),
    params,
    limits: (params.limits ?? {}) as LimitsParams,
    clockOffsetUs: number(ENV.clockOffsetUs),
    clockDriftPpm: number(ENV.clockDriftPpm),
    rv,
    ready,
    done,
    remainingMs: () => Math.max(0, started + timeoutMs - Date.now() - 1500),
    log: (message: string) => { process.stderr.write(`[ts ${role} ${runId}] ${message}\n`) },
    close: () => {
      rv.close()
      doneRv?.close()
    }
  }
}

/** Print one JSON line on stdout (the contract's only use of stdout). */
export function emitLine (line: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(line) + '\n')
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Poll `fn` until it holds; throws after `timeoutMs`. */
export async function waitUntil (fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

/** A typed parameter, or a usage error naming it. */
export function param<T extends number | string | boolean | unknown[]> (ctx: Ctx, name: string, type: 'number' | 'string' | 'boolean' | 'array'): T {
  const v = ctx.params[name]
  const ok = type === 'array' ? Array.isArray(v) : typeof v === type
  if (!ok) throw new UsageError(`SW_PARAMS.${name} must be a ${type}`)
  return v as T
}
