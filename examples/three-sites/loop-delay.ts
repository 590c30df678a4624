/** How late a process's timers run: CPU contention shows here first (perf_hooks event-loop delay). */
import { monitorEventLoopDelay } from 'node:perf_hooks'

export interface LoopDelay {
  p50Ms: number
  p99Ms: number
  maxMs: number
}

/** Start measuring; the returned function reads the percentiles so far. */
export function watchLoopDelay (): () => LoopDelay {
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100
  return () => ({ p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) })
}
