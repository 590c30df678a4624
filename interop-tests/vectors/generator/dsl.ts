/** Small builders shared by the vector definitions. */
import { ench, float32le, toHex, ulebs } from './bytes.ts'
import { toCbor } from './mapping.ts'
import type { Message } from './mapping.ts'
import type { Event } from './types.ts'

/** 2026-01-01T00:00:00Z in µs since the Unix epoch: the time origin of most vectors. */
export const T0 = 1_767_225_600_000_000
export const MAX = Number.MAX_SAFE_INTEGER

/**
 * A batch message (JSON mapping) from its events. base defaults to the first event's time, so dt_0 = 0.
 * Events with a third element make a weighted batch; each value must be exact in binary32.
 */
export function batch (seq: number, events: Event[], base?: number): Message {
  const b = base ?? events[0][1]
  const dts: bigint[] = []
  let prev = BigInt(b)
  for (const e of events) {
    dts.push(BigInt(e[1]) - prev)
    prev = BigInt(e[1])
  }
  const msg: Message = {
    type: 'batch',
    seq,
    base: b,
    count: events.length,
    ch: toHex(ulebs(events.map((e) => e[0]))),
    dt: toHex(ulebs(dts))
  }
  if (events.length > 0 && events[0].length === 3) {
    const values = events.map((e) => {
      const v = e[2] as number
      if (Math.fround(v) !== v) throw new Error(`value ${v} is not exact in binary32`)
      return v
    })
    msg.val = toHex(float32le(values))
  }
  return msg
}

/** n spike events starting at t0, one every step µs, on channels cycling through 0..channels-1. */
export function train (n: number, t0: number, step: number, channels: number): Event[] {
  return Array.from({ length: n }, (_, i): Event => [i % channels, t0 + i * step])
}

/** The bytes of a UTF-8 string, as hex. */
export function utf8 (s: string): string {
  return Buffer.from(s, 'utf8').toString('hex')
}

/**
 * Deterministic CBOR of a message-like JSON object through the JSON mapping, as hex. The mapping does not
 * validate ranges or required fields, so failure vectors use it for messages that are wrong only in
 * what they say, not in how they are encoded.
 */
export function cborOf (msg: Message): string {
  return ench(toCbor(msg))
}

/** Like cborOf, then edit the Map (set or delete keys) before encoding. */
export function cborWith (msg: Message, edit: (map: Map<number, unknown>) => void): string {
  const map = toCbor(msg)
  edit(map)
  return ench(map)
}
