/**
 * The node under fuzz: an `out` port fed by a steady emitter (what the witness subscribes to) and an `in`
 * port anyone may push into, whose deliveries are consumed. It runs either in this process (the CI test)
 * or as a child process (the benchmark: a crash of the node is then seen as the child's exit, and the
 * node has a core of its own).
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createNode } from '../../src/hosting/start.ts'
import type { SpikewireNode } from '../../src/node/node.ts'

export const OUT_PORT = 'spikes'
export const IN_PORT = 'stim'
export const CHANNELS = 16

export interface Victim {
  addr: string
  /** Start the emitter (once the witness has subscribed, so that it can expect every event). */
  emit: () => Promise<void>
  /** Events the emitter has emitted so far. */
  emitted: () => Promise<number>
  /** Stop the emitter (the witness then catches up). */
  quiet: () => Promise<void>
  /** Undefined while the node runs; how it ended otherwise. */
  exited: () => string | undefined
  stop: () => Promise<void>
}

/** Start the victim node and its emitter in this process. */
export async function startVictimNode (opts: { eventsPerSec?: number } = {}): Promise<{ node: SpikewireNode, emit: () => void, emitted: () => number, quiet: () => void }> {
  const node = await createNode({
    name: 'fuzz-victim',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    limits: { openTimeoutMs: 2000 },
    ports: [
      { name: OUT_PORT, direction: 'out', channels: CHANNELS },
      { name: IN_PORT, direction: 'in', channels: CHANNELS, push: '*' }
    ]
  })
  // Consume what pushers deliver, as an application would.
  node.inPort(IN_PORT).inbox.onDelivery(() => {})
  const port = node.outPort(OUT_PORT)
  const perTick = Math.max(1, Math.round((opts.eventsPerSec ?? 2000) / 200))
  let emitted = 0
  let last = 0
  let timer: ReturnType<typeof setInterval> | undefined
  const tick = (): void => {
    const t = Math.max(last, Math.round(node.clock.nowUs()))
    last = t
    for (let i = 0; i < perTick; i++) {
      if (port.emit(emitted % CHANNELS, t)) emitted++
    }
  }
  return {
    node,
    emit: () => { timer ??= setInterval(tick, 5) },
    emitted: () => emitted,
    quiet: () => { clearInterval(timer) }
  }
}

export async function inProcessVictim (): Promise<Victim> {
  const v = await startVictimNode()
  return {
    addr: v.node.multiaddrs[0],
    emit: async () => { v.emit() },
    emitted: async () => v.emitted(),
    quiet: async () => { v.quiet() },
    exited: () => undefined,
    stop: async () => { v.quiet(); await v.node.stop() }
  }
}

/** The victim in a child process (victim-child.ts), driven over IPC. */
export async function childVictim (): Promise<Victim> {
  const child: ChildProcess = fork(new URL('./victim-child.ts', import.meta.url), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  let exited: string | undefined
  const waiting = new Map<string, (v: unknown) => void>()
  child.on('message', (m: { reply: string, value: unknown }) => { waiting.get(m.reply)?.(m.value); waiting.delete(m.reply) })
  child.on('exit', (code, signal) => {
    exited = `exit code ${code} signal ${signal}`
    for (const fn of waiting.values()) fn(undefined)
  })
  const ask = async (what: string): Promise<unknown> => await new Promise(resolve => {
    if (exited !== undefined) { resolve(undefined); return }
    waiting.set(what, resolve)
    child.send({ ask: what })
  })
  const addr = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => { reject(new Error('the victim node did not start in 20 s')) }, 20_000)
    waiting.set('addr', v => { clearTimeout(t); if (typeof v === 'string') resolve(v); else reject(new Error(`victim ended: ${exited}`)) })
  })
  return {
    addr,
    emit: async () => { await ask('emit') },
    emitted: async () => Number(await ask('emitted')),
    quiet: async () => { await ask('quiet') },
    exited: () => exited,
    stop: async () => {
      if (exited !== undefined) return
      const done = new Promise(resolve => child.once('exit', resolve))
      child.send({ ask: 'stop' })
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await done
      clearTimeout(t)
    }
  }
}
