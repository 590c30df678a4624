/**
 * Strict decoding of every message (spec §7, §8): the CBOR reader checks well-formedness and
 * deterministic encoding; the field readers here check types, ranges and required fields. Unknown keys
 * are ignored (forward compatibility); keys that are not unsigned integers are rejected.
 */
import {
  DEFAULT_MAX_EVENTS, Direction, Key, Kind, LossReason, MAX_CHANNELS, MAX_CLOCK_ID, MAX_DELAY_US, MAX_FILTER_CHANNELS,
  MAX_NESTING, MAX_SEQ_END, MAX_PARAMS, MIN_MAX_EVENTS, MAX_PORTS, MAX_PROTOCOL_IDS, MAX_TEXT_BYTES, MAX_TIME_US, MessageType, Mode,
  PORT_NAME_PATTERN
} from './constants.ts'
import type { DirectionName, KindName, LossReasonName, MessageTypeName, ModeName } from './constants.ts'
import { CborFloat, readCbor } from './cbor-reader.ts'
import type { CborMap, CborValue } from './cbor-reader.ts'
import { decodeColumns } from './batch.ts'
import type { ColumnScratch } from './batch.ts'
import { MessageError, SpikewireError, errorCodeName } from './errors.ts'
import type { Message, ModelInfo, Param, PortInfo, WireErrorCode } from './messages.ts'

export interface DecodeOptions {
  /** Largest batch count accepted (too-many-events above it). */
  maxEvents?: number
  /** The port's kind, when known: a batch must carry values iff weighted (kind-mismatch). */
  kind?: KindName
  /** The port's channel count, when known: channel ids must be below it (channel-out-of-range). */
  channels?: number
  /** The stream's channel filter, when it has one: every channel must be in it (channel-out-of-range). */
  filter?: ReadonlySet<number>
  /**
   * Decode a batch's columns into these reused buffers (checked all the same): for a batch the receiver
   * drops unread. Its columns are overwritten by the next decode into them.
   */
  scratch?: ColumnScratch
}

const typeNames = new Map<number, MessageTypeName>(
  Object.entries(MessageType).map(([name, n]) => [n, name as MessageTypeName])
)

function invalid (message: string): never {
  throw new MessageError('invalid-message', message)
}

class Fields {
  readonly map: CborMap
  readonly what: string

  constructor (map: CborMap, what: string) {
    // §7.3: every key of a map this document defines is an unsigned integer (of any size: one above
    // 2^53 − 1 is read as a bigint and is an unknown key, ignored by §7.4).
    for (const key of map.keys()) {
      if (!isUnsigned(key)) invalid(`${what}: map key ${describe(key)} is not an unsigned integer`)
    }
    this.map = map
    this.what = what
  }

  has (key: number): boolean {
    return this.map.has(key)
  }

  raw (key: number, name: string, required: boolean): CborValue | undefined {
    const v = this.map.get(key)
    if (v === undefined && required) invalid(`${this.what}: required field ${name} (key ${key}) is missing`)
    return v
  }

  uint (key: number, name: string, max = MAX_TIME_US): number {
    return this.optUint(key, name, max, true) as number
  }

