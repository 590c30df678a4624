/**
 * SIGINT and SIGTERM for long-running commands: the first asks the command to stop cleanly (close its
 * streams), a second one exits at once.
 */
import { err } from './output.ts'
import { EXIT_FAILURE } from './command.ts'

const SIGNALS = ['SIGINT', 'SIGTERM'] as const

/** Call `stop` on the first SIGINT/SIGTERM; exit with code 1 on the second. Returns a remover. */
export function onStopSignal (command: string, stop: (signal: string) => void): () => void {
  let stopping = false
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      err(`spikewire ${command}: second ${signal}, exiting without closing`)
      process.exit(EXIT_FAILURE)
    }
    stopping = true
    stop(signal)
  }
  for (const s of SIGNALS) process.on(s, handler)
  return () => { for (const s of SIGNALS) process.off(s, handler) }
}
