/**
 * The plumbing the benchmarks share to run one side in a child process: the parent sends JSON-line
 * commands on the child's stdin and reads JSON-line answers on its stdout (`{ id, result }` or
 * `{ id, error }`); the child serves a table of command handlers, each command concurrently.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface Command {
  id: number
  cmd: string
  [key: string]: unknown
}

/** A child process running `script` (a path), driven by JSON-line commands. */
export class ChildRpc {
  readonly child: ChildProcess
  readonly #pending = new Map<number, PromiseWithResolvers<unknown>>()
  readonly #timeoutMs: number
  #next = 0

  constructor (script: string, timeoutMs: number) {
    this.#timeoutMs = timeoutMs
    this.child = spawn(process.execPath, [...process.execArgv, script], { stdio: ['pipe', 'pipe', 'inherit'] })
    createInterface({ input: this.child.stdout! }).on('line', line => {
      const m = JSON.parse(line) as { id: number, result?: unknown, error?: string }
      const p = this.#pending.get(m.id)
      this.#pending.delete(m.id)
      if (m.error !== undefined) p?.reject(new Error(`child: ${m.error}`))
      else p?.resolve(m.result)
    })
    this.child.on('exit', code => {
      for (const p of this.#pending.values()) p.reject(new Error(`child exited with ${String(code)}`))
      this.#pending.clear()
    })
  }

  async call<T = unknown> (cmd: string, a: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++
    const p = Promise.withResolvers<unknown>()
    this.#pending.set(id, p)
    this.child.stdin!.write(JSON.stringify({ id, cmd, ...a }) + '\n')
    const timer = setTimeout(() => { p.reject(new Error(`child did not answer ${cmd} within ${this.#timeoutMs} ms`)) }, this.#timeoutMs)
    try {
      return (await p.promise) as T
    } finally {
      clearTimeout(timer)
    }
  }

  async exit (): Promise<void> {
    if (this.child.exitCode !== null) return
    const gone = new Promise(resolve => this.child.once('exit', resolve))
    await this.call('exit').catch(() => {})
    await gone
  }
}

/** In the child: answer commands from stdin with `handlers` until stdin ends. */
export async function serveCommands (handlers: Record<string, (c: Command) => Promise<unknown>>): Promise<void> {
  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) {
    if (line.trim() === '') continue
    const c = JSON.parse(line) as Command
    const h = handlers[c.cmd]
    // Commands run concurrently: a collect may wait while nothing else is asked.
    void (async () => {
      try {
        if (h === undefined) throw new Error(`unknown command ${c.cmd}`)
        process.stdout.write(JSON.stringify({ id: c.id, result: await h(c) ?? null }) + '\n')
      } catch (err) {
        process.stdout.write(JSON.stringify({ id: c.id, error: String((err as Error).stack ?? err) }) + '\n')
      }
    })()
  }
}
