/**
 * Runs the cells of the matrix with bounded concurrency. A timing-sensitive scenario (exclusive) runs
 * alone: it waits for the running ones to finish, and nothing starts beside it.
 */
import type { Cell } from './matrix.ts'
import { runOne as runOnce } from './run-one.ts'
import type { RunOptions, RunResult } from './run-one.ts'

/** One cell, with the scenario's retries. */
async function runOne (cell: Cell, options: RunOptions): Promise<RunResult> {
  const earlier: string[] = []
  for (let attempt = 1; ; attempt++) {
    const r = await runOnce(cell, options)
    if (r.status !== 'fail' || attempt > (cell.scenario.retries ?? 0)) {
      if (earlier.length === 0) return r
      const before = earlier.map((e, i) => `attempt ${i + 1}: ${e}`).join('; ')
      return { ...r, reason: r.status === 'pass' ? `passed on attempt ${attempt} (${before})` : `${before}; attempt ${attempt}: ${r.reason}` }
    }
    earlier.push(r.reason)
  }
}

export interface PoolOptions extends RunOptions {
  concurrency: number
  onResult?: (r: RunResult) => void
}

export async function runCells (cells: Cell[], options: PoolOptions): Promise<RunResult[]> {
  const results: RunResult[] = new Array(cells.length)
  const queue = cells.map((cell, index) => ({ cell, index }))
  let running = 0
  let exclusive = false
  const { promise: allDone, resolve } = Promise.withResolvers<void>()
  let remaining = cells.length
  if (remaining === 0) return results

  const finish = (index: number, r: RunResult): void => {
    results[index] = r
    options.onResult?.(r)
    remaining--
    if (remaining === 0) resolve()
  }

  const pump = (): void => {
    while (queue.length > 0 && !exclusive) {
      const next = queue[0]
      if (next.cell.notApplicable !== undefined) {
        queue.shift()
        void runOne(next.cell, options).then(r => { finish(next.index, r) })
        continue
      }
      const alone = next.cell.scenario.exclusive === true
      if (alone && running > 0) return
      if (running >= options.concurrency) return
      queue.shift()
      running++
      if (alone) exclusive = true
      void runOne(next.cell, options)
        .catch((err: unknown): RunResult => ({
          scenario: next.cell.scenario.id,
          dialer: next.cell.dialer.id,
          listener: next.cell.listener.id,
          status: 'fail',
          reason: `the harness failed: ${(err as Error).message}`,
          durationMs: 0
        }))
        .then(r => {
          running--
          if (alone) exclusive = false
          finish(next.index, r)
          pump()
        })
    }
  }
  pump()
  await allDone
  return results
}
