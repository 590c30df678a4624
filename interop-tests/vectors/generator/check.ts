/**
 * The generator's own checks of batch and stream semantics, used to prove each vector holds exactly
 * the fault it claims (or none). Written from the design brief, independently of src/.
 */
import { readFloat32le } from './bytes.ts'
import { toCbor } from './mapping.ts'
import type { Message } from './mapping.ts'
import { MAX_CHANNEL_ID, MAX_UINT } from './registry.ts'
import type { Context } from './types.ts'

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/** True when every batch field present has its CDDL type, so column checks are meaningful. */
export function batchTypesOk (map: Map<unknown, unknown>): boolean {
  return [1, 2, 3].every((k) => isUint(map.get(k))) && map.get(4) instanceof Uint8Array &&
    map.get(5) instanceof Uint8Array && (!map.has(6) || map.get(6) instanceof Uint8Array)
}

/** Every batch-level fault of a well-typed batch, as registry names (empty set: valid). */
export function batchErrors (map: Map<unknown, unknown>, ctx: Context = {}): Set<string> {
  const errs = new Set<string>()
  const count = map.get(3) as number
  const ch = varints(map.get(4) as Uint8Array, 5, MAX_CHANNEL_ID, errs)
  const dt = varints(map.get(5) as Uint8Array, 8, MAX_UINT, errs)
  const val = map.get(6) as Uint8Array | undefined
  if (ch !== undefined && ch.length !== count) errs.add('column-mismatch')
  if (dt !== undefined && dt.length !== count) errs.add('column-mismatch')
  if (val !== undefined && val.length !== 4 * count) errs.add('column-mismatch')
  if (ctx.kind !== undefined && (ctx.kind === 'weighted') !== (val !== undefined)) errs.add('kind-mismatch')
  if (count === 0) errs.add('invalid-message')
  // §9.2.4: seq + count must not exceed 2^53 − 1 (a field rule, §7.5 step 4).
  if (BigInt(map.get(1) as number) + BigInt(count) > BigInt(MAX_UINT)) errs.add('invalid-message')
  if (ctx.max_events !== undefined && count > ctx.max_events) errs.add('too-many-events')
  if (dt !== undefined) {
    let t = BigInt(map.get(2) as number)
    for (const d of dt) {
      t += BigInt(d)
      if (t > BigInt(MAX_UINT)) errs.add('time-overflow')
    }
  }
  for (const c of ch ?? []) {
    if ((ctx.channels !== undefined && c >= ctx.channels) || (ctx.filter !== undefined && !ctx.filter.includes(c))) {
      errs.add('channel-out-of-range')
    }
  }
  if (val !== undefined && val.length % 4 === 0 && readFloat32le(val).some((v) => !Number.isFinite(v))) {
    errs.add('invalid-message')
  }
  return errs
}

/** Decode a column of varints; on the first bad varint add invalid-varint and return undefined. */
function varints (bytes: Uint8Array, maxBytes: number, maxValue: number, errs: Set<string>): number[] | undefined {
  const out: number[] = []
  let i = 0
  while (i < bytes.length) {
    let v = 0n
    let n = 0
    for (;;) {
      if (i >= bytes.length || n === maxBytes) {
        errs.add('invalid-varint')
        return undefined
      }
      const b = bytes[i++]
      v |= BigInt(b & 0x7f) << BigInt(7 * n)
      n++
      if ((b & 0x80) === 0) {
        if ((b === 0 && n > 1) || v > BigInt(maxValue)) {
          errs.add('invalid-varint')
          return undefined
        }
        break
      }
    }
    out.push(Number(v))
  }
  return out
}

/** Event times of a valid batch, in order. */
function times (map: Map<unknown, unknown>): number[] {
  const dt = varints(map.get(5) as Uint8Array, 8, MAX_UINT, new Set()) ?? []
  let t = map.get(2) as number
  return dt.map((d) => (t += d))
}

export interface StreamOutcome { failAt?: number, code?: string, gap: number }

/** Replay the messages an event receiver (the subscriber) gets after its open. */
export function replayStream (messages: Message[], ctx: Context): StreamOutcome {
  let state: 'answer' | 'open' | 'closed' = 'answer'
  let expected = 0
  let gap = 0
  let lastTime = -1
  let watermark = -1
  let streamCtx: Context = {}
  for (const [i, msg] of messages.entries()) {
    const failed = (code: string): StreamOutcome => ({ failAt: i, code, gap })
    const map = toCbor(msg)
    if (state === 'closed') return failed('unexpected-message')
    if (state === 'answer') {
      if (msg.type === 'reject') state = 'closed'
      else if (msg.type === 'accept') {
        state = 'open'
        streamCtx = { ...ctx, kind: msg.kind as 'spike' | 'weighted', channels: msg.channels as number }
      } else return failed('unexpected-message')
      continue
    }
    const seq = map.get(1) as number
    if (msg.type === 'batch') {
      const errs = [...batchErrors(map, streamCtx)]
      if (errs.length > 0) return failed(errs[0])
      if (seq < expected) return failed('invalid-sequence')
      gap += seq - expected
      const ts = times(map)
      if (ts[0] < lastTime || ts[0] < watermark) return failed('time-regression')
      lastTime = ts[ts.length - 1]
      expected = seq + (map.get(3) as number)
    } else if (msg.type === 'watermark') {
      if (seq < expected) return failed('invalid-sequence')
      gap += seq - expected
      expected = seq
      const time = map.get(2) as number
      if (time < watermark) return failed('time-regression')
      watermark = time
    } else if (msg.type === 'loss') {
      if (BigInt(seq) + BigInt(map.get(2) as number) > BigInt(MAX_UINT)) return failed('invalid-message')
      if (seq !== expected) return failed('invalid-sequence')
      expected += map.get(2) as number
    } else if (msg.type === 'close') {
      state = 'closed'
    } else {
      return failed('unexpected-message')
    }
  }
  return { gap }
}