  optUint (key: number, name: string, max = MAX_TIME_US, required = false): number | undefined {
    const v = this.raw(key, name, required)
    if (v === undefined) return undefined
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
      invalid(`${this.what}: ${name} must be an unsigned integer ≤ ${max} (got ${describe(v)})`)
    }
    return v
  }

  text (key: number, name: string, maxBytes = MAX_TEXT_BYTES, minBytes = 0): string {
    return this.optText(key, name, maxBytes, minBytes, true) as string
  }

  optText (key: number, name: string, maxBytes = MAX_TEXT_BYTES, minBytes = 0, required = false): string | undefined {
    const v = this.raw(key, name, required)
    if (v === undefined) return undefined
    return checkText(v, `${this.what}: ${name}`, maxBytes, minBytes)
  }

  bytes (key: number, name: string, required: boolean): Uint8Array | undefined {
    const v = this.raw(key, name, required)
    if (v === undefined) return undefined
    if (!(v instanceof Uint8Array)) invalid(`${this.what}: ${name} must be a byte string (got ${describe(v)})`)
    return v
  }

  array (key: number, name: string, maxItems: number, required: boolean): CborValue[] | undefined {
    const v = this.raw(key, name, required)
    if (v === undefined) return undefined
    if (!Array.isArray(v)) invalid(`${this.what}: ${name} must be an array (got ${describe(v)})`)
    if (v.length > maxItems) invalid(`${this.what}: ${name} has ${v.length} items, at most ${maxItems} allowed`)
    return v
  }

  mapField (key: number, name: string, required: boolean): Fields | undefined {
    const v = this.raw(key, name, required)
    if (v === undefined) return undefined
    if (!(v instanceof Map)) invalid(`${this.what}: ${name} must be a map (got ${describe(v)})`)
    return new Fields(v, `${this.what}.${name}`)
  }

  enumOf<N extends string> (key: number, name: string, table: Record<N, number>): N {
    const v = this.uint(key, name, 0xffff_ffff)
    for (const [n, num] of Object.entries(table) as Array<[N, number]>) if (num === v) return n
    return invalid(`${this.what}: ${name} ${v} is not a defined value`)
  }
}

/** An unsigned integer of the wire (major type 0): a safe integer as a number, a larger one as a bigint. */
function isUnsigned (v: CborValue | undefined): v is number | bigint {
  return (typeof v === 'number' || typeof v === 'bigint') && v >= 0
}

const utf8 = new TextEncoder()

function checkText (v: CborValue, what: string, maxBytes: number, minBytes: number): string {
  if (typeof v !== 'string') invalid(`${what} must be a text string (got ${describe(v)})`)
  const n = utf8.encode(v).length
  if (n > maxBytes || n < minBytes) invalid(`${what} must be ${minBytes}..${maxBytes} bytes of UTF-8 (got ${n})`)
  return v
}

