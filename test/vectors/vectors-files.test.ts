/**
 * Checks the committed test vector files themselves (interop-tests/vectors/): shape, ids, counts, the
 * index and README table, agreement of the generator's registries with src/codec/constants.ts, and
 * that the generator reproduces every file byte for byte.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Direction, ErrorCode, Kind, LossReason, MessageType, Mode } from '../../src/codec/constants.ts'
import * as registry from '../../interop-tests/vectors/generator/registry.ts'

const DIR = fileURLToPath(new URL('../../interop-tests/vectors/', import.meta.url))
const AREAS = ['framing', 'cbor', 'describe', 'open', 'accept', 'reject', 'batch', 'watermark', 'loss', 'close',
  'clock', 'clocksync', 'stream', 'fuzz', 'directory']
const KEY_ORDER = ['id', 'title', 'why', 'fail', 'code', 'close_code', 'context', 'role', 'message', 'events',
  'cbor_hex', 'frame_hex', 'decode_only', 'messages', 'messages_hex', 'fail_at', 'gap', 'exchange', 'samples', 'bursts',
  'offset', 'delay', 'rejected', 'filtered', 'estimate']
const CONTEXT_KEYS = ['kind', 'channels', 'max_events', 'max_frame', 'filter', 'negative_delay_tolerance_us']
const HEX = /^([0-9a-f]{2})*$/
/** Spec §9.3.3: faults of a clock sample, and the code that closes the stream for those that do. */
const CLOCK_FAULTS: Record<string, string | undefined> = {
  'negative-delay': undefined, 't4-before-t1': undefined, 't3-before-t2': 'invalid-message', 'echo-mismatch': 'invalid-message'
}
const ESTIMATE_KEYS = ['at_local_us', 'offset_us', 'offset_tolerance_us', 'drift_ppm', 'drift_tolerance_ppm',
  'uncertainty_min_us', 'true_offset_us']

type Vector = Record<string, unknown> & { id: string, title: string, fail: boolean, code?: string }


async function loadVectors (): Promise<Array<{ area: string, file: string, text: string, vector: Vector }>> {
  const out = []
  for (const area of AREAS) {
    for (const file of (await readdir(join(DIR, area))).sort()) {
      const text = await readFile(join(DIR, area, file), 'utf8')
      out.push({ area, file, text, vector: JSON.parse(text) as Vector })
    }
  }
  return out
}

const loaded = loadVectors()

test('every file parses and has the fields its kind requires', async (t) => {
  for (const { area, file, vector: v } of await loaded) {
    const where = `${area}/${file}`
    t.true(file.endsWith('.json'), where)
    t.is(`${v.id}.json`, file, `${where}: id matches the file name`)
    t.regex(v.id, new RegExp(`^${area}-(ok|fail)-\\d\\d$`), where)
    const keys = Object.keys(v)
    t.deepEqual(keys, KEY_ORDER.filter((k) => keys.includes(k)), `${where}: known keys in the fixed order`)
    t.is(typeof v.title, 'string', where)
    t.true((v.title).length > 0 && !v.title.includes('\n'), `${where}: one-line title`)
    t.true(typeof v.why === 'string' && v.why.length > 0, `${where}: why`)
    t.is(v.fail, v.id.includes('-fail-'), `${where}: fail matches the id`)
    t.is(v.code !== undefined, v.fail, `${where}: fail ⇔ code`)
    if (v.code !== undefined && area !== 'clocksync') t.true(v.code in ErrorCode, `${where}: registered code ${v.code}`)
    if (v.context !== undefined) {
      const ck = Object.keys(v.context as object)
      t.deepEqual(ck, CONTEXT_KEYS.filter((k) => ck.includes(k)), `${where}: context keys`)
    }
    for (const key of ['cbor_hex', 'frame_hex']) {
      if (v[key] !== undefined) t.regex(v[key] as string, HEX, `${where}: ${key} is lowercase hex`)
    }
    if (area === 'clocksync') {
      checkClockSync(t, where, v)
    } else if (area === 'stream') {
      t.is(v.role, 'subscriber', where)
      t.true(Array.isArray(v.messages_hex) && (v.messages_hex as string[]).length > 0, `${where}: messages_hex`)
      for (const x of v.messages_hex as string[]) t.regex(x, HEX, where)
      t.is((v.messages as unknown[]).length, (v.messages_hex as unknown[]).length, `${where}: messages`)
      t.is(v.message, undefined, where)
      if (v.fail) {
        t.true(Number.isInteger(v.fail_at) && (v.fail_at as number) < (v.messages_hex as unknown[]).length, where)
        t.is(v.gap, undefined, where)
      } else {
        t.true(Number.isInteger(v.gap) && (v.gap as number) >= 0, `${where}: gap`)
        t.is(v.fail_at, undefined, where)
      }
    } else if (v.fail) {
      t.is(v.message ?? null, null, `${where}: failures carry no message`)
      t.true(v.cbor_hex !== undefined || v.frame_hex !== undefined, `${where}: hostile bytes`)
    } else {
      t.is(typeof v.message, 'object', `${where}: message`)
      t.is(typeof v.cbor_hex, 'string', `${where}: cbor_hex`)
      const msg = v.message as { type: string }
      // The relay directory's messages (spec §9.4) are not message types of a node's streams.
      if (area === 'directory') t.true(['directory-request', 'directory'].includes(msg.type), `${where}: message type`)
      else t.true(msg.type in MessageType, `${where}: message type`)
      if (msg.type === 'batch') t.true(Array.isArray(v.events), `${where}: batch vectors carry events`)
      if (area === 'framing') {
        t.true((v.frame_hex as string).endsWith(v.cbor_hex as string), `${where}: frame ends with the body`)
      }
    }
  }
})

