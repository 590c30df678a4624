/**
 * The page script of `spikewire view` (src/view/page.ts bundled for the browser by esbuild). An installed
 * package ships it built, as dist/view/view.js (`npm run build`); in a checkout it is bundled on demand and
 * cached in node_modules/.cache/spikewire/, rebuilt when a source file or the lock file is newer than the
 * cached bundle. Run as a script, it writes the bundle to the path given (the build does that).
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
const ENTRY = join(ROOT, 'src/view/page.ts')
/** One cached bundle per checkout (node_modules may be shared between worktrees). */
const CACHE = join(ROOT, 'node_modules/.cache/spikewire', `view-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.js`)

/** The page bundled for the browser, and the files it was made from (paths relative to the repository). */
export async function buildView (): Promise<{ code: Uint8Array, inputs: string[] }> {
  const esbuild = await import('esbuild')
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    absWorkingDir: ROOT,
    write: false,
    bundle: true,
    format: 'esm',
    // A Node built-in anywhere in the page's import graph fails the build.
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

/** Bundle the page into `outfile` (esbuild, a devDependency: present in a checkout, not in an install). */
export async function bundleView (outfile: string): Promise<void> {
  const { code } = await buildView()
  await mkdir(dirname(outfile), { recursive: true })
  // Written aside and renamed, so that a concurrent reader never sees half a bundle.
  const tmp = `${outfile}.${process.pid}.tmp`
  await writeFile(tmp, code)
  await rename(tmp, outfile)
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

/** The page script's bytes, and whether it was bundled just now. */
export async function viewScript (): Promise<{ script: Buffer, bundled: boolean, path: string }> {
  if (!FROM_SOURCE) {
    const path = join(HERE, '../view/view.js')
    return { script: await readFile(path), bundled: false, path }
  }
  const sources = Math.max(await newestMtime(join(ROOT, 'src')), existsSync(join(ROOT, 'package-lock.json')) ? (await stat(join(ROOT, 'package-lock.json'))).mtimeMs : 0)
  const cached = existsSync(CACHE) ? (await stat(CACHE)).mtimeMs : -1
  const bundled = cached < sources
  if (bundled) await bundleView(CACHE)
  return { script: await readFile(CACHE), bundled, path: CACHE }
}

if (import.meta.main) {
  const out = process.argv[2]
  if (out === undefined) {
    process.stderr.write('usage: node src/cli/view-bundle.ts OUTFILE\n')
    process.exit(2)
  }
  await bundleView(out)
}
