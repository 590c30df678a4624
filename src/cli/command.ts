/**
 * What every CLI command shares: the command shape, argument parsing with node:util parseArgs, the
 * usage error (exit 2) and the one-line error report on stderr.
 */
import { parseArgs } from 'node:util'
import type { ParseArgsOptionsConfig } from 'node:util'
import { SpikewireBaseError } from '../base/errors.ts'
import { MAX_CHANNELS } from '../codec/constants.ts'

/** Exit codes of every command. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

export interface Command {
  name: string
  /** The full `--help` text. */
  help: string
  /** Run with the arguments after the command name; resolves to the exit code. */
  run: (argv: string[]) => Promise<number>
}

/** The command line is wrong: exit code 2, and a hint to read --help. */
export class UsageError extends SpikewireBaseError<'usage'> {
  override name = 'UsageError'

  constructor (message: string, options?: ErrorOptions) {
    super('usage', message, options)
  }
}

export interface Parsed {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
}

/**
 * Parse `argv` strictly. Returns undefined when `--help` (or `-h`) was given: the help text has then been
 * printed and the command should exit 0.
 */
export function parseCommand (argv: string[], command: { help: string }, options: ParseArgsOptionsConfig, positionals: string[] = []): Parsed | undefined {
  let parsed: Parsed
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: positionals.length > 0,
      strict: true
    }) as Parsed
  } catch (err) {
    if (argv.includes('--help') || argv.includes('-h')) return printHelp(command.help)
    throw new UsageError((err as Error).message.split('\n')[0].split('. ')[0])
  }
  if (parsed.values.help === true) return printHelp(command.help)
  // A last name ending in "..." takes any number of further positionals (e.g. record's MULTIADDR PORT pairs).
  if (positionals.at(-1)?.endsWith('...') === true) positionals = positionals.slice(0, -1)
  else if (parsed.positionals.length > positionals.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals.length])}`)
  }
  if (parsed.positionals.length < positionals.length) {
    throw new UsageError(`missing ${positionals.slice(parsed.positionals.length).join(' ')}`)
  }
  return parsed
}

function printHelp (help: string): undefined {
  process.stdout.write(help.endsWith('\n') ? help : `${help}\n`)
  return undefined
}

/** A string option that must be present. */
export function required (p: Parsed, name: string): string {
  const v = p.values[name]
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`--${name} is required`)
  return v
}

/** A positive number of seconds (e.g. --duration 2.5), or undefined when absent. */
export function seconds (p: Parsed, name: string): number | undefined {
  const v = p.values[name]
  if (v === undefined) return undefined
  const n = Number(v)
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 31_536_000) {
    throw new UsageError(`--${name} must be a positive number of seconds (got ${JSON.stringify(v)})`)
  }
  return n
}

/** A comma-separated channel list ("0,1,5"), sorted and without repeats. */
export function channelList (p: Parsed, name: string): number[] | undefined {
  const v = p.values[name]
  if (typeof v !== 'string') return undefined
  const out = new Set<number>()
  for (const part of v.split(',')) {
    const s = part.trim()
    const n = Number(s)
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n >= MAX_CHANNELS) {
      throw new UsageError(`--${name} must be a comma-separated list of channel numbers (bad entry ${JSON.stringify(part)})`)
    }
    out.add(n)
  }
  return [...out].sort((a, b) => a - b)
}

/** A multiaddr argument: must start with "/" (e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo…). */
export async function multiaddrArg (s: string): Promise<string> {
  if (!s.startsWith('/')) throw new UsageError(`${JSON.stringify(s)} is not a multiaddr (expected /ip4/…/tcp/…/p2p/…)`)
  const { multiaddr } = await import('@multiformats/multiaddr')
  try {
    multiaddr(s)
  } catch (err) {
    throw new UsageError(`${JSON.stringify(s)} is not a valid multiaddr: ${(err as Error).message}`)
  }
  return s
}

/** One line naming the problem: the error class, its stable code when it has one, the message. */
export function describeError (err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as { code?: unknown }).code
  const parts: string[] = []
  if (err.name !== 'Error' && err.name !== '') parts.push(err.name)
  if (typeof code === 'string' && !err.message.includes(code)) parts.push(code)
  let message = err.message
  if (message === '' && err instanceof AggregateError && err.errors.length > 0) message = describeError(err.errors[0])
  if (message === '' && err.cause !== undefined) message = describeError(err.cause)
  const text = parts.length > 0 ? `${parts.join(' ')}: ${message}` : message
  return text.replace(/\s*\n\s*/g, ' ')
}
