/**
 * Encoding of every message as deterministic CBOR (spec §7): integer keys in ascending order, shortest
 * forms, definite lengths. Batches take the hand-written fast path in batch.ts.
 */
import { encode as cborEncode, rfc8949EncodeOptions } from 'cborg'
import { Direction, ErrorCode, Key, Kind, LossReason, MAX_TEXT_BYTES, MessageType, Mode } from './constants.ts'
import { encodeBatchBytes } from './batch.ts'
import { varintLength, writeVarint } from './varint.ts'
import type { Message, ModelInfo, PortInfo, WireErrorCode } from './messages.ts'

type Entries = Array<[number, unknown]>

function codeNumber (code: WireErrorCode): number {
  return typeof code === 'number' ? code : ErrorCode[code]
}

function modelMap (m: ModelInfo): Map<number, unknown> {
  const e: Entries = [[Key.model.name, m.name]]
  if (m.params !== undefined) e.push([Key.model.params, m.params.map(p => [p[0], p[1], p[2]])])
  return new Map(e)
}

function portMap (p: PortInfo): Map<number, unknown> {
  const e: Entries = [
    [Key.port.name, p.name],
    [Key.port.direction, Direction[p.direction]],
    [Key.port.kind, Kind[p.kind]],
    [Key.port.channels, p.channels]
  ]
  if (p.model !== undefined) e.push([Key.port.model, modelMap(p.model)])
  return new Map(e)
}

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder()

/**
 * `s` cut to at most `maxBytes` bytes of UTF-8, at a character boundary. A reason is informative and often
 * quotes what a peer sent: cut, it still fits the text limit (§8.1), so the close that carries it is valid.
 */
export function truncateUtf8 (s: string, maxBytes: number): string {
  const bytes = utf8.encode(s)
  if (bytes.length <= maxBytes) return s
  let end = maxBytes
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--
  return utf8Decoder.decode(bytes.subarray(0, end))
}

function optional (e: Entries, key: number, value: unknown): void {
  if (value !== undefined) e.push([key, value])
}

/** The CBOR map entries of a non-batch message, keys ascending. */
function entries (msg: Exclude<Message, { type: 'batch' }>): Entries {
  const e: Entries = [[Key.type, MessageType[msg.type]]]
  switch (msg.type) {
    case 'describe-request':
      break
    case 'description':
      e.push([Key.description.name, msg.name], [Key.description.role, msg.role],
        [Key.description.ports, msg.ports.map(portMap)], [Key.description.software, msg.software])
      optional(e, Key.description.model, msg.model === undefined ? undefined : modelMap(msg.model))
      optional(e, Key.description.protocols, msg.protocols)
      break
    case 'open':
      e.push([Key.open.mode, Mode[msg.mode]], [Key.open.port, msg.port])
      optional(e, Key.open.channels, msg.channels)
      optional(e, Key.open.delay, msg.delay)
      optional(e, Key.open.maxEvents, msg.maxEvents)
      optional(e, Key.open.source, msg.source)
      break
    case 'accept':
      e.push([Key.accept.port, msg.port], [Key.accept.kind, Kind[msg.kind]], [Key.accept.channels, msg.channels],
        [Key.accept.time, msg.time])
      optional(e, Key.accept.maxEvents, msg.maxEvents)
      break
    case 'reject':
    case 'close':
      e.push([Key.reject.code, codeNumber(msg.code)])
      optional(e, Key.reject.reason, msg.reason === undefined ? undefined : truncateUtf8(msg.reason, MAX_TEXT_BYTES))
      break
    case 'watermark':
      e.push([Key.watermark.seq, msg.seq], [Key.watermark.time, msg.time])
      break
    case 'loss':
      e.push([Key.loss.seq, msg.seq], [Key.loss.count, msg.count],
        [Key.loss.reason, typeof msg.reason === 'number' ? msg.reason : LossReason[msg.reason]])
      break
    case 'clock-request':
      e.push([Key.clockRequest.id, msg.id], [Key.clockRequest.t1, msg.t1])
      break
    case 'clock-response':
      e.push([Key.clockResponse.id, msg.id], [Key.clockResponse.t1, msg.t1], [Key.clockResponse.t2, msg.t2],
        [Key.clockResponse.t3, msg.t3])
      break
  }
  return e
}

/** Encode one message as a deterministic CBOR data item (no frame prefix). */
export function encodeMessage (msg: Message): Uint8Array {
  if (msg.type === 'batch') return encodeBatchBytes(msg, false)
  return cborEncode(new Map(entries(msg)), rfc8949EncodeOptions)
}

/** Prefix an encoded message with its unsigned varint length (spec §5). */
export function frameBytes (body: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintLength(body.length) + body.length)
  out.set(body, writeVarint(out, 0, body.length))
  return out
}

/** Encode one message as a complete frame: length prefix and CBOR. */
export function encodeFrame (msg: Message): Uint8Array {
  if (msg.type === 'batch') return encodeBatchBytes(msg, true)
  return frameBytes(encodeMessage(msg))
}
