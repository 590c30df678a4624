/**
 * The quickstart (examples/quickstart): setup.ts writes the two configs, both nodes run through the CLI
 * (`spikewire node --config`), and `spikewire describe` and `spikewire tap` see a neuron that fires.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CLI = join(ROOT, 'src/cli/main.ts')
const SETUP = join(ROOT, 'examples/quickstart/setup.ts')

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise(resolve => server.close(resolve))
  return port
}

async function run (args: string[], timeoutMs = 20_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (b: Buffer) => { stdout += b.toString() })
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** Start `spikewire node --config FILE --json` and wait for its "started" line. */
async function startNode (config: string): Promise<{ child: ChildProcessWithoutNullStreams, started: { peer: string, multiaddrs: string[] } }> {
  const child = spawn(process.execPath, [CLI, 'node', '--config', config, '--json'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  const started = await new Promise<{ peer: string, multiaddrs: string[] }>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no started line from ${config}: ${stderr}`)) }, 15_000)
    child.on('exit', code => { clearTimeout(timer); reject(new Error(`node ${config} exited (${code}): ${stderr}`)) })
    createInterface({ input: child.stdout }).on('line', line => {
      const e = JSON.parse(line) as { event: string, peer: string, multiaddrs: string[] }
      if (e.event === 'started') {
        clearTimeout(timer)
        resolve(e)
      }
    })
  })
  return { child, started }
}

async function stop (child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode
  const exited = new Promise<number | null>(resolve => child.on('exit', resolve))
  child.kill('SIGINT')
  return await exited
}

test('quickstart: a Poisson source pushes into a LIF neuron that fires, seen with describe and tap', async t => {
  t.timeout(60_000)
  const dir = await mkdtemp(join(tmpdir(), 'spikewire-quickstart-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const [port, sourcePort] = [await freePort(), await freePort()]
  const setup = await run([SETUP, '--dir', dir, '--port', String(port), '--source-port', String(sourcePort)])
  t.is(setup.code, 0, setup.stderr)
  const neuronConfig = JSON.parse(await readFile(join(dir, 'neuron.json'), 'utf8')) as { ports: Array<{ name: string, push?: string[] }> }
  const sourceConfig = JSON.parse(await readFile(join(dir, 'source.json'), 'utf8')) as { links: Array<{ to: string }> }

  const neuron = await startNode(join(dir, 'neuron.json'))
  t.teardown(async () => { await stop(neuron.child) })
  const source = await startNode(join(dir, 'source.json'))
  t.teardown(async () => { await stop(source.child) })
  const addr = neuron.started.multiaddrs[0]
  // The identities are the ones setup.ts wrote into the configs.
  t.deepEqual(neuronConfig.ports.find(p => p.name === 'in')?.push, [source.started.peer])
  t.is(sourceConfig.links[0].to, addr)

  const described = await run([CLI, 'describe', addr, '--json'])
  t.is(described.code, 0, described.stderr)
  const d = JSON.parse(described.stdout) as { name: string, ports: Array<{ name: string, direction: string }> }
  t.is(d.name, 'neuron')
  t.deepEqual(d.ports.map(p => `${p.name}:${p.direction}`).sort(), ['in:in', 'spikes:out'])

  const tapped = await run([CLI, 'tap', addr, 'spikes', '--json', '--duration', '3'])
  t.is(tapped.code, 0, tapped.stderr)
  const lines = tapped.stdout.trim().split('\n').map(l => JSON.parse(l) as { summary?: boolean, channel?: number, events?: number, gaps?: number, losses?: number })
  const spikes = lines.filter(l => l.summary !== true)
  const summary = lines.find(l => l.summary === true)
  t.log(`${spikes.length} neuron spikes in 3 s; summary ${JSON.stringify(summary)}`)
  t.true(spikes.length >= 5, 'the neuron fires')
  t.true(spikes.every(s => s.channel === 0))
  t.is(summary?.events, spikes.length)
  t.is(summary?.gaps, 0)
  t.is(summary?.losses, 0)

  t.is(await stop(source.child), 0)
  t.is(await stop(neuron.child), 0)
})
