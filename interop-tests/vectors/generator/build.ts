/**
 * Builds every vector file from the definitions in defs/, checking each one on the way: valid vectors
 * must be deterministic RFC 8949 CBOR that maps back to their JSON message, failures must carry exactly
 * the fault their code names. Returns file contents keyed by path relative to interop-tests/vectors/.
 */
import { deepStrictEqual, notStrictEqual, ok, strictEqual } from 'node:assert/strict'
import { decodeStrict, deterministic, enc, fromHex, h, readFloat32le, toHex, uleb } from './bytes.ts'
import { batchErrors, batchTypesOk, replayStream } from './check.ts'
import { formatJson } from './format.ts'
import { fromCbor, toCbor } from './mapping.ts'
import type { Json, JsonObject, Message } from './mapping.ts'
import { renderReadme } from './readme.ts'
import { AREAS, ERROR_CODES, MESSAGE_TYPES } from './registry.ts'
import type { Context, Event, VectorDef, VectorFile } from './types.ts'
import { framing } from './defs/framing.ts'
import { cbor } from './defs/cbor.ts'
import { describe } from './defs/describe.ts'
import { open } from './defs/open.ts'
import { accept } from './defs/accept.ts'
import { reject } from './defs/reject.ts'
import { batch } from './defs/batch.ts'
import { watermark } from './defs/watermark.ts'
import { loss } from './defs/loss.ts'
import { close } from './defs/close.ts'
import { clock } from './defs/clock.ts'
import { stream } from './defs/stream.ts'
import { clocksync } from './defs/clocksync.ts'
import { fuzz } from './defs/fuzz.ts'
import { buildClockSync } from './clocksync.ts'
import { directory } from './defs/directory.ts'
import { buildDirectory } from './directory.ts'

export const DEFINITIONS: VectorDef[] = [
  ...framing, ...cbor, ...describe, ...open, ...accept, ...reject, ...batch, ...watermark, ...loss, ...close,
  ...clock, ...stream, ...fuzz
]

/** Key order of a vector file. */
export const FILE_KEYS = ['id', 'title', 'why', 'fail', 'code', 'close_code', 'context', 'role', 'message', 'events',
  'cbor_hex', 'frame_hex', 'decode_only', 'messages', 'messages_hex', 'fail_at', 'gap', 'exchange', 'samples', 'bursts',
  'offset', 'delay', 'rejected', 'filtered', 'estimate'] as const
const CONTEXT_KEYS = ['kind', 'channels', 'max_events', 'max_frame', 'filter', 'negative_delay_tolerance_us'] as const

export const MIN_VECTORS = 60
export const MIN_FAILURES = 25
const ID = /^([a-z]+)-(ok|fail)-(\d\d)$/

export interface IndexEntry { id: string, area: string, file: string, fail: boolean, code?: string }

export function build (readmeTemplate: string): Map<string, string> {
  const files = new Map<string, string>()
  const records: VectorFile[] = []
  checkIds([...DEFINITIONS, ...clocksync, ...directory])
  for (const def of DEFINITIONS) {
    const area = def.id.split('-')[0]
    const rec = area === 'stream' ? buildStream(def) : def.id.includes('-fail-') ? buildFail(def) : buildOk(def)
    records.push(rec)
    files.set(`${area}/${def.id}.json`, formatJson(rec))
  }
  for (const def of clocksync) {
    ok(def.id.startsWith('clocksync-'), `${def.id}: clock sync definitions are in the clocksync area`)
    const rec = ordered(buildClockSync(def))
    records.push(rec)
    files.set(`clocksync/${def.id}.json`, formatJson(rec))
  }
  for (const def of directory) {
    const rec = ordered(buildDirectory(def))
    records.push(rec)
    files.set(`directory/${def.id}.json`, formatJson(rec))
  }
  checkCoverage(records)
  const index: IndexEntry[] = records
    .map((r) => ({
      id: r.id as string,
      area: (r.id as string).split('-')[0],
      file: `${(r.id as string).split('-')[0]}/${r.id as string}.json`,
      fail: r.fail as boolean,
      ...(r.code === undefined ? {} : { code: r.code as string })
    }))
    .sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  files.set('index.json', formatJson(index as unknown as Json))
  files.set('README.md', renderReadme(readmeTemplate, records))
  return files
}

