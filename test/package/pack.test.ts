/**
 * The package as a library user gets it. `npm pack` builds dist/ from a clean state; the tarball holds the
 * library, its type declarations, the CLI and the spec, and no tests, benchmarks, examples or interop
 * suites. Installed into a temporary project, it runs a two-node exchange and a delivery thread
 * (fixtures/exchange.mjs), type-checks a consumer file against its declarations, and answers
 * `spikewire --help` from its bin.
 *
 * Everything runs as real child processes under the Node that runs the tests (the repository's Node 24):
 * npm and the bin find it first on PATH, so the temporary project needs no `node` package. npm installs
 * with --prefer-offline: packages already in the npm cache (`npm ci` puts them there) are not fetched
 * again; anything missing comes from the registry. A whole run takes tens of seconds, minutes on a busy
 * machine.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * The environment for child processes: the running Node first on PATH, and none of the npm_* variables
 * an enclosing `npm test` sets (npm_config_local_prefix would point npm at the repository) except the
 * cache location.
 */
function childEnv (): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) || k.toLowerCase() === 'npm_config_cache') env[k] = v
  }
  env.PATH = [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter)
  env.DEBUG = ''
  return env
}

/** Run a command to its end; killed after `timeoutMs`. Throws with its output unless it exits 0. */
async function run (cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  const child = spawn(cmd, args, { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, timeoutMs)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (c, s) => { resolve([c, s]) })
  }).finally(() => { clearTimeout(timer) })
  const result = { code, signal, stdout, stderr }
  if (code !== 0) {
    const why = timedOut ? `was killed after ${timeoutMs} ms` : `exited with ${code ?? signal}`
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) ${why}\nstdout: ${stdout.slice(-3000)}\nstderr: ${stderr.slice(-3000)}`)
  }
  return result
}

/** The last non-empty line of `text`, parsed as JSON. */
function lastJson<T> (text: string): T {
  const lines = text.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]) as T
}

const CONSUMER_TS = `import { createNode, DeliveryThread, SpikewireNode } from 'spikewire'
import type { Delivery, NodeConfig } from 'spikewire'

