/** `spikewire ls` on the command line without a network: its help and its usage errors (exit 2). */
import test from 'ava'
import { run } from '../cli/helpers.ts'

test('spikewire --help lists ls; ls --help describes its options', async t => {
  const top = await run(t, ['--help'])
  t.regex(top.stdout, /^ {2}ls {8}list the spikewire nodes on the LAN/m)
  const r = await run(t, ['ls', '--help'])
  t.is(r.code, 0, r.stderr)
  t.true(r.stdout.startsWith('Usage: spikewire ls'))
  for (const o of ['--json', '--timeout', '--name', '--role', '--port', '--tag', '--relay', '--no-mdns', '_spikewire._udp.local']) t.true(r.stdout.includes(o), `mentions ${o}`)
})

const USAGE: Array<[string[], RegExp]> = [
  [['ls', 'extra'], /Unexpected argument 'extra'/],
  [['ls', '--timeout', '0'], /--timeout must be a positive number of seconds/],
  [['ls', '--timeout', '601'], /--timeout must be at most 600 s/],
  [['ls', '--tag', 'spikewire'], /--tag must look like _name._udp.local/],
  [['ls', '--name', ''], /--name must not be empty/],
  [['ls', '--no-mdns'], /--no-mdns needs at least one --relay/],
  [['ls', '--relay', 'relay.example:4020'], /is not a multiaddr/],
  [['ls', '--relay', '/ip4/1.2.3.4/tcp/1'], /--relay \/ip4\/1\.2\.3\.4\/tcp\/1 must end in \/p2p\/<relay PeerId>/],
  [['ls', '--bogus'], /Unknown option '--bogus'/]
]

for (const [args, pattern] of USAGE) {
  test(`usage error: spikewire ${args.join(' ')}`, async t => {
    const r = await run(t, args)
    t.is(r.code, 2)
    t.regex(r.stderr, pattern)
    t.regex(r.stderr, /see spikewire ls --help/)
    t.is(r.stdout, '')
  })
}
