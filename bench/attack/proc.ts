/**
 * Measures of another process read from /proc (Linux): its resident memory and the CPU time it has used,
 * so that the target's figures are its own and need no answer from it while it is under attack.
 */
import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100

/** Resident set size of process `pid`, MB (MiB); NaN when it cannot be read. */
export function rssMB (pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? NaN : Number(m[1]) / 1024
  } catch {
    return NaN
  }
}

/** CPU time (user + system) process `pid` has used, s; NaN when it cannot be read. */
export function cpuSeconds (pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces), counted from field 3: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S
  } catch {
    return NaN
  }
}

/** Samples a process's RSS every `periodMs` and keeps the peak; CPU use over the whole span. */
export class ProcessMeter {
  readonly pid: number
  readonly #periodMs: number
  #timer: ReturnType<typeof setInterval> | undefined
  #peak = 0
  #cpu0 = 0
  #t0 = 0

  constructor (pid: number, periodMs = 100) {
    this.pid = pid
    this.#periodMs = periodMs
  }

  start (): void {
    this.#peak = rssMB(this.pid)
    this.#cpu0 = cpuSeconds(this.pid)
    this.#t0 = performance.now()
    this.#timer = setInterval(() => { this.#peak = Math.max(this.#peak, rssMB(this.pid)) }, this.#periodMs)
    this.#timer.unref?.()
  }

  /** Peak RSS, MB, and CPU use since start, percent of one core. */
  stop (): { peakMB: number, cpuPct: number } {
    clearInterval(this.#timer)
    const peakMB = Math.max(this.#peak, rssMB(this.pid))
    const s = (performance.now() - this.#t0) / 1000
    return { peakMB, cpuPct: s > 0 ? 100 * (cpuSeconds(this.pid) - this.#cpu0) / s : 0 }
  }
}