function checkClockSync (t: ExecutionContext, where: string, v: Vector): void {
  t.is(v.message, undefined, where)
  t.is(v.cbor_hex, undefined, where)
  t.true(Number.isInteger((v.context as { negative_delay_tolerance_us?: number } | undefined)?.negative_delay_tolerance_us),
    `${where}: ε in the context`)
  if (v.fail) {
    t.true(v.code !== undefined && v.code in CLOCK_FAULTS, `${where}: fault name ${v.code}`)
    t.is(v.close_code, CLOCK_FAULTS[v.code!], `${where}: close_code of ${v.code}`)
    t.true((v.exchange === undefined) !== (v.samples === undefined), `${where}: samples or an exchange`)
    t.is(v.estimate, undefined, where)
  } else {
    t.is(v.close_code, undefined, where)
    t.is(v.exchange, undefined, where)
  }
  if (v.samples === undefined) return
  const samples = v.samples as number[][]
  t.true(samples.length > 0 && samples.every((s) => s.length === 4 && s.every(Number.isSafeInteger)), `${where}: samples`)
  for (const key of ['offset', 'delay', ...(v.bursts === undefined ? [] : ['bursts'])]) {
    t.is((v[key] as unknown[]).length, samples.length, `${where}: one ${key} per sample`)
  }
  if (v.fail) return
  const est = v.estimate as Record<string, number>
  const ek = Object.keys(est)
  t.deepEqual(ek, ESTIMATE_KEYS.filter((k) => ek.includes(k)), `${where}: estimate keys`)
  for (const k of ['at_local_us', 'offset_us', 'offset_tolerance_us', 'uncertainty_min_us']) t.is(typeof est[k], 'number', `${where}: ${k}`)
  const filtered = v.filtered as number[]
  t.true(filtered.length > 0 && filtered.every((i) => Number.isInteger(i) && i >= 0 && i < samples.length), `${where}: filtered`)
  for (const [i, fault] of (v.rejected ?? []) as Array<[number, string]>) {
    t.true(CLOCK_FAULTS[fault] === undefined && fault in CLOCK_FAULTS && !filtered.includes(i), `${where}: rejected ${i}`)
  }
}

test('ids are unique and the set is large enough', async (t) => {
  const vectors = (await loaded).map((l) => l.vector)
  const ids = vectors.map((v) => v.id)
  t.is(new Set(ids).size, ids.length)
  t.true(vectors.length >= 60, `${vectors.length} vectors`)
  t.true(vectors.filter((v) => v.fail).length >= 25, 'at least 25 failures')
  for (const area of AREAS) {
    t.true(vectors.some((v) => v.id.startsWith(`${area}-ok-`)), `${area} has a valid vector`)
    t.true(vectors.some((v) => v.id.startsWith(`${area}-fail-`)), `${area} has a failure`)
  }
  const shown = new Set(vectors.map((v) => (v.message as { type?: string, code?: unknown } | undefined))
    .filter((m) => m?.type === 'reject' || m?.type === 'close').map((m) => m?.code))
  t.deepEqual(Object.keys(ErrorCode).filter((c) => !shown.has(c)), [], 'every code shown by a reject or close')
})

