/**
 * The messages a subscriber meets (spec §7.3, §8): checked field by field and turned into plain objects
 * in the vectors' JSON mapping. Types this implementation never receives validly (open, clock-request,
 * clock-response) are only recognised, so that a state check can refuse them.
 */
import { CborFloat, CborMap, decodeItem, encodeMessage } from './cbor.ts'
import type { CborValue } from './cbor.ts'
import { CODES, CODE_NAMES, WireError } from './errors.ts'

export const MAX_U53 = Number.MAX_SAFE_INTEGER
const TYPES = ['', 'describe-request', 'description', 'open', 'accept', 'reject', 'batch', 'watermark', 'loss', 'close', 'clock-request', 'clock-response']
const LOSS_REASONS = ['', 'queue-overflow', 'source-overrun', 'safety-limit', 'late', 'other']
const PORT_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/

export type Msg = Record<string, unknown> & { type: string }

function invalid (rule: string): never {
  throw new WireError('invalid-message', rule)
}

function isU53 (v: CborValue | undefined): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_U53
}

/** An unsigned integer of any size (§7.3): a key above 2^53 − 1 arrives as a bigint and is an unknown key. */
function isUint (v: CborValue | undefined): boolean {
  return (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n)
}

const bytesOf = (s: string): number => new TextEncoder().encode(s).length

/** Field readers: each returns the value or throws invalid-message naming the field. */
class Fields {
  readonly map: CborMap
  readonly what: string

  constructor (map: CborMap, what: string) {
    this.map = map
    this.what = what
    for (const [k] of map.entries) if (!isUint(k)) invalid(`${what}: a key that is not an unsigned integer`)
  }

  has (key: number): boolean {
    return this.map.get(key) !== undefined
  }

  u53 (key: number, name: string, min = 0, max = MAX_U53): number {
    const v = this.map.get(key)
    if (!isU53(v) || v < min || v > max) invalid(`${this.what}: ${name} must be an unsigned integer from ${min} to ${max}`)
    return v
  }

  text (key: number, name: string, min = 0, max = 256): string {
    const v = this.map.get(key)
    if (typeof v !== 'string' || bytesOf(v) < min || bytesOf(v) > max) invalid(`${this.what}: ${name} must be a text of ${min} to ${max} bytes`)
    return v
  }

  portName (key: number, name: string): string {
    const v = this.text(key, name, 1, 64)
    if (!PORT_NAME.test(v)) invalid(`${this.what}: ${name} is not a port name`)
    return v
  }

  bytes (key: number, name: string): Uint8Array {
    const v = this.map.get(key)
    if (!(v instanceof Uint8Array)) invalid(`${this.what}: ${name} must be a byte string`)
    return v
  }

  array (key: number, name: string, max: number): CborValue[] {
    const v = this.map.get(key)
    if (!Array.isArray(v) || v.length > max) invalid(`${this.what}: ${name} must be an array of at most ${max}`)
    return v
  }
}

const codeName = (n: number): string | number => CODE_NAMES.get(n) ?? n

function model (v: CborValue, what: string): Msg {
  if (!(v instanceof CborMap)) invalid(`${what} must be a map`)
  const f = new Fields(v, what)
  const out: Msg = { type: '', name: f.text(1, 'name') }
  if (f.has(2)) {
    out.params = f.array(2, 'params', 256).map(p => {
      if (!Array.isArray(p) || p.length !== 3 || typeof p[0] !== 'string' || typeof p[2] !== 'string') invalid(`${what}: a param must be [name, value, unit]`)
      if (bytesOf(p[0]) > 256 || bytesOf(p[2]) > 256) invalid(`${what}: param text over 256 bytes`)
      const value = p[1] instanceof CborFloat ? p[1].value : p[1]
      const intOk = typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= MAX_U53 && !(p[1] instanceof CborFloat)
      const floatOk = p[1] instanceof CborFloat && Number.isFinite(value)
      if (!intOk && !floatOk) invalid(`${what}: a param value must be an int53 or a finite float`)
      return [p[0], value, p[2]]
    })
  }
  delete (out as { type?: string }).type
  return out
}

