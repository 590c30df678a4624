import test from 'ava'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOT, run, tempDir } from './helpers.ts'

test('spikewire --help lists every command and exits 0', async t => {
  const r = await run(t, ['--help'])
  t.is(r.code, 0)
  for (const name of ['keygen', 'node', 'describe', 'tap', 'clock', 'gateway']) t.regex(r.stdout, new RegExp(`^  ${name} `, 'm'))
})

const OPTIONS: Record<string, string[]> = {
  keygen: ['--out', '--json'],
  node: ['--config', '--json', '--stats'],
  describe: ['MULTIADDR', '--json', '--timeout'],
  tap: ['MULTIADDR', 'PORT', '--json', '--duration', '--channels', '--quiet', '--max-backoff', '--playout', '--late'],
  clock: ['MULTIADDR', '--json', '--duration'],
  gateway: ['udp2020', '--config', '--json', '--stats']
}

for (const [name, options] of Object.entries(OPTIONS)) {
  test(`spikewire ${name} --help describes its options and exits 0`, async t => {
    const r = await run(t, [name, '--help'])
    t.is(r.code, 0, r.stderr)
    t.true(r.stdout.startsWith(`Usage: spikewire ${name}`))
    for (const o of options) t.true(r.stdout.includes(o), `${name} --help mentions ${o}`)
    t.is(r.stderr, '')
  })
}

const USAGE_ERRORS: Array<[string[], RegExp]> = [
  [[], /Usage: spikewire <command>/],
  [['frob'], /unknown command "frob"/],
  [['keygen'], /--out is required/],
  [['node'], /--config is required/],
  [['gateway'], /missing KIND/],
  [['gateway', 'udp2021', '--config', 'x.json'], /unknown gateway "udp2021"/],
  [['gateway', 'udp2020'], /--config is required/],
  [['node', '--config', 'x.json', '--stats', 'soon'], /--stats must be a positive number/],
  [['describe'], /missing MULTIADDR/],
  [['describe', 'localhost:4001'], /is not a multiaddr/],
  [['tap', '/ip4/127.0.0.1/tcp/1'], /missing PORT/],
  [['tap', '/ip4/127.0.0.1/tcp/1', 'spikes', '--channels', '1,x'], /--channels must be/],
  [['tap', '/ip4/127.0.0.1/tcp/1', 'Bad Port'], /is not a port name/],
  [['tap', '/ip4/127.0.0.1/tcp/1', 'spikes', '--bogus'], /Unknown option '--bogus'/],
  [['tap', '/ip4/127.0.0.1/tcp/1', 'spikes', '--playout', 'fixed'], /--playout must be fixed:MS, adaptive or synaptic:MS/],
  [['tap', '/ip4/127.0.0.1/tcp/1', 'spikes', '--playout', 'fixed:-3'], /--playout must be/],
  [['tap', '/ip4/127.0.0.1/tcp/1', 'spikes', '--playout', 'fixed:90000'], /at most 60000 ms/],
  [['tap', '/ip4/127.0.0.1/tcp/1', 'spikes', '--late', 'drop'], /--late applies to --playout/],
  [['tap', '/ip4/127.0.0.1/tcp/1', 'spikes', '--playout', 'adaptive', '--late', 'later'], /--late must be deliver or drop/],
  [['describe', '/ip4/127.0.0.1/tcp/1', 'extra'], /unexpected argument "extra"/]
]

test('usage errors exit 2 with one line naming the problem', async t => {
  const queue = [...USAGE_ERRORS]
  await Promise.all([1, 2, 3].map(async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [args, pattern] = next
      const r = await run(t, args)
      t.is(r.code, 2, `spikewire ${args.join(' ')}`)
      t.regex(r.stderr, pattern)
      if (args.length > 0) t.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr)
    }
  }))
})

test('keygen writes a mode 0600 key, prints its PeerId, and refuses to overwrite it', async t => {
  const dir = await tempDir(t)
  const file = join(dir, 'node.key')
  const first = await run(t, ['keygen', '--out', file, '--json'])
  t.is(first.code, 0, first.stderr)
  const { peer, file: written } = JSON.parse(first.stdout) as { peer: string, file: string }
  t.regex(peer, /^12D3KooW[1-9A-HJ-NP-Za-km-z]+$/)
  t.is(written, file)
  t.is((await stat(file)).mode & 0o777, 0o600)

  const again = await run(t, ['keygen', '--out', file])
  t.is(again.code, 1)
  t.regex(again.stderr, /^spikewire keygen: ConfigError key-exists: .* exists already/)
  t.is(again.stdout, '')

  const human = await run(t, ['keygen', '--out', join(dir, 'other.key')])
  t.is(human.code, 0)
  t.regex(human.stdout, /^12D3KooW\w+\n$/)
  t.not(human.stdout.trim(), peer)
})


test('bin/spikewire.js runs the CLI, and names the Node version it needs on an old Node', async t => {
  const launcher = join(ROOT, 'bin/spikewire.js')
  const ok = await runNode(join(ROOT, 'node_modules/.bin/node'), [launcher, '--version'])
  t.is(ok.code, 0, ok.stderr)
  t.regex(ok.stdout, /^\d+\.\d+\.\d+\n$/)
  // A system Node older than 22.18, when the machine has one, must get the clear message.
  const old = '/usr/bin/node'
  if (!existsSync(old)) return
  const version = (await runNode(old, ['-p', 'process.versions.node'])).stdout.trim()
  const [major, minor] = version.split('.').map(Number)
  if (major > 22 || (major === 22 && minor >= 18)) return
  const r = await runNode(old, [launcher, '--help'])
  t.is(r.code, 1)
  t.is(r.stderr, `spikewire needs Node >= 22.18 (found v${version})\n`)
})

async function runNode (node: string, args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await new Promise((resolve, reject) => {
    execFile(node, args, { cwd: ROOT, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') reject(err)
      else resolve({ code: err === null ? 0 : err.code as number, stdout, stderr })
    })
  })
}
