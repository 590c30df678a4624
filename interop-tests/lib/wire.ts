/**
 * The few messages the harness writes into adversarial cases (open, accept, close, a small batch),
 * encoded by hand in deterministic CBOR (spec §7.1) so that the harness does not depend on any
 * implementation's codec. Output is lowercase hex.
 */

type Item = number | string | Uint8Array | number[] | Map<number, Item>

function head (major: number, n: number): number[] {
  const m = major << 5
  if (n < 24) return [m | n]
  if (n < 0x100) return [m | 24, n]
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff]
  if (n < 0x100000000) return [m | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
  const hi = Math.floor(n / 0x100000000)
  const lo = n >>> 0
  return [m | 27, (hi >>> 24) & 0xff, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, (lo >>> 24) & 0xff, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff]
}

function encodeItem (v: Item, out: number[]): void {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`only unsigned integers: ${v}`)
    out.push(...head(0, v))
  } else if (typeof v === 'string') {
    const b = new TextEncoder().encode(v)
    out.push(...head(3, b.length), ...b)
  } else if (v instanceof Uint8Array) {
    out.push(...head(2, v.length), ...v)
  } else if (Array.isArray(v)) {
    out.push(...head(4, v.length))
    for (const x of v) encodeItem(x, out)
  } else {
    const keys = [...v.keys()].sort((a, b) => a - b)
    out.push(...head(5, keys.length))
    for (const k of keys) {
      encodeItem(k, out)
      encodeItem(v.get(k)!, out)
    }
  }
}

function hex (bytes: number[]): string {
  return bytes.map(b => b.toString(16).padStart(2, '0')).join('')
}

/** CBOR of a message map with unsigned integer keys, as hex. */
export function encodeMap (entries: Array<[number, Item]>): string {
  const out: number[] = []
  encodeItem(new Map(entries), out)
  return hex(out)
}

export const T0 = 1_767_225_600_000_000

export function openHex (mode: 'subscribe' | 'push', port: string, channels?: number[]): string {
  const e: Array<[number, Item]> = [[0, 3], [1, mode === 'subscribe' ? 1 : 2], [2, port]]
  if (channels !== undefined) e.push([3, channels])
  return encodeMap(e)
}

export function acceptHex (port: string, kind: 'spike' | 'weighted', channels: number, time = T0): string {
  return encodeMap([[0, 4], [1, port], [2, kind === 'spike' ? 0 : 1], [3, channels], [4, time]])
}

export function closeHex (code = 0): string {
  return encodeMap([[0, 9], [1, code]])
}

export function watermarkHex (seq: number, time: number): string {
  return encodeMap([[0, 7], [1, seq], [2, time]])
}

/** A spike batch of events on channels 0, 1, 2, … at base, base + 10, … (seq given). */
export function smallBatchHex (seq: number, count: number, base = T0): string {
  const ch = new Uint8Array(count).map((_, i) => i % 16)
  const dt = new Uint8Array(count).map((_, i) => i === 0 ? 0 : 10)
  return encodeMap([[0, 6], [1, seq], [2, base], [3, count], [4, ch], [5, dt]])
}

/**
 * The accept of a stream vector with its port replaced: stream vectors name ports such as "spikes", and
 * a dialer under test opens a port named after the case. Key 1 is the first key after the type, so its
 * encoding appears once, right after `00 04`.
 */
export function renamePortInAccept (acceptHexStr: string, from: string, to: string): string {
  const old = '0004' + encodeMap([[1, from]]).slice(2)
  const fresh = '0004' + encodeMap([[1, to]]).slice(2)
  if (!acceptHexStr.includes(old)) throw new Error(`the accept does not name the port "${from}"`)
  return acceptHexStr.replace(old, fresh)
}
