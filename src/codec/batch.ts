/**
 * Columnar event batches (spec §8.6): packing events into the ch / dt / val byte strings and back, with
 * no object per event. The batch encoder writes the CBOR bytes directly (the hot path); the output is
 * byte for byte what the generic deterministic encoder produces (checked in tests).
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_CHANNEL_VARINT_BYTES, MAX_CHANNELS, MAX_DELTA_VARINT_BYTES, MAX_TIME_US, MessageType } from './constants.ts'
import { InvalidArgumentError } from '../base/errors.ts'
import { SpikewireError } from './errors.ts'
import { readVarintColumn, varintLength, writeVarint } from './varint.ts'
import type { Batch } from './messages.ts'

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Size of a CBOR head carrying `v`. */
export function headLength (v: number): number {
  if (v < 24) return 1
  if (v < 0x100) return 2
  if (v < 0x10000) return 3
  if (v < 0x1_0000_0000) return 5
  return 9
}

/** Write a CBOR head of major type `major` with argument `v` (shortest form) and return the new offset. */
export function writeHead (out: Uint8Array, offset: number, major: number, v: number): number {
  const m = major << 5
  if (v < 24) {
    out[offset] = m | v
    return offset + 1
  }
  if (v < 0x100) {
    out[offset] = m | 24
    out[offset + 1] = v
    return offset + 2
  }
  if (v < 0x10000) {
    out[offset] = m | 25
    out[offset + 1] = v >>> 8
    out[offset + 2] = v & 0xff
    return offset + 3
  }
  if (v < 0x1_0000_0000) {
    out[offset] = m | 26
    out[offset + 1] = v >>> 24
    out[offset + 2] = (v >>> 16) & 0xff
    out[offset + 3] = (v >>> 8) & 0xff
    out[offset + 4] = v & 0xff
    return offset + 5
  }
  out[offset] = m | 27
  const hi = Math.floor(v / 0x1_0000_0000)
  const lo = v >>> 0
  out[offset + 1] = hi >>> 24
  out[offset + 2] = (hi >>> 16) & 0xff
  out[offset + 3] = (hi >>> 8) & 0xff
  out[offset + 4] = hi & 0xff
  out[offset + 5] = lo >>> 24
  out[offset + 6] = (lo >>> 16) & 0xff
  out[offset + 7] = (lo >>> 8) & 0xff
  out[offset + 8] = lo & 0xff
  return offset + 9
}

let chScratch = new Uint8Array(64 * 1024)
let dtScratch = new Uint8Array(64 * 1024)

function grow (buf: Uint8Array<ArrayBuffer>, need: number): Uint8Array<ArrayBuffer> {
  if (buf.length >= need) return buf
  return new Uint8Array(Math.max(need, buf.length * 2))
}

/**
 * A batch's columns packed into wire bytes, ready to be framed for one or more streams (each with its
 * own sequence number). The byte views returned by `packColumns` stay valid until its next call.
 */
export interface PackedColumns {
  base: number
  count: number
  ch: Uint8Array
  dt: Uint8Array
  /** Values as float32 little-endian bytes, weighted ports only. */
  val?: Uint8Array
}

/**
 * Pack events `from`..`to` (exclusive) of the columns into wire bytes. Times must be integers,
 * non-decreasing and not before `base` (InvalidArgumentError otherwise: a sender bug, not a wire error).
 * `trusted` skips those checks for columns that were checked when they were filled.
 */
