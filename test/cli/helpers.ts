/** Running the spikewire CLI as real child processes in tests: every child is killed when the test ends. */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { ExecutionContext } from 'ava'

export const ROOT = resolve(import.meta.dirname, '../..')
const NODE = join(ROOT, 'node_modules/.bin/node')
const MAIN = join(ROOT, 'src/cli/main.ts')

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export class Cli {
  readonly child: ChildProcess
  stdout = ''
  stderr = ''
  readonly exited: Promise<Exit>
  #changed: Array<() => void> = []

  constructor (args: string[]) {
    this.child = spawn(NODE, [MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBUG: process.env.CLI_TEST_DEBUG ?? '' } })
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => { this.stdout += s; this.#notify() })
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => { this.stderr += s; this.#notify() })
    this.exited = new Promise(resolve => {
      this.child.on('close', (code, signal) => { this.#notify(); resolve({ code, signal }) })
    })
  }

  /** Complete stdout lines parsed as JSON. */
  get json (): Array<Record<string, unknown>> {
    return jsonLines(this.stdout)
  }

  get errJson (): Array<Record<string, unknown>> {
    return jsonLines(this.stderr)
  }

  /** Wait until `fn` holds (checked whenever output arrives), or fail after `timeoutMs`. */
  async until (fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (fn()) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nstdout: ${this.stdout.slice(-2000)}\nstderr: ${this.stderr.slice(-2000)}`))
      }, timeoutMs)
      const check = (): void => {
        if (fn()) {
          clearTimeout(timer)
          resolve()
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          clearTimeout(timer)
          reject(new Error(`the process exited while waiting for ${what}\nstdout: ${this.stdout.slice(-2000)}\nstderr: ${this.stderr.slice(-2000)}`))
        } else {
          this.#changed.push(check)
        }
      }
      this.#changed.push(check)
    })
  }

  /** Wait for the exit, or fail after `timeoutMs`. */
  async exit (timeoutMs: number): Promise<Exit> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`no exit within ${timeoutMs} ms\nstdout: ${this.stdout.slice(-2000)}\nstderr: ${this.stderr.slice(-2000)}`)) }, timeoutMs)
    })
    try {
      return await Promise.race([this.exited, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  kill (signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
  }

  #notify (): void {
    const fns = this.#changed
    this.#changed = []
    for (const fn of fns) fn()
  }
}

function jsonLines (text: string): Array<Record<string, unknown>> {
  const lines = text.split('\n')
  lines.pop()
  return lines.filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>)
}

/** Start `spikewire ...args`; the process is killed (SIGKILL) when the test ends. */
export function cli (t: ExecutionContext, args: string[]): Cli {
  const c = new Cli(args)
  t.teardown(async () => {
    c.kill()
    await c.exit(5000).catch(() => {})
  })
  return c
}

/** Run a command to its end (bounded) and return its exit and output. */
export async function run (t: ExecutionContext, args: string[], timeoutMs = 20_000): Promise<Exit & { stdout: string, stderr: string }> {
  const c = cli(t, args)
  const e = await c.exit(timeoutMs)
  return { ...e, stdout: c.stdout, stderr: c.stderr }
}

/** A temporary folder, removed when the test ends. */
export async function tempDir (t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spikewire-cli-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

export async function writeJson (path: string, value: unknown): Promise<string> {
  await writeFile(path, JSON.stringify(value, null, 2))
  return path
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => { resolve(typeof a === 'object' && a !== null ? a.port : 0) })
    })
  })
}

/** A publisher config: one out port driven by a Poisson source, and an in port. */
export function publisherConfig (listen: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'pub',
    identity: 'pub.key',
    listen: [listen],
    ports: [
      { name: 'spikes', direction: 'out', channels: 4, source: { type: 'poisson', rateHz: 200, seed: 7 } },
      { name: 'stim', direction: 'in', kind: 'weighted', channels: 2, model: { name: 'electrode', params: [['gain', 2, 'mV']] } }
    ],
    ...extra
  }
}

/** Start `spikewire node --json` with a config and wait for its "started" line. */
export async function startNode (t: ExecutionContext, configPath: string, timeoutMs = 20_000): Promise<{ proc: Cli, peer: string, addr: string }> {
  const proc = cli(t, ['node', '--json', '--config', configPath])
  await proc.until(() => proc.json.some(l => l.event === 'started'), timeoutMs, 'the node to start')
  const started = proc.json.find(l => l.event === 'started')!
  return { proc, peer: started.peer as string, addr: (started.multiaddrs as string[])[0] }
}
