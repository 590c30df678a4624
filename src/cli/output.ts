/**
 * Writing to stdout and stderr: one line per call, JSON (NDJSON) or text, a broken pipe noticed instead
 * of crashing, and a flush before the process exits (pipes are asynchronous in Node: exiting at once
 * would cut buffered lines).
 */
import { sleep } from '../base/abort.ts'

const stdoutBroken = new AbortController()
let installed = false

/** Aborted when stdout's reader has gone away (EPIPE): there is no one left to print for. */
export function stdoutClosed (): AbortSignal {
  install()
  return stdoutBroken.signal
}

function install (): void {
  if (installed) return
  installed = true
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    stdoutBroken.abort(err)
  })
  process.stderr.on('error', () => {})
}

/** Print one line on stdout. */
export function out (line: string): void {
  install()
  if (stdoutBroken.signal.aborted) return
  process.stdout.write(`${line}\n`)
}

/** Print one line on stderr. */
export function err (line: string): void {
  install()
  process.stderr.write(`${line}\n`)
}

/** A line for people, or its JSON object for machines. */
export class Lines {
  readonly json: boolean
  readonly #write: (line: string) => void

  constructor (json: boolean, write: (line: string) => void = out) {
    this.json = json
    this.#write = write
  }

  print (obj: Record<string, unknown>, human: string): void {
    this.#write(this.json ? JSON.stringify(obj) : human)
  }
}

/** Wait until stdout and stderr have handed everything to the operating system (bounded). */
export async function flushStdio (timeoutMs = 30_000): Promise<void> {
  const pending = (): boolean =>
    (process.stdout.writableLength > 0 && !stdoutBroken.signal.aborted && !process.stdout.destroyed) ||
    (process.stderr.writableLength > 0 && !process.stderr.destroyed)
  for (let waited = 0; pending() && waited < timeoutMs; waited += 5) await sleep(5)
}