export function packColumns (channels: ArrayLike<number>, times: ArrayLike<number>, values: Float32Array | undefined, from: number, to: number, base = times[from], trusted = false): PackedColumns {
  const n = to - from
  if (!(Number.isInteger(n) && n >= 1)) throw new InvalidArgumentError(`batch count must be ≥ 1 (got ${n})`)
  if (!Number.isSafeInteger(base) || base < 0) throw new InvalidArgumentError(`batch base must be a uint ≤ 2^53 − 1 (got ${base})`)
  chScratch = grow(chScratch, n * MAX_CHANNEL_VARINT_BYTES)
  dtScratch = grow(dtScratch, n * MAX_DELTA_VARINT_BYTES)
  const ch = chScratch
  const dt = dtScratch
  let chLen = 0
  let dtLen = 0
  let prev = base
  if (trusted) {
    // Columns checked already (an OutPort checks every event at emit): the tight loop.
    for (let i = from; i < to; i++) {
      const c = channels[i]
      if (c < 0x80) ch[chLen++] = c
      else if (c < 0x4000) {
        ch[chLen++] = (c & 0x7f) | 0x80
        ch[chLen++] = c >>> 7
      } else chLen = writeVarint(ch, chLen, c)
      const t = times[i]
      const d = t - prev
      if (d < 0x80) dt[dtLen++] = d
      else dtLen = writeVarint(dt, dtLen, d)
      prev = t
    }
  } else for (let i = from; i < to; i++) {
    const c = channels[i]
    if (c < 0x80) {
      ch[chLen++] = c
    } else if (c <= MAX_CHANNELS && Number.isInteger(c)) {
      chLen = writeVarint(ch, chLen, c)
    } else {
      throw new InvalidArgumentError(`event ${i}: channel ${c} is not a uint32`)
    }
    const t = times[i]
    const d = t - prev
    if (!(d >= 0) || !Number.isInteger(t) || t > MAX_TIME_US) {
      throw new InvalidArgumentError(`event ${i}: time ${t} is not an integer ≥ ${prev} and ≤ 2^53 − 1`)
    }
    if (d < 0x80) {
      dt[dtLen++] = d
    } else {
      dtLen = writeVarint(dt, dtLen, d)
    }
    prev = t
  }
  let val: Uint8Array | undefined
  if (values !== undefined) {
    if (!trusted) for (let i = from; i < to; i++) {
      if (!Number.isFinite(values[i])) throw new InvalidArgumentError(`event ${i}: value ${values[i]} is not finite`)
    }
    if (littleEndian) {
      val = new Uint8Array(values.buffer, values.byteOffset + 4 * from, 4 * n)
    } else {
      val = new Uint8Array(4 * n)
      const view = new DataView(val.buffer)
      for (let i = 0; i < n; i++) view.setFloat32(4 * i, values[from + i], true)
    }
  }
  return { base, count: n, ch: ch.subarray(0, chLen), dt: dt.subarray(0, dtLen), val }
}

/** Size of the CBOR encoding of a batch with these columns and sequence number. */
function batchBodyLength (seq: number, p: PackedColumns): number {
  return 3 + // map head, key 0, type 6
    1 + headLength(seq) + 1 + headLength(p.base) + 1 + headLength(p.count) +
    1 + headLength(p.ch.length) + p.ch.length + 1 + headLength(p.dt.length) + p.dt.length +
    (p.val === undefined ? 0 : 1 + headLength(p.val.length) + p.val.length)
}

/** Encode packed columns as a batch with sequence number `seq`, optionally with its frame prefix. */
export function encodePackedBatch (seq: number, p: PackedColumns, framed: boolean): Uint8Array {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new InvalidArgumentError(`batch seq must be a uint ≤ 2^53 − 1 (got ${seq})`)
  const bodyLen = batchBodyLength(seq, p)
  const prefixLen = framed ? varintLength(bodyLen) : 0
  const out = new Uint8Array(prefixLen + bodyLen)
  let o = framed ? writeVarint(out, 0, bodyLen) : 0
  out[o++] = 0xa0 | (p.val === undefined ? 6 : 7)
  out[o++] = 0x00
  out[o++] = MessageType.batch
  out[o++] = 0x01
  o = writeHead(out, o, 0, seq)
  out[o++] = 0x02
  o = writeHead(out, o, 0, p.base)
  out[o++] = 0x03
  o = writeHead(out, o, 0, p.count)
  out[o++] = 0x04
  o = writeHead(out, o, 2, p.ch.length)
  out.set(p.ch, o)
  o += p.ch.length
  out[o++] = 0x05
  o = writeHead(out, o, 2, p.dt.length)
  out.set(p.dt, o)
  o += p.dt.length
  if (p.val !== undefined) {
    out[o++] = 0x06
    o = writeHead(out, o, 2, p.val.length)
    out.set(p.val, o)
  }
  return out
}

/**
 * A batch encoded once for every stream that sends the same events (an out port's subscribers without a
 * filter, or with the same filter). Its frame differs between streams only in the sequence number, the second
 * field of the map, and in the length prefix, whose size depends on it: `tail`, the encoding of every field
 * after seq (base, count, ch, dt, val), is one byte array that all those streams' frames share, and `frame(seq)`
 * puts a stream's own few bytes before it. Byte for byte what `encodePackedBatch(seq, columns, true)` gives.
 */
export class SharedBatch {
  readonly count: number
  /** The encoding of keys 2 to 6 (base, count, ch, dt and val when present). */
  readonly tail: Uint8Array
  readonly #mapHead: number