function description (f: Fields): Msg {
  const out: Msg = { type: 'description', name: f.text(1, 'name', 1), role: f.text(2, 'role'), ports: [] }
  const names = new Set<string>()
  out.ports = f.array(3, 'ports', 256).map((p, i) => {
    if (!(p instanceof CborMap)) invalid(`port ${i} must be a map`)
    const pf = new Fields(p, `port ${i}`)
    const port: Record<string, unknown> = {
      name: pf.portName(1, 'name'),
      direction: pf.u53(2, 'direction', 0, 1) === 0 ? 'in' : 'out',
      kind: pf.u53(3, 'kind', 0, 1) === 0 ? 'spike' : 'weighted',
      channels: pf.u53(4, 'channels', 1, 0xffffffff)
    }
    if (pf.has(5)) port.model = model(p.get(5)!, `port ${i} model`)
    if (names.has(port.name as string)) invalid(`two ports named ${String(port.name)}`)
    names.add(port.name as string)
    return port
  })
  out.software = f.text(4, 'software')
  if (f.has(5)) out.model = model(f.map.get(5)!, 'model')
  if (f.has(6)) {
    out.protocols = f.array(6, 'protocols', 32).map(p => {
      if (typeof p !== 'string' || bytesOf(p) > 256) invalid('protocols must be texts')
      return p
    })
  }
  return out
}

/** Decode a frame body into a message (JSON mapping; batch columns as bytes in `_ch`, `_dt`, `_val`). */
export function decodeMessage (body: Uint8Array): Msg {
  const item = decodeItem(body)
  if (!(item instanceof CborMap)) invalid('a message must be a map')
  const t = item.get(0)
  if (!isUint(t)) invalid('key 0 (type) missing or not an unsigned integer')
  const type = typeof t === 'number' ? TYPES[t] : undefined
  if (type === undefined || type === '') throw new WireError('unknown-message-type', `message type ${t}`)
  const f = new Fields(item, type)
  switch (type) {
    case 'describe-request': return { type }
    case 'description': return description(f)
    case 'accept': {
      const m: Msg = { type, port: f.portName(1, 'port'), kind: f.u53(2, 'kind', 0, 1) === 0 ? 'spike' : 'weighted', channels: f.u53(3, 'channels', 1, 0xffffffff), time: f.u53(4, 'time') }
      if (f.has(5)) m.max_events = f.u53(5, 'max_events', 4096)
      return m
    }
    case 'reject':
    case 'close': {
      // §8.5 (revision 3): a reject's code is 1 to 2^53 − 1; 0 (normal) is not a refusal.
      const m: Msg = { type, code: codeName(f.u53(1, 'code', type === 'reject' ? 1 : 0)) }
      if (f.has(2)) m.reason = f.text(2, 'reason')
      return m
    }
    case 'batch': {
      const m: Msg = { type, seq: f.u53(1, 'seq'), base: f.u53(2, 'base'), count: f.u53(3, 'count', 1) }
      if ((m.seq as number) + (m.count as number) > MAX_U53) invalid('seq + count over 2^53 − 1')
      m._ch = f.bytes(4, 'ch')
      m._dt = f.bytes(5, 'dt')
      if (f.has(6)) m._val = f.bytes(6, 'val')
      return m
    }
    case 'watermark': return { type, seq: f.u53(1, 'seq'), time: f.u53(2, 'time') }
    case 'loss': {
      const m: Msg = { type, seq: f.u53(1, 'seq'), count: f.u53(2, 'count', 1) }
      const r = f.u53(3, 'reason')
      m.reason = LOSS_REASONS[r] ?? r
      if ((m.seq as number) + (m.count as number) > MAX_U53) invalid('seq + count over 2^53 − 1')
      return m
    }
    default:
      return { type }
  }
}

/** Encode the messages this implementation sends: open, close, describe-request. */
export function encodeOpen (port: string, opts: { channels?: number[], maxEvents?: number } = {}): Uint8Array {
  const m = new Map<number, unknown>([[0, 3], [1, 1], [2, port]])
  if (opts.channels !== undefined) m.set(3, opts.channels)
  if (opts.maxEvents !== undefined) m.set(5, opts.maxEvents)
  return encodeMessage(m)
}

export function encodeClose (code: string): Uint8Array {
  return encodeMessage(new Map<number, unknown>([[0, 9], [1, CODES[code] ?? CODES['internal-error']]]))
}

export function encodeDescribeRequest (): Uint8Array {
  return encodeMessage(new Map<number, unknown>([[0, 1]]))
}
