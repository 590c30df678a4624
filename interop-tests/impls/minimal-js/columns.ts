/**
 * Batch columns (spec §8.6): `ch` and `dt` hold one unsigned LEB128 varint per event, `val` one
 * little-endian binary32 per event on weighted ports. The checks run in the order of §8.6.
 */
import { WireError } from './errors.ts'
import { MAX_U53 } from './messages.ts'
import type { Msg } from './messages.ts'

export interface StreamContext {
  kind?: 'spike' | 'weighted'
  channels?: number
  maxEvents: number
  filter?: Set<number>
}

export interface Events {
  channels: number[]
  times: number[]
  values?: number[]
}

function varints (col: Uint8Array, maxBytes: number, maxValue: number, name: string): number[] {
  const out: number[] = []
  let i = 0
  while (i < col.length) {
    let value = 0
    let n = 0
    for (;;) {
      if (i >= col.length) throw new WireError('invalid-varint', `${name}: varint cut off`)
      const b = col[i++]
      value += (b & 0x7f) * 2 ** (7 * n)
      n++
      if ((b & 0x80) === 0) {
        if (n > 1 && b === 0) throw new WireError('invalid-varint', `${name}: varint not in minimal form`)
        break
      }
      if (n >= maxBytes) throw new WireError('invalid-varint', `${name}: varint longer than ${maxBytes} bytes`)
    }
    if (value > maxValue) throw new WireError('invalid-varint', `${name}: varint above ${maxValue}`)
    out.push(value)
  }
  return out
}

/** The events of a batch, checked against the stream's context. */
export function batchEvents (m: Msg, ctx: StreamContext): Events {
  const count = m.count as number
  if (count > ctx.maxEvents) throw new WireError('too-many-events', `count ${count} over max_events ${ctx.maxEvents}`)
  const val = m._val as Uint8Array | undefined
  if (ctx.kind === 'spike' && val !== undefined) throw new WireError('kind-mismatch', 'val on a spike port')
  if (ctx.kind === 'weighted' && val === undefined) throw new WireError('kind-mismatch', 'no val on a weighted port')
  const channels = varints(m._ch as Uint8Array, 5, 0xffffffff, 'ch')
  if (channels.length !== count) throw new WireError('column-mismatch', `ch holds ${channels.length} varints, count is ${count}`)
  const deltas = varints(m._dt as Uint8Array, 8, MAX_U53, 'dt')
  if (deltas.length !== count) throw new WireError('column-mismatch', `dt holds ${deltas.length} varints, count is ${count}`)
  let values: number[] | undefined
  if (val !== undefined) {
    if (val.length !== 4 * count) throw new WireError('column-mismatch', `val holds ${val.length} bytes for ${count} events`)
    const view = new DataView(val.buffer, val.byteOffset, val.byteLength)
    values = []
    for (let i = 0; i < count; i++) {
      const v = view.getFloat32(4 * i, true)
      if (!Number.isFinite(v)) throw new WireError('invalid-message', 'a value is NaN or infinite')
      values.push(v)
    }
  }
  const times: number[] = []
  let t = m.base as number
  for (const d of deltas) {
    t += d
    if (t > MAX_U53) throw new WireError('time-overflow', 'an event time over 2^53 − 1')
    times.push(t)
  }
  for (const c of channels) {
    if ((ctx.channels !== undefined && c >= ctx.channels) || (ctx.filter !== undefined && !ctx.filter.has(c))) {
      throw new WireError('channel-out-of-range', `channel ${c}`)
    }
  }
  return values === undefined ? { channels, times } : { channels, times, values }
}

/** A batch in the JSON mapping (columns as hex). */
export function batchJson (m: Msg): Msg {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
  const out: Msg = { type: 'batch', seq: m.seq, base: m.base, count: m.count, ch: hex(m._ch as Uint8Array), dt: hex(m._dt as Uint8Array) }
  if (m._val !== undefined) out.val = hex(m._val as Uint8Array)
  return out
}
