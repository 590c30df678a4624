/**
 * The JSON mapping of messages used by the test vectors and the interop codec entry point
 * (interop-tests/vectors/README.md): enumerated fields by registry name, byte strings as lowercase hex,
 * `max-events` as `max_events`. Batches show their wire columns (ch, dt, val) rather than events.
 */
import { MAX_TIME_US } from './constants.ts'
import { decodeColumns } from './batch.ts'
import { writeVarint } from './varint.ts'
import { InvalidArgumentError } from '../base/errors.ts'
import { MessageError } from './errors.ts'
import type { Batch, Message } from './messages.ts'

export type JsonMessage = Record<string, unknown> & { type: string }

export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export function fromHex (hex: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new InvalidArgumentError('not a hex string')
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

function packColumn (values: ArrayLike<number>, n: number, maxBytes: number, delta: number | undefined): Uint8Array {
  const out = new Uint8Array(n * maxBytes)
  let o = 0
  let prev = delta ?? 0
  for (let i = 0; i < n; i++) {
    const v = values[i]
    o = writeVarint(out, o, delta === undefined ? v : v - prev)
    prev = v
  }
  return out.subarray(0, o)
}

/** The wire columns of a batch: ch, dt and (weighted) val byte strings. */
export function batchColumns (b: Batch): { ch: Uint8Array, dt: Uint8Array, val?: Uint8Array } {
  const ch = packColumn(b.channels, b.count, 5, undefined)
  const dt = packColumn(b.times, b.count, 8, b.base)
  if (b.values === undefined) return { ch, dt }
  const val = new Uint8Array(4 * b.count)
  const view = new DataView(val.buffer)
  for (let i = 0; i < b.count; i++) view.setFloat32(4 * i, b.values[i], true)
  return { ch, dt, val }
}

/** A message in the JSON mapping. */
export function messageToJson (msg: Message): JsonMessage {
  if (msg.type === 'batch') {
    const { ch, dt, val } = batchColumns(msg)
    const out: JsonMessage = { type: 'batch', seq: msg.seq, base: msg.base, count: msg.count, ch: toHex(ch), dt: toHex(dt) }
    if (val !== undefined) out.val = toHex(val)
    return out
  }
  const out: JsonMessage = { ...msg } as JsonMessage
  if ('maxEvents' in out) {
    out.max_events = out.maxEvents
    delete out.maxEvents
  }
  return JSON.parse(JSON.stringify(out)) as JsonMessage
}

/** Events of a batch as [[channel, time], …] or [[channel, time, value], …]. */
export function batchEventsToJson (b: Batch): number[][] {
  const out: number[][] = []
  for (let i = 0; i < b.count; i++) {
    out.push(b.values === undefined ? [b.channels[i], b.times[i]] : [b.channels[i], b.times[i], b.values[i]])
  }
  return out
}

/** A message from the JSON mapping. Batch columns are validated as on the wire. */
export function messageFromJson (json: JsonMessage): Message {
  if (json.type === 'batch') {
    const j = json as unknown as { seq: number, base: number, count: number, ch: string, dt: string, val?: string }
    if (!(Number.isSafeInteger(j.base) && j.base >= 0 && j.base <= MAX_TIME_US)) throw new MessageError('invalid-message', 'batch base')
    return decodeColumns(j.seq, j.base, j.count, fromHex(j.ch), fromHex(j.dt), j.val === undefined ? undefined : fromHex(j.val), {})
  }
  const out: Record<string, unknown> = { ...json }
  if ('max_events' in out) {
    out.maxEvents = out.max_events
    delete out.max_events
  }
  return out as unknown as Message
}