test('index.json lists every vector, sorted by id', async (t) => {
  const index = JSON.parse(await readFile(join(DIR, 'index.json'), 'utf8')) as unknown[]
  const expected = (await loaded)
    .map(({ area, file, vector: v }) => ({
      id: v.id, area, file: `${area}/${file}`, fail: v.fail, ...(v.code === undefined ? {} : { code: v.code })
    }))
    .sort((a, b) => a.id < b.id ? -1 : 1)
  t.deepEqual(index, expected)
})

test('the README table lists every vector with its title', async (t) => {
  const readme = await readFile(join(DIR, 'README.md'), 'utf8')
  const rows = [...readme.matchAll(/^\| \[([a-z]+-(?:ok|fail)-\d\d)\]\(([a-z]+\/[a-z0-9-]+\.json)\) \| (.+?) \| (.+) \|$/gm)]
  const byId = new Map(rows.map((r) => [r[1], { file: r[2], expect: r[3], title: r[4] }]))
  t.is(byId.size, rows.length, 'no duplicate rows')
  const vectors = (await loaded)
  t.is(rows.length, vectors.length)
  for (const { area, file, vector: v } of vectors) {
    const row = byId.get(v.id)
    t.deepEqual(row, { file: `${area}/${file}`, expect: v.fail ? `fail: \`${v.code}\`` : 'ok', title: v.title }, v.id)
  }
})

test('the generator registries agree with src/codec/constants.ts', (t) => {
  t.deepEqual(registry.ERROR_CODES, { ...ErrorCode })
  t.deepEqual(registry.MESSAGE_TYPES, { ...MessageType })
  t.deepEqual(registry.LOSS_REASONS, { ...LossReason })
  t.deepEqual(registry.KINDS, { ...Kind })
  t.deepEqual(registry.MODES, { ...Mode })
  t.deepEqual(registry.DIRECTIONS, { ...Direction })
})

test('the generator reproduces every committed file byte for byte', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'spikewire-vectors-'))
  try {
    await promisify(execFile)(process.execPath, [join(DIR, 'generate.ts'), '--out', out], { timeout: 20_000 })
    const generated = new Set<string>()
    for (const area of AREAS) {
      for (const file of await readdir(join(out, area))) generated.add(`${area}/${file}`)
    }
    const committed = new Set((await loaded).map((l) => `${l.area}/${l.file}`))
    t.deepEqual([...generated].sort(), [...committed].sort(), 'same set of vector files')
    for (const { area, file, text } of await loaded) {
      t.is(await readFile(join(out, area, file), 'utf8'), text, `${area}/${file}`)
    }
    for (const name of ['index.json', 'README.md']) {
      t.is(await readFile(join(out, name), 'utf8'), await readFile(join(DIR, name), 'utf8'), name)
    }
  } finally {
    await rm(out, { recursive: true, force: true })
  }
})

test('every clocksync vector the spec cites exists', async (t) => {
  const spec = await readFile(fileURLToPath(new URL('../../spec/spikewire.md', import.meta.url)), 'utf8')
  const ids = new Set((await loaded).map((l) => l.vector.id))
  const cited = [...new Set([...spec.matchAll(/clocksync-(?:ok|fail)-\d\d/g)].map((m) => m[0]))]
  t.true(cited.length > 0)
  t.deepEqual(cited.filter((id) => !ids.has(id)), [])
})

test('every vector id the spec, its README and the implementer\'s guide cite exists', async (t) => {
  const ids = new Set((await loaded).map((l) => l.vector.id))
  const id = new RegExp(`\\b(?:${AREAS.join('|')})-(?:ok|fail)-\\d\\d\\b`, 'g')
  for (const file of ['spikewire.md', 'README.md', 'implementers-guide.md']) {
    const text = await readFile(fileURLToPath(new URL(`../../spec/${file}`, import.meta.url)), 'utf8')
    const cited = [...new Set([...text.matchAll(id)].map((m) => m[0]))]
    t.deepEqual(cited.filter((c) => !ids.has(c)), [], `${file} cites vectors that do not exist`)
  }
})