/** The keys of a record in FILE_KEYS order (every key must be known). */
function ordered (rec: JsonObject): VectorFile {
  const unknown = Object.keys(rec).filter((k) => !(FILE_KEYS as readonly string[]).includes(k))
  deepStrictEqual(unknown, [], `${rec.id as string}: unknown keys`)
  const out: VectorFile = {}
  for (const key of FILE_KEYS) {
    if (rec[key] !== undefined) out[key] = rec[key]
  }
  return out
}

function checkIds (defs: Array<{ id: string, title: string }>): void {
  const seen = new Map<string, number[]>()
  for (const def of defs) {
    const match = ID.exec(def.id)
    ok(match !== null, `bad id ${def.id}`)
    ok((AREAS as readonly string[]).includes(match[1]), `unknown area in ${def.id}`)
    ok(!def.title.includes('|') && !def.title.includes('\n'), `${def.id}: title must be one line without "|"`)
    const group = `${match[1]}-${match[2]}`
    seen.set(group, [...(seen.get(group) ?? []), Number(match[3])])
  }
  for (const [group, numbers] of seen) {
    deepStrictEqual(numbers, numbers.map((_, i) => i + 1), `${group} ids must run 01, 02, … in order`)
  }
}

function buildOk (def: VectorDef): VectorFile {
  ok(def.message !== undefined && def.code === undefined, `${def.id}: a valid vector has a message and no code`)
  const canonical = enc(toCbor(def.message))
  let bytes = canonical
  if (def.decodeOnly === true) {
    ok(def.cbor !== undefined, `${def.id}: decode_only needs its bytes`)
    bytes = fromHex(def.cbor)
    notStrictEqual(toHex(bytes), toHex(canonical), `${def.id}: decode_only bytes equal the encoding`)
  } else if (def.cbor !== undefined) {
    strictEqual(toHex(canonical), def.cbor, `${def.id}: encoding differs from the expected hex`)
  }
  ok(deterministic(bytes) !== (def.integralFloat === true), `${def.id}: not deterministic CBOR per cborg (or integralFloat set in vain)`)
  const decoded = decodeStrict(bytes) as Map<unknown, unknown>
  const message = fromCbor(decoded)
  deepStrictEqual(message, def.message, `${def.id}: bytes do not map back to the message`)
  let events: Event[] | undefined
  if (message.type === 'batch') {
    ok(batchTypesOk(decoded), `${def.id}: batch field types`)
    deepStrictEqual([...batchErrors(decoded, def.context)], [], `${def.id}: batch not valid in its context`)
    events = eventsOf(decoded)
    if (def.events !== undefined) deepStrictEqual(events, def.events, `${def.id}: events differ`)
  }
  if (message.type === 'open' && Array.isArray(message.channels) && def.context?.channels !== undefined) {
    ok((message.channels as number[]).every((c) => c < (def.context?.channels as number)), `${def.id}: filter range`)
  }
  let frame: string | undefined
  if (def.frame !== undefined) {
    strictEqual(def.frame, true, `${def.id}: a valid frame is built from its CBOR item`)
    frame = h(uleb(bytes.length), bytes)
  }
  ok((frame !== undefined) === def.id.startsWith('framing-'), `${def.id}: frame_hex only in framing vectors`)
  return record(def, {
    message: message as Json,
    events: events as Json,
    cbor_hex: toHex(bytes),
    frame_hex: frame,
    decode_only: def.decodeOnly === true ? true : undefined
  })
}

function buildFail (def: VectorDef): VectorFile {
  ok(def.code !== undefined && ERROR_CODES[def.code] !== undefined, `${def.id}: failure needs a registered code`)
  ok(def.message === undefined && def.messages === undefined, `${def.id}: failure vectors carry no message`)
  ok((def.cbor === undefined) !== (def.frame === undefined), `${def.id}: exactly one of cbor and frame`)
  if (def.frame !== undefined) {
    ok(typeof def.frame === 'string' && def.id.startsWith('framing-'), `${def.id}: frame hex in framing only`)
    return record(def, { frame_hex: toHex(fromHex(def.frame)) })
  }
  const bytes = fromHex(def.cbor as string)
  if (def.code === 'invalid-cbor') {
    strictEqual(deterministic(bytes), def.cborgBlind === true, `${def.id}: cborg's view of the fault`)
  } else {
    if (def.integralFloat === true) {
      ok(!deterministic(bytes), `${def.id}: cborg must see the integral float (else the flag is not needed)`)
    } else {
      ok(deterministic(bytes), `${def.id}: the fault must lie above CBOR, the bytes must be deterministic`)
    }
    const decoded = decodeStrict(bytes)
    if (decoded instanceof Map && decoded.get(0) === MESSAGE_TYPES.batch && batchTypesOk(decoded)) {
      deepStrictEqual([...batchErrors(decoded, def.context)].sort(), [def.code, ...def.alsoBreaks ?? []].sort(),
        `${def.id}: batch faults`)
    }
  }
  return record(def, { cbor_hex: toHex(bytes) })
}

