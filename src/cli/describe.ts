/** `spikewire describe`: ask a remote node what it is and print its description. */
import { SpikewireError } from '../codec/errors.ts'
import type { Description } from '../codec/messages.ts'
import { startClient } from './client.ts'
import { EXIT_OK, multiaddrArg, parseCommand, seconds } from './command.ts'
import type { Command } from './command.ts'
import { modelText, table } from './format.ts'
import { out } from './output.ts'

const help = `Usage: spikewire describe MULTIADDR [--json] [--timeout S]

Connect to the node at MULTIADDR (e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...) and print its
description: name, role, software, model, and a table of its ports (name, direction, kind,
channels, model and parameters).

Options:
  --json        print the description object as one JSON line
  --timeout S   give up after S seconds (default 10)
  -h, --help    show this help
`

export const command: Command = {
  name: 'describe',
  help,
  async run (argv) {
    const p = parseCommand(argv, command, { json: { type: 'boolean' }, timeout: { type: 'string' } }, ['MULTIADDR'])
    if (p === undefined) return EXIT_OK
    const target = await multiaddrArg(p.positionals[0])
    const timeoutS = seconds(p, 'timeout') ?? 10
    const node = await startClient('spikewire-describe')
    try {
      const signal = AbortSignal.timeout(timeoutS * 1000)
      let d: Description & { peer: string }
      try {
        d = await node.describe(target, { signal })
      } catch (e) {
        if (signal.aborted) throw new SpikewireError('timeout', `no description from ${target} within ${timeoutS} s`)
        throw e
      }
      if (p.values.json === true) out(JSON.stringify(d))
      else for (const line of describeText(d)) out(line)
    } finally {
      await node.stop()
    }
    return EXIT_OK
  }
}

/** The description as lines for people. */
export function describeText (d: Description & { peer?: string }): string[] {
  const head: string[][] = [['name', d.name], ['role', d.role]]
  if (d.peer !== undefined && d.peer !== '') head.push(['peer', d.peer])
  head.push(['software', d.software])
  if (d.model !== undefined) head.push(['model', modelText(d.model)])
  if (d.protocols !== undefined) head.push(['protocols', d.protocols.join(' ')])
  const ports = d.ports.length === 0
    ? ['(no ports)']
    : table([['PORT', 'DIR', 'KIND', 'CHANNELS', 'MODEL'], ...d.ports.map(q => [q.name, q.direction, q.kind, String(q.channels), modelText(q.model)])])
  return [...table(head), '', ...ports]
}