const config: NodeConfig = { name: 'typed', ports: [{ name: 'spikes', direction: 'out', channels: 2 }] }
const node: SpikewireNode = await createNode(config)
node.subscribe(node.multiaddrs[0], 'spikes').onBatch((d: Delivery) => {
  const count: number = d.batch.count
  const first: number = d.batch.channels[0]
  void count
  void first
})
const accepted: boolean = node.outPort('spikes').emit(1, Math.round(node.clock.nowUs()))
void accepted
void DeliveryThread
// @ts-expect-error: emit takes a channel and a time (an unused directive fails if the types are missing).
node.outPort('spikes').emit('one')
await node.stop()
`

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2024',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2024'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules/@types')]
  },
  files: ['consumer.ts']
}

test('the packed tarball installs into a new project and works there', async t => {
  t.timeout(600_000)
  const started = Date.now()
  const tmp = await mkdtemp(join(tmpdir(), 'spikewire-pack-'))
  const dist = join(ROOT, 'dist')
  const hadDist = existsSync(dist)
  t.teardown(async () => {
    await rm(tmp, { recursive: true, force: true })
    // Without a dist/, bin/spikewire.js in the repository runs the sources: leave it as it was found.
    if (!hadDist) await rm(dist, { recursive: true, force: true })
  })

  // A file from an earlier build must not reach the tarball: the build starts from an empty dist/.
  const stale = 'dist/stale-from-an-earlier-build.js'
  await mkdir(dist, { recursive: true })
  await writeFile(join(ROOT, stale), 'export {}\n')

  // `npm pack` runs prepack (the build). Its --json listing is the one `npm pack --dry-run` prints.
  const pack = await run('npm', ['pack', '--json', '--pack-destination', tmp], ROOT, 240_000)
  const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string, files: Array<{ path: string }>, size: number, entryCount: number }>
  const files = info.files.map(f => f.path)
  t.log(`tarball: ${info.entryCount} files, ${Math.round(info.size / 1024)} KiB`)

  for (const dir of ['test/', 'bench/', 'interop-tests/', 'examples/', 'src/', '.ci/', 'eslint/', 'dist/netem/']) {
    t.deepEqual(files.filter(f => f.startsWith(dir)), [], `nothing under ${dir}`)
  }
  t.deepEqual(files.filter(f => /\.test\.|tsconfig|tsbuildinfo/.test(f)), [], 'no test files or build configs')
  t.false(files.includes(stale), 'no file from an earlier build')
  const required = ['package.json', 'README.md', 'bin/spikewire.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js',
    'dist/timing/delivery-worker.js', 'spec/spikewire.md', 'spec/spikewire.cddl', 'schema/node-config.schema.json', 'docs/config.md',
    'dist/view/view.js', 'dist/view/view-worker.js']
  if (existsSync(join(ROOT, 'LICENSE'))) required.push('LICENSE')
  for (const f of required) t.true(files.includes(f), `the tarball has ${f}`)
  // dist/view/view.js and view-worker.js are the browser bundles of `spikewire view`'s page, not modules to import.
  const bundles = ['dist/view/view.js', 'dist/view/view-worker.js']
  const untyped = files.filter(f => f.startsWith('dist/') && f.endsWith('.js') && !bundles.includes(f) && !files.includes(f.replace(/\.js$/, '.d.ts')))
  t.deepEqual(untyped, [], 'every module in dist/ has its .d.ts')

  // A new project that installs the tarball: only the package's dependencies come with it.
  const project = join(tmp, 'project')
  await mkdir(project)
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'spikewire-consumer', private: true, type: 'module' }, null, 2) + '\n')
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(tmp, info.filename)], project, 300_000)
  const installed = JSON.parse(await readFile(join(project, 'node_modules/spikewire/package.json'), 'utf8')) as { version: string, devDependencies: Record<string, string> }
  const root = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }
  t.is(installed.version, root.version)
  // A devDependency may be present only because a runtime dependency needs it too (@types/node through
  // @libp2p/mdns's types, dns-packet through multicast-dns): then it is no devDependency of the consumer.
  const neededAtRuntime = await runtimeNames(join(project, 'node_modules'))
  const devInstalled = Object.keys(installed.devDependencies)
    .filter(d => existsSync(join(project, 'node_modules', d)) && !neededAtRuntime.has(d))
  t.deepEqual(devInstalled, [], 'no devDependency is installed, so none is needed below')

  // Two nodes over TCP on 127.0.0.1 and a delivery thread, from the installed package.
  await copyFile(join(FIXTURES, 'exchange.mjs'), join(project, 'exchange.mjs'))
  const exchange = await run(process.execPath, ['exchange.mjs'], project, 120_000)
  const result = lastJson<{ sent: number[][], received: number[][], delivered: number[], multiaddr: string }>(exchange.stdout)
  t.deepEqual(result.received, result.sent, 'every spike arrived with its channel and time')
  t.deepEqual(result.delivered, result.sent.map(([channel]) => channel), 'the delivery thread delivered each one')
  t.regex(result.multiaddr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)

  // The declarations resolve for a TypeScript consumer (NodeNext resolution through the exports map).
  await writeFile(join(project, 'consumer.ts'), CONSUMER_TS)
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG, null, 2) + '\n')
  await run(process.execPath, [TSC, '-p', 'tsconfig.json'], project, 120_000)

  // The bin, linked by npm, run through its shebang (`env node` finds the running Node first on PATH).
  const help = await run(join(project, 'node_modules/.bin/spikewire'), ['--help'], project, 60_000)
  t.regex(help.stdout, /^Usage: spikewire <command>/)
  for (const command of ['keygen', 'node', 'describe', 'tap', 'clock']) t.regex(help.stdout, new RegExp(`^ {2}${command} `, 'm'))
  const version = await run(join(project, 'node_modules/.bin/spikewire'), ['--version'], project, 60_000)
  t.true(version.stdout.includes(root.version), `--version prints ${root.version}`)

  t.log(`pack, install, exchange, type check and bin: ${((Date.now() - started) / 1000).toFixed(1)} s`)
})

/** Names every installed package other than spikewire lists in its `dependencies`, nested trees included. */
async function runtimeNames (modules: string, names = new Set<string>()): Promise<Set<string>> {
  const dirs: string[] = []
  for (const entry of await readdir(modules, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    if (entry.name.startsWith('@')) {
      for (const sub of await readdir(join(modules, entry.name), { withFileTypes: true })) {
        if (sub.isDirectory()) dirs.push(join(modules, entry.name, sub.name))
      }
    } else if (entry.name !== 'spikewire') dirs.push(join(modules, entry.name))
  }
  for (const dir of dirs) {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8').catch(() => '{}')) as { dependencies?: Record<string, string> }
    for (const name of Object.keys(pkg.dependencies ?? {})) names.add(name)
    if (existsSync(join(dir, 'node_modules'))) await runtimeNames(join(dir, 'node_modules'), names)
  }
  return names
}
