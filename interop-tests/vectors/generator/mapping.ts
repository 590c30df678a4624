/**
 * The JSON mapping of spikewire messages used by the vectors, both ways: JSON message → CBOR data model
 * (a Map with integer keys, ready for cborg) and back. Unknown keys are skipped when reading back, which
 * is how decode_only vectors are checked. This is not a validating codec: it only has to be exact for
 * the messages the generator writes.
 */
import { DIRECTIONS, ERROR_CODES, KINDS, LOSS_REASONS, MESSAGE_TYPES, MODES, nameOf, numberOf } from './registry.ts'
import { fromHex, toHex } from './bytes.ts'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }
export type Message = { type: string } & JsonObject

type FieldKind = 'text' | 'uint' | 'bytes' | 'uints' | 'texts' | 'mode' | 'kind' | 'direction' | 'error' |
  'loss' | 'ports' | 'model' | 'params'
type Field = readonly [key: number, name: string, kind: FieldKind]

const PORT: readonly Field[] = [[1, 'name', 'text'], [2, 'direction', 'direction'], [3, 'kind', 'kind'],
  [4, 'channels', 'uint'], [5, 'model', 'model']]
const MODEL: readonly Field[] = [[1, 'name', 'text'], [2, 'params', 'params']]

/** Fields of every message type: key number, JSON name, value kind. */
export const FIELDS: Record<string, readonly Field[]> = {
  'describe-request': [],
  'description': [[1, 'name', 'text'], [2, 'role', 'text'], [3, 'ports', 'ports'], [4, 'software', 'text'],
    [5, 'model', 'model'], [6, 'protocols', 'texts']],
  'open': [[1, 'mode', 'mode'], [2, 'port', 'text'], [3, 'channels', 'uints'], [4, 'delay', 'uint'],
    [5, 'max_events', 'uint'], [6, 'source', 'text']],
  'accept': [[1, 'port', 'text'], [2, 'kind', 'kind'], [3, 'channels', 'uint'], [4, 'time', 'uint'],
    [5, 'max_events', 'uint']],
  'reject': [[1, 'code', 'error'], [2, 'reason', 'text']],
  'batch': [[1, 'seq', 'uint'], [2, 'base', 'uint'], [3, 'count', 'uint'], [4, 'ch', 'bytes'], [5, 'dt', 'bytes'],
    [6, 'val', 'bytes']],
  'watermark': [[1, 'seq', 'uint'], [2, 'time', 'uint']],
  'loss': [[1, 'seq', 'uint'], [2, 'count', 'uint'], [3, 'reason', 'loss']],
  'close': [[1, 'code', 'error'], [2, 'reason', 'text']],
  'clock-request': [[1, 'id', 'uint'], [2, 't1', 'uint']],
  'clock-response': [[1, 'id', 'uint'], [2, 't1', 'uint'], [3, 't2', 'uint'], [4, 't3', 'uint']]
}

const TABLES: Partial<Record<FieldKind, Record<string, number>>> = {
  mode: MODES, kind: KINDS, direction: DIRECTIONS, error: ERROR_CODES, loss: LOSS_REASONS
}

/** JSON message → CBOR data model (Map with integer keys). */
export function toCbor (msg: Message): Map<number, unknown> {
  const type = MESSAGE_TYPES[msg.type]
  const fields = FIELDS[msg.type]
  if (type === undefined || fields === undefined) throw new Error(`unknown message type ${msg.type}`)
  const out = new Map<number, unknown>([[0, type]])
  structToCbor(msg, fields, out, ['type'])
  return out
}

/** CBOR data model → JSON message; keys not defined for the type are skipped. */
export function fromCbor (value: unknown): Message {
  if (!(value instanceof Map)) throw new Error('message is not a map')
  const typeName = nameOf(MESSAGE_TYPES, value.get(0) as number)
  if (typeof typeName !== 'string') throw new Error(`unknown message type ${typeName}`)
  return { type: typeName, ...structFromCbor(value, FIELDS[typeName]) }
}

function structToCbor (obj: JsonObject, fields: readonly Field[], out: Map<number, unknown>, extra: string[]): void {
  const known = new Set([...extra, ...fields.map((f) => f[1])])
  for (const name of Object.keys(obj)) {
    if (!known.has(name)) throw new Error(`field ${name} is not defined here`)
  }
  for (const [key, name, kind] of fields) {
    if (obj[name] !== undefined) out.set(key, valueToCbor(obj[name], kind))
  }
}

function structFromCbor (map: Map<unknown, unknown>, fields: readonly Field[]): JsonObject {
  const out: JsonObject = {}
  for (const [key, name, kind] of fields) {
    if (map.has(key)) out[name] = valueFromCbor(map.get(key), kind)
  }
  return out
}

function valueToCbor (v: Json, kind: FieldKind): unknown {
  const table = TABLES[kind]
  if (table !== undefined) return numberOf(table, v as string | number)
  switch (kind) {
    case 'uint':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`not a uint: ${v}`)
      return v
    case 'bytes': return fromHex(v as string)
    case 'ports': return (v as JsonObject[]).map((p) => {
      const out = new Map<number, unknown>()
      structToCbor(p, PORT, out, [])
      return out
    })
    case 'model': {
      const out = new Map<number, unknown>()
      structToCbor(v as JsonObject, MODEL, out, [])
      return out
    }
    default: return v
  }
}

function valueFromCbor (v: unknown, kind: FieldKind): Json {
  const table = TABLES[kind]
  if (table !== undefined) return nameOf(table, v as number)
  switch (kind) {
    case 'bytes': return toHex(v as Uint8Array)
    case 'ports': return (v as Array<Map<unknown, unknown>>).map((p) => structFromCbor(p, PORT))
    case 'model': return structFromCbor(v as Map<unknown, unknown>, MODEL)
    default: return v as Json
  }
}
