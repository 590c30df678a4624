/**
 * A site process seen from the orchestrator: commands go to its stdin as JSON lines, its JSON-line events
 * are queued and awaited, its stderr is passed through with the site's name in front.
 */
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { SiteName } from './params.ts'

export interface SiteEvent {
  event: string
  site: SiteName
  [key: string]: unknown
}

interface Waiter {
  match: (e: SiteEvent) => boolean
  resolve: (e: SiteEvent) => void
  reject: (err: Error) => void
  timer: ReturnType<typeof setTimeout>
}

export class SiteProcess {
  readonly name: SiteName
  readonly child: ChildProcessWithoutNullStreams
  readonly exited: Promise<number | null>
  #backlog: SiteEvent[] = []
  #waiters = new Set<Waiter>()
  #stderrTail: string[] = []
  #exitCode: number | null | undefined

  /**
   * `options.wrap`: a command the site runs under, e.g. `['ip', 'netns', 'exec', NS]` to run it inside a
   * network namespace (examples/nat).
   */
  constructor (name: SiteName, script: string, args: string[], options: { verbose: boolean, wrap?: string[] }) {
    this.name = name
    const command = [...(options.wrap ?? []), process.execPath, script, '--site', name, ...args]
    this.child = spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
    createInterface({ input: this.child.stdout }).on('line', line => { this.#onLine(line) })
    createInterface({ input: this.child.stderr }).on('line', line => {
      this.#stderrTail.push(line)
      if (this.#stderrTail.length > 20) this.#stderrTail.shift()
      if (options.verbose) process.stderr.write(`[${name}] ${line}\n`)
    })
    this.child.stdin.on('error', () => {})
    this.exited = new Promise(resolve => {
      this.child.on('exit', code => {
        this.#exitCode = code
        for (const w of this.#waiters) {
          clearTimeout(w.timer)
          w.reject(new Error(`site ${name} exited (code ${code}) while waiting; its last stderr lines:\n${this.#stderrTail.join('\n')}`))
        }
        this.#waiters.clear()
        resolve(code)
      })
    })
  }

  send (cmd: Record<string, unknown>): void {
    if (this.#exitCode === undefined) this.child.stdin.write(JSON.stringify(cmd) + '\n')
  }

  /** The next event (first from the backlog) for which `match` holds. */
  async next (match: (e: SiteEvent) => boolean, timeoutMs: number, what: string): Promise<SiteEvent> {
    const i = this.#backlog.findIndex(match)
    if (i >= 0) return this.#backlog.splice(i, 1)[0]
    if (this.#exitCode !== undefined) throw new Error(`site ${this.name} has exited (code ${this.#exitCode}); no ${what}`)
    return await new Promise((resolve, reject) => {
      const w: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(w)
          reject(new Error(`site ${this.name}: no ${what} within ${timeoutMs} ms; its last stderr lines:\n${this.#stderrTail.join('\n')}`))
        }, timeoutMs)
      }
      this.#waiters.add(w)
    })
  }

  /** Send a command and wait for the event that answers it. */
  async request (cmd: Record<string, unknown>, event: string, timeoutMs = 5000): Promise<SiteEvent> {
    this.#backlog = this.#backlog.filter(e => e.event !== event)
    this.send(cmd)
    return await this.next(e => e.event === event, timeoutMs, `${event} event`)
  }

  /** Events of one kind received so far (and removed from the backlog). */
  take (event: string): SiteEvent[] {
    const out = this.#backlog.filter(e => e.event === event)
    this.#backlog = this.#backlog.filter(e => e.event !== event)
    return out
  }

  /** Ask the site to stop; kill it if it has not exited after `graceMs`. */
  async stop (graceMs = 5000): Promise<void> {
    if (this.#exitCode !== undefined) return
    this.send({ cmd: 'stop' })
    const timer = setTimeout(() => { this.child.kill('SIGKILL') }, graceMs)
    await this.exited
    clearTimeout(timer)
  }

  #onLine (line: string): void {
    let e: SiteEvent
    try {
      e = JSON.parse(line) as SiteEvent
    } catch {
      process.stderr.write(`[${this.name}] (not JSON) ${line}\n`)
      return
    }
    for (const w of this.#waiters) {
      if (w.match(e)) {
        clearTimeout(w.timer)
        this.#waiters.delete(w)
        w.resolve(e)
        return
      }
    }
    this.#backlog.push(e)
  }
}