function describe (v: CborValue | undefined): string {
  if (v === null) return 'null'
  if (v instanceof CborFloat) return `float ${v.value}`
  if (v instanceof Uint8Array) return 'a byte string'
  if (Array.isArray(v)) return 'an array'
  if (v instanceof Map) return 'a map'
  if (typeof v === 'number' && !Number.isInteger(v)) return `float ${v}`
  // A peer's text is quoted in error messages that may travel in a close reason: keep it short.
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`
  return `${typeof v} ${String(v)}`
}

function portName (f: Fields, key: number, name: string): string {
  const s = f.text(key, name, 64, 1)
  if (!PORT_NAME_PATTERN.test(s)) invalid(`${f.what}: ${name} "${s}" does not match [a-z0-9][a-z0-9_.-]*`)
  return s
}

function readModel (f: Fields | undefined): ModelInfo | undefined {
  if (f === undefined) return undefined
  const model: ModelInfo = { name: f.text(Key.model.name, 'name') }
  const params = f.array(Key.model.params, 'params', MAX_PARAMS, false)
  if (params !== undefined) {
    model.params = params.map((p, i): Param => {
      const what = `${f.what}.params[${i}]`
      if (!Array.isArray(p) || p.length !== 3) invalid(`${what} must be [name, value, unit]`)
      // The one field where a float and an integer mean the same (§8.2).
      const value = p[1] instanceof CborFloat ? p[1].value : p[1]
      if (typeof value !== 'number' || !Number.isFinite(value)) invalid(`${what} value must be a finite number`)
      return [checkText(p[0], `${what} name`, MAX_TEXT_BYTES, 0), value, checkText(p[2], `${what} unit`, MAX_TEXT_BYTES, 0)]
    })
  }
  return model
}

function readPort (v: CborValue, i: number): PortInfo {
  if (!(v instanceof Map)) invalid(`description.ports[${i}] must be a map`)
  const f = new Fields(v, `description.ports[${i}]`)
  const port: PortInfo = {
    name: portName(f, Key.port.name, 'name'),
    direction: f.enumOf<DirectionName>(Key.port.direction, 'direction', Direction),
    kind: f.enumOf<KindName>(Key.port.kind, 'kind', Kind),
    channels: f.uint(Key.port.channels, 'channels', MAX_CHANNELS)
  }
  if (port.channels < 1) invalid(`${f.what}: channels must be ≥ 1`)
  const model = readModel(f.mapField(Key.port.model, 'model', false))
  if (model !== undefined) port.model = model
  return port
}

/** An error code (§8.1 "code": a uint, at most 2^53 − 1); a reject's is at least 1 (§8.5). */
function code (f: Fields, key: number, min = 0): WireErrorCode {
  const n = f.uint(key, 'code')
  if (n < min) invalid(`${f.what}: code ${n} (normal) is not allowed here`)
  return errorCodeName(n) ?? n
}

/**
 * §9.2.4: the events seq to seq + count − 1 and the next expected number seq + count stay within 2^53 − 1.
 * A field rule of §7.5 step 4: it comes before the batch checks (too-many-events and the columns).
 */
function checkSeqEnd (what: string, seq: number, count: number): void {
  if (seq + count > MAX_SEQ_END) invalid(`${what}: seq ${seq} + count ${count} exceeds 2^53 − 1`)
}

function set<T extends object, K extends string> (obj: T, key: K, value: unknown): void {
  if (value !== undefined) (obj as Record<string, unknown>)[key] = value
}

/** Decode one message from the CBOR bytes of a frame body. Throws SpikewireError with the spec's code. */
export function decodeMessage (bytes: Uint8Array, options: DecodeOptions = {}): Message {
  const item = readCbor(bytes, { maxDepth: MAX_NESTING })
  if (!(item instanceof Map)) invalid(`a message must be a map (got ${describe(item)})`)
  // §7.5 step 3, the message type, comes before the keys and fields of step 4: only a message of a known
  // type has maps whose keys this document defines (Appendix B, revision 4 item 11).
  const t = item.get(Key.type)
  if (t === undefined) invalid(`message: required field type (key ${Key.type}) is missing`)
  if (!isUnsigned(t)) invalid(`message type must be an unsigned integer (got ${describe(t)})`)
  const type = typeof t === 'number' ? typeNames.get(t) : undefined
  if (type === undefined) throw new MessageError('unknown-message-type', `unknown message type ${t}`)
  const m = new Fields(item, type)
  switch (type) {
    case 'describe-request':
      return { type }
    case 'description': {
      const ports = m.array(Key.description.ports, 'ports', MAX_PORTS, true)!.map(readPort)
      const names = new Set<string>()
      for (const p of ports) {
        if (names.has(p.name)) invalid(`description: port name "${p.name}" is used twice`)
        names.add(p.name)
      }
      const msg: Message = {
        type,
        name: m.text(Key.description.name, 'name', MAX_TEXT_BYTES, 1),
        // §8.2: name is 1 to 256 bytes; role and software are texts (0 to 256 bytes, §8.1).
        role: m.text(Key.description.role, 'role'),
        ports,
        software: m.text(Key.description.software, 'software')
      }
      set(msg, 'model', readModel(m.mapField(Key.description.model, 'model', false)))
      const protocols = m.array(Key.description.protocols, 'protocols', MAX_PROTOCOL_IDS, false)
      set(msg, 'protocols', protocols?.map((p, i) => checkText(p, `description.protocols[${i}]`, MAX_TEXT_BYTES, 0)))
      return msg
    }
    case 'open': {
      const msg: Message = {
        type,
        mode: m.enumOf<ModeName>(Key.open.mode, 'mode', Mode),
        port: portName(m, Key.open.port, 'port')
      }
      const channels = m.array(Key.open.channels, 'channels', MAX_FILTER_CHANNELS, false)
      if (channels !== undefined) {
        if (channels.length === 0) invalid('open: channels must list at least one channel')
        let prev = -1
        msg.channels = channels.map((c, i) => {
          if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > MAX_CHANNELS) invalid(`open: channels[${i}] must be a channel id`)
          if (c <= prev) invalid(`open: channels must be strictly ascending (channels[${i}] = ${c} after ${prev})`)
          if (options.channels !== undefined && c >= options.channels) {
            throw new SpikewireError('channel-out-of-range', `open: channel ${c} ≥ the port's channel count ${options.channels}`)
          }
          prev = c
          return c
        })
      }
      set(msg, 'delay', m.optUint(Key.open.delay, 'delay', MAX_DELAY_US))
      set(msg, 'maxEvents', m.optUint(Key.open.maxEvents, 'max-events'))
      if (msg.maxEvents !== undefined && msg.maxEvents < MIN_MAX_EVENTS) invalid(`open: max-events must be ≥ ${MIN_MAX_EVENTS}`)
      if (m.has(Key.open.source)) msg.source = portName(m, Key.open.source, 'source')
      return msg
    }
    case 'accept': {
      const msg: Message = {
        type,
        port: portName(m, Key.accept.port, 'port'),
        kind: m.enumOf<KindName>(Key.accept.kind, 'kind', Kind),
        channels: m.uint(Key.accept.channels, 'channels', MAX_CHANNELS),
        time: m.uint(Key.accept.time, 'time')
      }
      if (msg.channels < 1) invalid('accept: channels must be ≥ 1')
      set(msg, 'maxEvents', m.optUint(Key.accept.maxEvents, 'max-events'))
      if (msg.maxEvents !== undefined && msg.maxEvents < MIN_MAX_EVENTS) invalid(`accept: max-events must be ≥ ${MIN_MAX_EVENTS}`)
      return msg
    }
    case 'reject':
    case 'close': {
      const msg: Message = { type, code: code(m, Key.close.code, type === 'reject' ? 1 : 0) }
      set(msg, 'reason', m.optText(Key.close.reason, 'reason'))
      return msg
    }
    case 'batch':
      return readBatch(m, options)
    case 'watermark':
      return { type, seq: m.uint(Key.watermark.seq, 'seq'), time: m.uint(Key.watermark.time, 'time') }
    case 'loss': {
      const seq = m.uint(Key.loss.seq, 'seq')
      const count = m.uint(Key.loss.count, 'count')
      if (count < 1) invalid('loss: count must be ≥ 1')
      const reasonNum = m.uint(Key.loss.reason, 'reason')
      checkSeqEnd('loss', seq, count)
      const reason = (Object.entries(LossReason) as Array<[LossReasonName, number]>).find(([, n]) => n === reasonNum)?.[0] ?? reasonNum
      return { type, seq, count, reason }
    }
    case 'clock-request':
      return { type, id: m.uint(Key.clockRequest.id, 'id', MAX_CLOCK_ID), t1: m.uint(Key.clockRequest.t1, 't1') }
    case 'clock-response': {
      const msg = {
        type,
        id: m.uint(Key.clockResponse.id, 'id', MAX_CLOCK_ID),
        t1: m.uint(Key.clockResponse.t1, 't1'),
        t2: m.uint(Key.clockResponse.t2, 't2'),
        t3: m.uint(Key.clockResponse.t3, 't3')
      }
      // §8.10: t3 is not less than t2, a rule between two fields: §7.5 step 4 (Appendix B, revision 4 item 12).
      if (msg.t3 < msg.t2) invalid(`clock-response: t3 ${msg.t3} is less than t2 ${msg.t2}`)
      return msg
    }
  }
}

function readBatch (m: Fields, options: DecodeOptions): Message {
  const seq = m.uint(Key.batch.seq, 'seq')
  const base = m.uint(Key.batch.base, 'base')
  const count = m.uint(Key.batch.count, 'count')
  const ch = m.bytes(Key.batch.ch, 'ch', true)!
  const dt = m.bytes(Key.batch.dt, 'dt', true)!
  const val = m.bytes(Key.batch.val, 'val', false)
  if (count < 1) invalid('batch: count must be ≥ 1')
  checkSeqEnd('batch', seq, count)
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS
  if (count > maxEvents) throw new SpikewireError('too-many-events', `batch: count ${count} exceeds the limit of ${maxEvents}`)
  if (options.kind !== undefined && (options.kind === 'weighted') !== (val !== undefined)) {
    throw new SpikewireError('kind-mismatch', options.kind === 'weighted'
      ? 'batch: a weighted port needs val'
      : 'batch: a spike port must not carry val')
  }
  return decodeColumns(seq, base, count, ch, dt, val, { channels: options.channels, filter: options.filter, scratch: options.scratch })
}

