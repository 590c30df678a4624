/**
 * Regenerates the spikewire test vectors: one JSON file per vector under <area>/, index.json and the
 * vector table of README.md. Deterministic: running it again gives the same bytes.
 *
 *   node interop-tests/vectors/generate.ts            rewrite the files next to this script
 *   node interop-tests/vectors/generate.ts --out DIR  write the same tree into DIR instead
 *
 * The generator builds vectors with cborg and its own LEB128 code, never with src/codec, so that the
 * vectors check the codec instead of copying it.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from './generator/build.ts'
import { AREAS } from './generator/registry.ts'

const here = dirname(fileURLToPath(import.meta.url))

function parseArgs (argv: string[]): string {
  if (argv.length === 0) return here
  if (argv.length === 2 && argv[0] === '--out') return resolve(argv[1])
  throw new Error('usage: node interop-tests/vectors/generate.ts [--out DIR]')
}

const out = parseArgs(process.argv.slice(2))
const files = build(readFileSync(join(here, 'README.md'), 'utf8'))

// Remove vector files that are no longer generated (only *.json inside the area folders).
for (const area of AREAS) {
  const dir = join(out, area)
  mkdirSync(dir, { recursive: true })
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.json') && !files.has(`${area}/${name}`)) rmSync(join(dir, name))
  }
}
for (const [path, content] of files) writeFileSync(join(out, path), content)

const vectors = [...files.keys()].filter((p) => p.includes('/'))
const failures = vectors.filter((p) => p.includes('-fail-'))
console.log(`wrote ${vectors.length} vectors (${failures.length} failures), index.json and README.md to ${out}`)