  constructor (p: PackedColumns) {
    this.count = p.count
    this.#mapHead = 0xa0 | (p.val === undefined ? 6 : 7)
    const len = 1 + headLength(p.base) + 1 + headLength(p.count) +
      1 + headLength(p.ch.length) + p.ch.length + 1 + headLength(p.dt.length) + p.dt.length +
      (p.val === undefined ? 0 : 1 + headLength(p.val.length) + p.val.length)
    const out = new Uint8Array(len)
    let o = 0
    out[o++] = 0x02
    o = writeHead(out, o, 0, p.base)
    out[o++] = 0x03
    o = writeHead(out, o, 0, p.count)
    out[o++] = 0x04
    o = writeHead(out, o, 2, p.ch.length)
    out.set(p.ch, o)
    o += p.ch.length
    out[o++] = 0x05
    o = writeHead(out, o, 2, p.dt.length)
    out.set(p.dt, o)
    o += p.dt.length
    if (p.val !== undefined) {
      out[o++] = 0x06
      o = writeHead(out, o, 2, p.val.length)
      out.set(p.val, o)
    }
    this.tail = out
  }

  /** Bytes of the frame for a sequence number (at most 16 more than the tail). */
  frameLength (seq: number): number {
    const body = 4 + headLength(seq) + this.tail.length
    return varintLength(body) + body
  }

  /** The whole frame of this batch for a stream whose batch starts at `seq`: its own head, then the shared tail. */
  frame (seq: number): Uint8ArrayList {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new InvalidArgumentError(`batch seq must be a uint ≤ 2^53 − 1 (got ${seq})`)
    const body = 4 + headLength(seq) + this.tail.length
    const head = new Uint8Array(varintLength(body) + 4 + headLength(seq))
    let o = writeVarint(head, 0, body)
    head[o++] = this.#mapHead
    head[o++] = 0x00
    head[o++] = MessageType.batch
    head[o++] = 0x01
    writeHead(head, o, 0, seq)
    return new Uint8ArrayList(head, this.tail)
  }
}

/** Encode a batch message as CBOR, optionally preceded by its frame length prefix. */
export function encodeBatchBytes (b: Batch, framed: boolean): Uint8Array {
  if (b.channels.length < b.count || b.times.length < b.count || (b.values != null && b.values.length < b.count)) {
    throw new InvalidArgumentError('batch columns are shorter than count')
  }
  return encodePackedBatch(b.seq, packColumns(b.channels, b.times, b.values, 0, b.count, b.base), framed)
}

export interface ColumnLimits {
  /** Channel count of the port: ids must be below it. */
  channels?: number
  /** Channel filter of the stream: ids must be in it. */
  filter?: ReadonlySet<number>
  /** Decode into these reused buffers instead of new ones (for a batch that is checked, then dropped). */
  scratch?: ColumnScratch
}

/**
 * Column buffers reused from one decode to the next, grown as needed: a batch decoded into them is checked
 * exactly as any other, but its columns are views that the next decode overwrites. For a receiver that will
 * drop the batch unread (an `in` port whose inbox is full and has no reader): checking it then allocates
 * nothing per batch.
 */
export class ColumnScratch {
  #channels = new Uint32Array(0)
  #times = new Float64Array(0)
  #values = new Float32Array(0)

