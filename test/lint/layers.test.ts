/**
 * The layer rule (eslint/layers.js) is the referee of src/'s structure: these tests prove that it bites on
 * an upward import, that the tree passes it, and that the folders form no import cycle.
 */
import test from 'ava'
import { ESLint } from 'eslint'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { LAYERS, PROTOCOLS, SIDE, layerOf, violation } from '../../eslint/layers.js'

const ROOT = join(import.meta.dirname, '..', '..')
const SRC = join(ROOT, 'src')

async function lint (file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT })
  const [r] = await eslint.lintText(code, { filePath: join(ROOT, file) })
  return r.messages.filter(m => m.ruleId === 'spikewire/layers').map(m => m.message)
}

test('an upward import fails lint, naming both layers', async t => {
  const up = await lint('src/codec/probe.ts', "import { createNode } from '../hosting/start.ts'\nexport const x = createNode\n")
  t.is(up.length, 1)
  t.regex(up[0], /^codec may not import hosting: layers import downward only/)
  const dynamic = await lint('src/wire/probe.ts', "export const load = async () => await import('../node/node.ts')\n")
  t.regex(dynamic[0] ?? '', /^wire may not import node/)
  const reexport = await lint('src/ports/probe.ts', "export { Playout } from '../timing/compensate.ts'\n")
  t.regex(reexport[0] ?? '', /^ports may not import timing/)
})

test('downward and same-layer imports pass; side layers take the base only', async t => {
  t.deepEqual(await lint('src/node/probe.ts', "import { FramedStream } from '../wire/framed.ts'\nimport { Playout } from '../timing/compensate.ts'\nexport const x = [FramedStream, Playout]\n"), [])
  t.deepEqual(await lint('src/models/probe.ts', "import type { Clock } from '../base/clock.ts'\nexport type X = Clock\n"), [])
  t.regex((await lint('src/models/probe.ts', "import { FramedStream } from '../wire/framed.ts'\nexport const x = FramedStream\n"))[0] ?? '', /^models is a side layer/)
  t.regex((await lint('src/node/probe.ts', "import { lif } from '../models/lif.ts'\nexport const x = lif\n"))[0] ?? '', /^node may not import models/)
  t.regex((await lint('src/protocols/clock/probe.ts', "import { Subscription } from '../events/subscription.ts'\nexport const x = Subscription\n"))[0] ?? '', /^protocols\/clock may not import protocols\/events/)
})

/** Every relative import in src/, as [from file, to file]. */
function imports (): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (p.endsWith('.ts')) {
        const text = readFileSync(p, 'utf8')
        for (const m of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) out.push([p, resolve(dirname(p), m[1])])
      }
    }
  }
  walk(SRC)
  return out
}

test('every folder of src/ is a known layer and the tree obeys the rule', t => {
  const known = new Set([...LAYERS, ...Object.keys(SIDE), ...PROTOCOLS.map(p => `protocols/${p}`)])
  const edges = imports()
  t.true(edges.length > 100, 'the walk found the imports')
  for (const [from, to] of edges) {
    const a = layerOf(SRC, from)
    const b = layerOf(SRC, to)
    if (a !== undefined) t.true(known.has(a), `${relative(ROOT, from)} is in unknown layer ${a}`)
    t.is(violation(a, b), undefined, `${relative(ROOT, from)} imports ${relative(ROOT, to)}`)
  }
})

test('no import cycle between folders', t => {
  const graph = new Map<string, Set<string>>()
  for (const [from, to] of imports()) {
    const a = layerOf(SRC, from)
    const b = layerOf(SRC, to)
    if (a === undefined || b === undefined || a === b) continue
    if (!graph.has(a)) graph.set(a, new Set())
    graph.get(a)!.add(b)
  }
  const state = new Map<string, 'open' | 'done'>()
  const cycle: string[] = []
  const visit = (n: string, path: string[]): boolean => {
    if (state.get(n) === 'done') return false
    if (state.get(n) === 'open') { cycle.push(...path, n); return true }
    state.set(n, 'open')
    for (const m of graph.get(n) ?? []) if (visit(m, [...path, n])) return true
    state.set(n, 'done')
    return false
  }
  for (const n of graph.keys()) if (visit(n, [])) break
  t.deepEqual(cycle, [], `cycle: ${cycle.join(' → ')}`)
  t.true(graph.size >= 8, `folders with imports: ${[...graph.keys()].join(', ')}`)
})