function buildStream (def: VectorDef): VectorFile {
  const fail = def.id.includes('-fail-')
  ok(def.messages !== undefined && def.messages.length > 0, `${def.id}: stream vectors need messages`)
  ok(fail ? def.code !== undefined && def.failAt !== undefined && def.gap === undefined
    : def.code === undefined && def.failAt === undefined && def.gap !== undefined, `${def.id}: fail/code/fail_at/gap`)
  const hexes = def.messages.map((msg) => {
    const bytes = enc(toCbor(msg))
    ok(deterministic(bytes), `${def.id}: message not deterministic`)
    deepStrictEqual(fromCbor(decodeStrict(bytes)), msg, `${def.id}: message does not round-trip`)
    return toHex(bytes)
  })
  const outcome = replayStream(def.messages, def.context ?? {})
  deepStrictEqual(outcome, fail ? { failAt: def.failAt, code: def.code, gap: outcome.gap } : { gap: def.gap },
    `${def.id}: replay disagrees`)
  return record(def, {
    role: 'subscriber',
    messages: hexes.map((x) => fromCbor(decodeStrict(fromHex(x))) as Json),
    messages_hex: hexes,
    fail_at: def.failAt,
    gap: def.gap
  })
}

function eventsOf (map: Map<unknown, unknown>): Event[] {
  const ch = readAll(map.get(4) as Uint8Array)
  const dt = readAll(map.get(5) as Uint8Array)
  const val = map.has(6) ? readFloat32le(map.get(6) as Uint8Array) : undefined
  let t = map.get(2) as number
  return ch.map((c, i): Event => {
    t += dt[i]
    return val === undefined ? [c, t] : [c, t, val[i]]
  })
}

function readAll (bytes: Uint8Array): number[] {
  const out: number[] = []
  let v = 0
  let scale = 1
  for (const b of bytes) {
    v += (b & 0x7f) * scale
    scale *= 128
    if ((b & 0x80) === 0) {
      out.push(v)
      v = 0
      scale = 1
    }
  }
  return out
}

function record (def: VectorDef, parts: Partial<Record<typeof FILE_KEYS[number], Json | undefined>>): VectorFile {
  const all: Partial<Record<string, Json | undefined>> = {
    id: def.id,
    title: def.title,
    why: def.why,
    fail: def.id.includes('-fail-'),
    code: def.code,
    context: def.context === undefined ? undefined : orderedContext(def.context),
    ...parts
  }
  const out: VectorFile = {}
  for (const key of FILE_KEYS) {
    if (all[key] !== undefined) out[key] = all[key] as Json
  }
  return out
}

function orderedContext (ctx: Context): JsonObject {
  const out: JsonObject = {}
  for (const key of CONTEXT_KEYS) {
    if (ctx[key] !== undefined) out[key] = ctx[key] as Json
  }
  return out
}

function checkCoverage (records: VectorFile[]): void {
  const failures = records.filter((r) => r.fail === true)
  ok(records.length >= MIN_VECTORS, `only ${records.length} vectors`)
  ok(failures.length >= MIN_FAILURES, `only ${failures.length} failures`)
  const shown = new Set(records.map((r) => (r.message as Message | undefined))
    .filter((msg) => msg !== undefined && (msg.type === 'reject' || msg.type === 'close'))
    .map((msg) => (msg as Message).code))
  for (const code of Object.keys(ERROR_CODES)) ok(shown.has(code), `no reject or close shows code ${code}`)
  const types = new Set(records.map((r) => (r.message as Message | undefined)?.type))
  for (const type of Object.keys(MESSAGE_TYPES)) ok(types.has(type), `no valid vector of type ${type}`)
}