  /** Views of `count` elements (the previous contents are overwritten by the decode). */
  columns (count: number, weighted: boolean): { channels: Uint32Array, times: Float64Array, values: Float32Array | undefined } {
    if (this.#channels.length < count) {
      this.#channels = new Uint32Array(count)
      this.#times = new Float64Array(count)
    }
    if (weighted && this.#values.length < count) this.#values = new Float32Array(count)
    return {
      channels: this.#channels.subarray(0, count),
      times: this.#times.subarray(0, count),
      values: weighted ? this.#values.subarray(0, count) : undefined
    }
  }
}

/** Decode the ch and dt columns (and val when present) of a batch whose fields have been read. */
export function decodeColumns (seq: number, base: number, count: number, ch: Uint8Array, dt: Uint8Array, val: Uint8Array | undefined, limits: ColumnLimits): Batch {
  // Check order follows spec §7.5: ch, dt, val, time-overflow, channel-out-of-range. The caller has
  // bounded count (too-many-events), so these allocations are bounded too.
  const reused = limits.scratch?.columns(count, val != null)
  const channels = reused?.channels ?? new Uint32Array(count)
  const times = reused?.times ?? new Float64Array(count)
  readVarintColumn(ch, count, channels, MAX_CHANNEL_VARINT_BYTES, MAX_CHANNELS, 'ch')
  readVarintColumn(dt, count, times, MAX_DELTA_VARINT_BYTES, MAX_TIME_US, 'dt')
  let values: Float32Array | undefined
  if (val != null) {
    if (val.length !== 4 * count) {
      throw new SpikewireError('column-mismatch', `val holds ${val.length} bytes, count ${count} needs ${4 * count}`)
    }
    values = reused?.values ?? new Float32Array(count)
    if (littleEndian) {
      new Uint8Array(values.buffer, values.byteOffset, values.byteLength).set(val)
    } else {
      const view = new DataView(val.buffer, val.byteOffset, val.byteLength)
      for (let i = 0; i < count; i++) values[i] = view.getFloat32(4 * i, true)
    }
    for (let i = 0; i < count; i++) {
      if (!Number.isFinite(values[i])) throw new SpikewireError('invalid-message', `event ${i}: value is not finite`)
    }
  }
  let t = base
  for (let i = 0; i < count; i++) {
    t += times[i]
    times[i] = t
  }
  if (t > MAX_TIME_US) throw new SpikewireError('time-overflow', `event times pass 2^53 − 1 (base ${base})`)
  const limit = limits.channels
  if (limit !== undefined) {
    for (let i = 0; i < count; i++) {
      if (channels[i] >= limit) {
        throw new SpikewireError('channel-out-of-range', `event ${i}: channel ${channels[i]} ≥ channel count ${limit}`)
      }
    }
  }
  const filter = limits.filter
  if (filter !== undefined) {
    for (let i = 0; i < count; i++) {
      if (!filter.has(channels[i])) {
        throw new SpikewireError('channel-out-of-range', `event ${i}: channel ${channels[i]} is not in the stream's channel filter`)
      }
    }
  }
  return { type: 'batch', seq, base, count, channels, times, values }
}

/**
 * Collects events for one batch without creating an object per event. Reuse it: `take()` hands out a
 * batch that owns copies of the columns and empties the builder.
 */
export class BatchBuilder {
  readonly capacity: number
  readonly weighted: boolean
  #channels: Uint32Array
  #times: Float64Array
  #values: Float32Array | undefined
  #count = 0

  constructor (capacity: number, weighted = false) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new InvalidArgumentError('capacity must be ≥ 1')
    this.capacity = capacity
    this.weighted = weighted
    this.#channels = new Uint32Array(capacity)
    this.#times = new Float64Array(capacity)
    this.#values = weighted ? new Float32Array(capacity) : undefined
  }

  get count (): number {
    return this.#count
  }

  get full (): boolean {
    return this.#count === this.capacity
  }

  /** Time of the last event added, or undefined when empty. */
  get lastTime (): number | undefined {
    return this.#count === 0 ? undefined : this.#times[this.#count - 1]
  }

  /** Add an event; returns false (and adds nothing) when full. */
  push (channel: number, time: number, value = 0): boolean {
    if (this.#count === this.capacity) return false
    const i = this.#count++
    this.#channels[i] = channel
    this.#times[i] = time
    if (this.#values !== undefined) this.#values[i] = value
    return true
  }

  /** Take the collected events as a batch starting at sequence number `seq`; the builder is emptied. */
  take (seq: number): Batch {
    const n = this.#count
    if (n === 0) throw new InvalidArgumentError('empty batch')
    this.#count = 0
    return {
      type: 'batch',
      seq,
      base: this.#times[0],
      count: n,
      channels: this.#channels.slice(0, n),
      times: this.#times.slice(0, n),
      values: this.#values?.slice(0, n)
    }
  }

  /** Encode the collected events as one framed batch and empty the builder (no intermediate copies). */
  takeFrame (seq: number): Uint8Array {
    const n = this.#count
    if (n === 0) throw new InvalidArgumentError('empty batch')
    this.#count = 0
    return encodeBatchBytes({
      type: 'batch',
      seq,
      base: this.#times[0],
      count: n,
      channels: this.#channels,
      times: this.#times,
      values: this.#values
    }, true)
  }
}

/** Call `fn` for each event of a batch, in order. */
export function forEachEvent (b: Batch, fn: (channel: number, time: number, value: number | undefined, index: number) => void): void {
  const { channels, times, values } = b
  for (let i = 0; i < b.count; i++) fn(channels[i], times[i], values?.[i], i)
}
