#!/usr/bin/env node
/**
 * The `spikewire` command line: dispatches to one module per command. Every command has --help;
 * exit codes are 0 (ok), 1 (runtime failure) and 2 (usage error).
 */
import { VERSION } from '../node/version.ts'
import { EXIT_FAILURE, EXIT_USAGE, UsageError, describeError } from './command.ts'
import type { Command } from './command.ts'
import { err, flushStdio, out } from './output.ts'

interface Entry {
  summary: string
  load: () => Promise<{ command: Command }>
}


const COMMANDS: Record<string, Entry> = {
  keygen: { summary: 'create a node identity (Ed25519 key file) and print its PeerId', load: async () => await import('./keygen.ts') },
  node: { summary: 'run a node from a JSON config file', load: async () => await import('./node.ts') },
  describe: { summary: 'print what a remote node is: its ports, kinds, channels and models', load: async () => await import('./describe.ts') },
  tap: { summary: 'subscribe to a remote out port and print its events live', load: async () => await import('./tap.ts') },
  gateway: { summary: 'run a node with a gateway for a legacy format: gateway udp2020 --config FILE', load: async () => await import('./gateway.ts') },
  clock: { summary: 'measure a remote node\'s clock offset ± uncertainty, round trip and drift', load: async () => await import('./clock.ts') },
  record: { summary: 'record remote out ports into an XDF file', load: async () => await import('./record.ts') },
  relay: { summary: 'run a circuit relay that nodes behind NAT reserve on and are reached through', load: async () => await import('./relay.ts') },
  replay: { summary: 'serve the ports of an XDF recording as out ports again, in real time', load: async () => await import('./replay.ts') }
}

const HELP = `Usage: spikewire <command> [options]

Commands:
${Object.entries(COMMANDS).map(([name, e]) => `  ${name.padEnd(10)}${e.summary}`).join('\n')}

Run "spikewire <command> --help" for a command's options.
Output is for people by default; --json prints one JSON object per line.
Exit codes: 0 ok, 1 runtime failure, 2 usage error.

Options:
  -h, --help      show this help
  -v, --version   print the version
`

export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined) {
    err(HELP.trimEnd())
    return EXIT_USAGE
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0] !== undefined && rest[0] in COMMANDS) return await runCommand(rest[0], ['--help'])
    out(HELP.trimEnd())
    return 0
  }
  if (name === '--version' || name === '-v') {
    out(VERSION)
    return 0
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    err(`spikewire: unknown command ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(', ')}; see spikewire --help)`)
    return EXIT_USAGE
  }
  return await runCommand(name, rest)
}

async function runCommand (name: string, argv: string[]): Promise<number> {
  try {
    const { command } = await COMMANDS[name].load()
    return await command.run(argv)
  } catch (e) {
    if (e instanceof UsageError) {
      err(`spikewire ${name}: ${e.message} (see spikewire ${name} --help)`)
      return EXIT_USAGE
    }
    err(`spikewire ${name}: ${describeError(e)}`)
    return EXIT_FAILURE
  }
}

const code = await main(process.argv.slice(2))
await flushStdio()
process.exit(code)
