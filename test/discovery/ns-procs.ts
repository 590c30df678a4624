/**
 * Processes inside the test namespaces of test/helpers/netns.ts: the spikewire CLI and the fixtures, their
 * output collected, waited for with deadlines. The topology's destroy() kills whatever is still running.
 */
import type { ChildProcess } from 'node:child_process'
import { join, resolve } from 'node:path'
import type { Topology } from '../helpers/netns.ts'
import type { ListedNode } from '../../src/cli/ls.ts'

export const ROOT = resolve(import.meta.dirname, '../..')
const MAIN = join(ROOT, 'src/cli/main.ts')
export const FIXTURES = join(import.meta.dirname, 'fixtures')

export class NsProc {
  readonly child: ChildProcess
  stdout = ''
  stderr = ''
  readonly exited: Promise<number | null>
  #waiters: Array<() => void> = []

  constructor (topo: Topology, ns: string, args: string[]) {
    this.child = topo.execNode(ns, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, DEBUG: '' } })
    this.child.stdout?.setEncoding('utf8').on('data', (s: string) => { this.stdout += s; this.#notify() })
    this.child.stderr?.setEncoding('utf8').on('data', (s: string) => { this.stderr += s; this.#notify() })
    this.exited = new Promise(resolve => { this.child.on('close', code => { this.#notify(); resolve(code) }) })
  }

  #notify (): void {
    for (const w of this.#waiters.splice(0)) w()
  }

  get json (): Array<Record<string, unknown>> {
    return this.stdout.split('\n').slice(0, -1).filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>)
  }

  /** Wait until `ok()` holds; throws after `ms` (with the output so far) or when the process exits first. */
  async until (ok: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms
    let exited = false
    void this.exited.then(() => { exited = true })
    while (!ok()) {
      if (exited) throw new Error(`exited before ${what}; stderr: ${this.stderr.slice(-2000)}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms; stdout: ${this.stdout.slice(-1000)} stderr: ${this.stderr.slice(-2000)}`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, Math.min(left, 200))
        this.#waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  async exit (ms: number): Promise<number | null> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`still running after ${ms} ms; stderr: ${this.stderr.slice(-2000)}`)) }, ms) })
    try {
      return await Promise.race([this.exited, late])
    } finally {
      clearTimeout(timer)
    }
  }

  kill (): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM')
  }
}

/** `spikewire ...args` in `ns`. */
export function cliIn (topo: Topology, ns: string, args: string[]): NsProc {
  return new NsProc(topo, ns, [MAIN, ...args])
}

/** `spikewire node --json --config FILE` in `ns`, once it has started. */
export async function nodeIn (topo: Topology, ns: string, config: string): Promise<{ proc: NsProc, peer: string, addrs: string[] }> {
  const proc = cliIn(topo, ns, ['node', '--json', '--config', config])
  await proc.until(() => proc.json.some(l => l.event === 'started'), 20_000, 'started line')
  const started = proc.json.find(l => l.event === 'started') as { peer: string, multiaddrs: string[] }
  return { proc, peer: started.peer, addrs: started.multiaddrs }
}

/** `spikewire ls --json ...args` in `ns` to its end: exit code, nodes listed, stderr and how long it took. */
export async function lsIn (topo: Topology, ns: string, args: string[], ms = 30_000): Promise<{ code: number | null, nodes: ListedNode[], stderr: string, ms: number }> {
  const t0 = Date.now()
  const proc = cliIn(topo, ns, ['ls', '--json', ...args])
  const code = await proc.exit(ms)
  return { code, nodes: proc.json as unknown as ListedNode[], stderr: proc.stderr, ms: Date.now() - t0 }
}

/** The watch fixture in `ns` with these nodes (NodeInit objects), once started. */
export async function watchIn (topo: Topology, ns: string, inits: unknown[]): Promise<{ proc: NsProc, started: Array<{ name: string, peer: string, addrs: string[] }>, report: () => Promise<WatchReport[]> }> {
  const proc = new NsProc(topo, ns, [join(FIXTURES, 'watch.ts'), JSON.stringify(inits)])
  await proc.until(() => proc.json.some(l => 'started' in l), 20_000, 'started line')
  const started = proc.json.find(l => 'started' in l)!.started as Array<{ name: string, peer: string, addrs: string[] }>
  const report = async (): Promise<WatchReport[]> => {
    const before = proc.json.filter(l => 'report' in l).length
    proc.child.stdin?.write('report\n')
    await proc.until(() => proc.json.filter(l => 'report' in l).length > before, 20_000, 'report line')
    return proc.json.filter(l => 'report' in l).at(-1)!.report as WatchReport[]
  }
  return { proc, started, report }
}

export interface WatchReport {
  name: string
  peer: string
  discovered: Array<{ peer: string, addresses: string[] }>
  discovery?: { peers: number, announcements: number, evicted: number, expired: number, answered: number, unanswered: number }
  connections: number
  heapUsed: number
}
