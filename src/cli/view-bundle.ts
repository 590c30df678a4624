/**
 * The scripts of `spikewire view`, bundled for the browser by esbuild: the page (src/view/page.ts, the main
 * thread: drawing) and its worker (src/view/worker.ts: the libp2p peer). An installed package ships them
 * built, as dist/view/view.js and dist/view/view-worker.js (`npm run build`); in a checkout they are bundled
 * on demand and cached in node_modules/.cache/spikewire/, rebuilt when a source file or the lock file is
 * newer than the cached bundles. Run as a script, it writes both bundles into the directory given (the
 * build does that).
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
/** True when running from the TypeScript sources (a checkout), false from dist/. */
const FROM_SOURCE = import.meta.url.endsWith('.ts')
const ROOT = join(HERE, '../..')
/** The two scripts: the file each is written to, its entry point and its format (the worker is a classic worker). */
const SCRIPTS = {
  page: { file: 'view.js', entry: 'src/view/page.ts', format: 'esm' },
  worker: { file: 'view-worker.js', entry: 'src/view/worker.ts', format: 'iife' }
} as const
type Name = keyof typeof SCRIPTS
/** One cached pair of bundles per checkout (node_modules may be shared between worktrees). */
const CACHE = join(ROOT, 'node_modules/.cache/spikewire', `view-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}`)

export interface ViewBundles {
  page: Uint8Array
  worker: Uint8Array
  /** The files each bundle was made from (paths relative to the repository). */
  inputs: Record<Name, string[]>
}

async function build (name: Name): Promise<{ code: Uint8Array, inputs: string[] }> {
  const esbuild = await import('esbuild')
  const s = SCRIPTS[name]
  const result = await esbuild.build({
    entryPoints: [join(ROOT, s.entry)],
    absWorkingDir: ROOT,
    write: false,
    bundle: true,
    format: s.format,
    // A Node built-in anywhere in the import graph fails the build.
    platform: 'browser',
    target: ['chrome120', 'firefox120', 'safari17'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'error'
  })
  return { code: result.outputFiles[0].contents, inputs: Object.keys(result.metafile.inputs) }
}

/** Both scripts bundled for the browser. */
export async function buildView (): Promise<ViewBundles> {
  const [page, worker] = await Promise.all([build('page'), build('worker')])
  return { page: page.code, worker: worker.code, inputs: { page: page.inputs, worker: worker.inputs } }
}

async function writeAtomic (path: string, data: Uint8Array): Promise<void> {
  // Written aside and renamed, so that a concurrent reader never sees half a bundle.
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, data)
  await rename(tmp, path)
}

/** Bundle both scripts into `dir` (esbuild, a devDependency: present in a checkout, not in an install). */
export async function bundleView (dir: string): Promise<void> {
  const b = await buildView()
  await mkdir(dir, { recursive: true })
  // The worker first: a reader that sees the new page finds its worker.
  await writeAtomic(join(dir, SCRIPTS.worker.file), b.worker)
  await writeAtomic(join(dir, SCRIPTS.page.file), b.page)
}

async function newestMtime (dir: string): Promise<number> {
  let newest = 0
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(e.parentPath, e.name)
    if (e.isDirectory()) newest = Math.max(newest, await newestMtime(p))
    else if (e.isFile()) newest = Math.max(newest, (await stat(p)).mtimeMs)
  }
  return newest
}

async function mtime (path: string): Promise<number> {
  return existsSync(path) ? (await stat(path)).mtimeMs : -1
}

/** The page's and the worker's bytes (bundled first when a checkout's cached bundles are older than its sources). */
export async function viewScripts (): Promise<{ script: Buffer, worker: Buffer }> {
  const dir = FROM_SOURCE ? CACHE : join(HERE, '../view')
  if (FROM_SOURCE) {
    const sources = Math.max(await newestMtime(join(ROOT, 'src')), await mtime(join(ROOT, 'package-lock.json')))
    const cached = Math.min(await mtime(join(dir, SCRIPTS.page.file)), await mtime(join(dir, SCRIPTS.worker.file)))
    if (cached < sources) await bundleView(dir)
  }
  const [script, worker] = await Promise.all([readFile(join(dir, SCRIPTS.page.file)), readFile(join(dir, SCRIPTS.worker.file))])
  return { script, worker }
}

if (import.meta.main) {
  const out = process.argv[2]
  if (out === undefined) {
    process.stderr.write('usage: node src/cli/view-bundle.ts OUTDIR\n')
    process.exit(2)
  }
  await bundleView(out)
}
