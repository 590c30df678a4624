/** `spikewire keygen`: create a node identity (an Ed25519 key file, mode 0600) and print its PeerId. */
import { peerIdOf, writeNewKey } from '../node/identity.ts'
import { EXIT_OK, parseCommand, required } from './command.ts'
import type { Command } from './command.ts'
import { Lines, err } from './output.ts'

const help = `Usage: spikewire keygen --out FILE [--json]

Create a new Ed25519 node identity in FILE (mode 0600) and print its PeerId.
An existing FILE is never overwritten.

Options:
  --out FILE   where to write the key (libp2p protobuf encoding); required
  --json       print {"peer": ..., "file": ...} instead of the bare PeerId
  -h, --help   show this help

Use the file as "identity" in a node config to keep the PeerId across restarts.
`

export const command: Command = {
  name: 'keygen',
  help,
  async run (argv) {
    const p = parseCommand(argv, command, { out: { type: 'string' }, json: { type: 'boolean' } })
    if (p === undefined) return EXIT_OK
    const file = required(p, 'out')
    const key = await writeNewKey(file)
    const peer = peerIdOf(key)
    new Lines(p.values.json === true).print({ peer, file }, peer)
    if (p.values.json !== true) err(`wrote ${file} (mode 0600)`)
    return EXIT_OK
  }
}
