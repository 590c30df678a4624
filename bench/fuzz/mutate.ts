/**
 * Structure-aware mutation of spikewire frames, seeded from the test vectors. A mutated frame is a seed
 * with one to four edits stacked on it: edits of the CBOR tree (a value at a boundary, another type, a
 * longer head, an indefinite or lying length, a map key changed, moved, repeated or dropped, deeper
 * nesting, a subtree from another seed, a rebuilt batch column), then edits of the bytes (bit flips, byte
 * insert/delete/duplicate, truncation). Frames can also be generated from scratch (a map with a message
 * type and fields at boundary values). Everything is drawn from one seeded generator per frame.
 */
import type { Prng } from '../../src/base/prng.ts'
import { cloneTree, floatNode, slots, writeTree } from './cbor-tree.ts'
import type { CNode, Width } from './cbor-tree.ts'
import type { Corpus, Seed } from './corpus.ts'

const TWO_32 = 2n ** 32n
const TWO_53 = 2n ** 53n
const TWO_64 = 2n ** 64n

/** Unsigned values at the edges the decoder must handle: head widths, 2^32, 2^53, 2^64 − 1. */
export const BOUNDARY_UINTS: readonly bigint[] = [
  0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n, 12n, 15n, 16n, 17n, 22n, 23n, 24n, 25n, 127n, 128n, 255n, 256n,
  4095n, 4096n, 4097n, 65535n, 65536n, 65537n, TWO_32 - 1n, TWO_32, TWO_32 + 1n, TWO_53 - 2n, TWO_53 - 1n, TWO_53,
  TWO_53 + 1n, TWO_64 - 1n, 1_767_225_600_000_000n
]

const FLOATS: ReadonlyArray<[number, 2 | 4 | 8]> = [
  [NaN, 2], [Infinity, 2], [-Infinity, 2], [0, 2], [-0, 2], [1, 2], [0.5, 2], [1.5, 2], [65504, 2],
  [1, 4], [1, 8], [0.1, 8], [2 ** 53, 8], [2 ** 53 - 1, 8], [1767225600000000, 8], [1e300, 8], [NaN, 4], [NaN, 8],
  [3.4028234663852886e38, 4], [1.401298464324817e-45, 4], [2 ** 32, 4], [-1, 4]
]

const INTERESTING_BYTES = [0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x20, 0x3f, 0x40, 0x5f, 0x60, 0x7f, 0x80,
  0x9f, 0xa0, 0xbf, 0xc0, 0xd8, 0xe0, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfe, 0xff]

const enc = new TextEncoder()

function pick<T> (rng: Prng, list: readonly T[]): T {
  return list[rng.int(list.length)]
}

function uintNode (v: bigint): CNode {
  return { t: 'uint', v }
}

/** A text of `n` bytes: repeated letters, a port-name-like string, or invalid UTF-8. */
function textNode (rng: Prng, n: number): CNode {
  const r = rng.int(4)
  if (r === 0) {
    const b = new Uint8Array(Math.max(1, n))
    b.fill(0x61)
    b[b.length - 1] = pick(rng, [0xff, 0xc3, 0xed, 0x80])
    return { t: 'text', v: b }
  }
  const s = r === 1 ? pick(rng, ['', 'A', '-x', '.', 'spikes', 'stim', 'Spikes', 'a b', 'é', 'x'.repeat(64), 'x'.repeat(65), '\u0000']) : 'a'.repeat(n)
  return { t: 'text', v: enc.encode(s) }
}

/** Some node of another type (or the same type at a boundary). */
export function randomNode (rng: Prng): CNode {
  switch (rng.int(12)) {
    case 0:
    case 1:
    case 2: return uintNode(pick(rng, BOUNDARY_UINTS))
    case 3: return { t: 'nint', v: pick(rng, [0n, 1n, TWO_53 - 2n, TWO_53 - 1n, TWO_53, TWO_64 - 1n]) }
    case 4: { const [v, s] = pick(rng, FLOATS); return floatNode(v, s) }
    case 5: return textNode(rng, pick(rng, [0, 1, 63, 64, 65, 255, 256, 257, 1000, 5000]))
    case 6: return { t: 'bytes', v: new Uint8Array(pick(rng, [0, 1, 4, 5, 8, 9, 300, 5000])).fill(pick(rng, [0, 0x7f, 0x80, 0xff])) }
    case 7: return { t: 'simple', v: pick(rng, [20, 21, 22, 23, 0, 19, 24, 31, 255]) }
    case 8: return { t: 'array', v: Array.from({ length: rng.int(4) }, () => uintNode(BigInt(rng.int(300)))) }
    case 9: return { t: 'map', v: rng.int(2) === 0 ? [] : [[uintNode(0n), uintNode(BigInt(rng.int(12)))]] }
    case 10: return { t: 'tag', tag: pick(rng, [0n, 1n, 2n, 24n, 55799n]), v: uintNode(1n) }
    default: return { t: 'raw', v: Uint8Array.of(pick(rng, INTERESTING_BYTES)) }
  }
}

/** A varint column of `n` values (a few of them wide) with an optional defect. */
function varintColumn (rng: Prng, n: number, maxBytes: number): Uint8Array {
  const out: number[] = []
  const base = rng.int(128)
  const wide = new Set(Array.from({ length: Math.min(n, 3) }, () => rng.int(n)))
  for (let i = 0; i < n; i++) {
    if (!wide.has(i)) { out.push((base + i * 31) & 0x7f); continue }
    const width = 2 + rng.int(maxBytes - 1)
    const low = 2 ** (7 * (width - 1))
    let v = low + Math.floor(rng.next() * (128 * low - low))
    for (let k = 1; k < width; k++) { out.push((v % 128) | 0x80); v = Math.floor(v / 128) }
    out.push(v)
  }
  switch (rng.int(8)) {
    case 0: out.push(0x80, 0x00); break // a non-minimal varint
    case 1: out.push(...new Array<number>(maxBytes).fill(0xff), 0x01); break // one byte too long
    case 2: out.push(0xff); break // cut off
    case 3: out.pop(); break // one value short
    case 4: out.push(0x01); break // one value more
    case 5: if (maxBytes === 5) out.push(0x80, 0x80, 0x80, 0x80, 0x10); else out.push(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10); break // 2^32 / 2^53
    default: break
  }
  return Uint8Array.from(out)
}

/** Rebuild a batch's columns and count around a random event count (valid or nearly so). */
function batchEdit (rng: Prng, map: Extract<CNode, { t: 'map' }>): void {
  const n = pick(rng, [0, 1, 2, 3, 7, 100, 4095, 4096, 4097, 65536, 65537])
  const set = (key: number, node: CNode): void => {
    const e = map.v.find(([k]) => k.t === 'uint' && k.v === BigInt(key))
    if (e !== undefined) e[1] = node
  }
  const shown = pick(rng, [n, n, n, n + 1, Math.max(0, n - 1), 0])
  set(3, uintNode(BigInt(shown)))
  const realN = Math.min(n, 1000)
  set(4, { t: 'bytes', v: varintColumn(rng, realN, 5) })
  set(5, { t: 'bytes', v: varintColumn(rng, realN, 8) })
  if (rng.int(3) === 0) {
    const val = new Uint8Array(Math.max(0, 4 * realN + pick(rng, [0, 0, 0, 1, -1, 4])))
    const view = new DataView(val.buffer)
    for (let i = 0; i + 4 <= val.length; i += 4) view.setFloat32(i, pick(rng, [0, 1, -1, NaN, Infinity, 3.4e38, 1e-45]), true)
    const e = map.v.find(([k]) => k.t === 'uint' && k.v === 6n)
    if (e !== undefined) e[1] = { t: 'bytes', v: val }
    else map.v.push([uintNode(6n), { t: 'bytes', v: val }])
  }
}

const WIDTHS: Width[] = [24, 25, 26, 27]

/** One edit of the tree; returns the (possibly new) root. */
function treeEdit (rng: Prng, root: CNode, corpus: Corpus): CNode {
  let out = root
  const all = slots(root, n => { out = n })
  const s = pick(rng, all)
  const node = s.node
  switch (rng.int(13)) {
    case 0: // a value at a boundary
      s.set(node.t === 'nint' || rng.int(6) === 0 ? { t: 'nint', v: pick(rng, BOUNDARY_UINTS) } : uintNode(pick(rng, BOUNDARY_UINTS)))
      break
    case 1: // another type
      s.set(randomNode(rng))
      break
    case 2: // a longer head than needed
      if (node.t === 'uint' || node.t === 'nint' || node.t === 'bytes' || node.t === 'text' || node.t === 'array' || node.t === 'map') node.w = pick(rng, WIDTHS)
      else s.set(floatNode(1, pick(rng, [4, 8] as const)))
      break
    case 3: // a length that lies, or an indefinite length
      if (node.t === 'bytes' || node.t === 'text' || node.t === 'array' || node.t === 'map') {
        if (rng.int(3) === 0) node.indef = true
        else node.len = pick(rng, [BigInt(node.v.length) + 1n, BigInt(Math.max(0, node.v.length - 1)), TWO_32 - 1n, TWO_53, TWO_64 - 1n, 0n])
      } else s.set({ t: 'raw', v: Uint8Array.of(0xff) })
      break
    case 4: case 5: { // map key edits
      const map = node.t === 'map' ? node : s.parentMap
      if (map === undefined || map.v.length === 0) { s.set(randomNode(rng)); break }
      const i = rng.int(map.v.length)
      switch (rng.int(7)) {
        case 0: map.v[i][0] = uintNode(BigInt(rng.int(10))); break
        case 1: map.v[i][0] = randomNode(rng); break
        case 2: map.v.splice(i, 0, [cloneTree(map.v[i][0]), randomNode(rng)]); break // repeated key
        case 3: if (map.v.length > 1) { const j = rng.int(map.v.length); [map.v[i], map.v[j]] = [map.v[j], map.v[i]] } break
        case 4: map.v.splice(i, 1); break
        case 5: map.v.push([uintNode(pick(rng, [7n, 8n, 9n, 23n, 24n, 255n, TWO_32, TWO_64 - 1n])), randomNode(rng)]); break // unknown key
        default: map.v[i][0] = floatNode(pick(rng, [0, 1, 2, 1.5]), 2); break
      }
      break
    }
    case 6: { // deeper nesting
      let n: CNode = node
      const k = pick(rng, [1, 2, 8, 13, 14, 15, 16, 17, 30])
      for (let i = 0; i < k; i++) n = rng.int(2) === 0 ? { t: 'array', v: [n] } : { t: 'map', v: [[uintNode(0n), n]] }
      s.set(n)
      break
    }
    case 7: { // a subtree from another seed
      const other = pick(rng, corpus.messages).tree
      if (other === undefined) break
      const donor = pick(rng, slots(other, () => {})).node
      s.set(cloneTree(donor))
      break
    }
    case 8: { // the message type
      const map = root.t === 'map' ? root : undefined
      const e = map?.v.find(([k]) => k.t === 'uint' && k.v === 0n)
      if (e !== undefined) e[1] = uintNode(BigInt(pick(rng, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 255, 65536])))
      else s.set(randomNode(rng))
      break
    }
    case 9: { // a batch's columns
      const map = root.t === 'map' ? root : undefined
      if (map !== undefined) batchEdit(rng, map)
      break
    }
    case 10: // a huge or edge-length string
      s.set(textNode(rng, pick(rng, [64, 65, 256, 257, 4096, 20_000])))
      break
    case 11: // an array edit: drop, repeat or add an item
      if (node.t === 'array') {
        const r = rng.int(3)
        if (r === 0 && node.v.length > 0) node.v.splice(rng.int(node.v.length), 1)
        else if (r === 1 && node.v.length > 0) node.v.push(cloneTree(node.v[rng.int(node.v.length)]))
        else node.v.unshift(randomNode(rng))
      } else s.set({ t: 'array', v: [node] })
      break
    default: // a float where something else was
      { const [v, size] = pick(rng, FLOATS); s.set(floatNode(node.t === 'uint' && rng.int(2) === 0 ? Number(node.v) : v, node.t === 'uint' ? pick(rng, [2, 4, 8] as const) : size)) }
  }
  return out
}

/** One edit of the bytes. */
function byteEdit (rng: Prng, b: Uint8Array): Uint8Array {
  if (b.length === 0) return Uint8Array.of(pick(rng, INTERESTING_BYTES))
  const i = rng.int(b.length)
  switch (rng.int(7)) {
    case 0: { const c = b.slice(); c[i] ^= 1 << rng.int(8); return c }
    case 1: { const c = b.slice(); c[i] = pick(rng, INTERESTING_BYTES); return c }
    case 2: { // insert
      const ins = Uint8Array.from({ length: 1 + rng.int(4) }, () => rng.int(2) === 0 ? pick(rng, INTERESTING_BYTES) : rng.int(256))
      const c = new Uint8Array(b.length + ins.length)
      c.set(b.subarray(0, i)); c.set(ins, i); c.set(b.subarray(i), i + ins.length)
      return c
    }
    case 3: { // delete
      const n = 1 + rng.int(Math.min(8, b.length - i))
      const c = new Uint8Array(b.length - n)
      c.set(b.subarray(0, i)); c.set(b.subarray(i + n), i)
      return c
    }
    case 4: { // duplicate a range
      const n = 1 + rng.int(Math.min(16, b.length - i))
      const c = new Uint8Array(b.length + n)
      c.set(b.subarray(0, i + n)); c.set(b.subarray(i, i + n), i + n); c.set(b.subarray(i + n), i + 2 * n)
      return c
    }
    case 5: return b.slice(0, i) // truncate
    default: { const c = new Uint8Array(b.length + 1); c.set(b); c[b.length] = rng.int(256); return c } // trailing byte
  }
}

/** A message map from scratch: a type and a few fields at boundary values. */
function generate (rng: Prng): CNode {
  const type = rng.int(13)
  const keys = new Set<number>()
  const n = rng.int(8)
  for (let i = 0; i < n; i++) keys.add(1 + rng.int(7))
  const v: Array<[CNode, CNode]> = [[uintNode(0n), uintNode(BigInt(type))]]
  for (const k of [...keys].sort((a, b) => a - b)) v.push([uintNode(BigInt(k)), randomNode(rng)])
  return { t: 'map', v }
}

export interface MutateOptions {
  /** Seeds to draw from. */
  seeds: readonly Seed[]
  corpus: Corpus
  /** Chance of a tree edit that rebuilds a batch's columns (batch target). */
  batchBias?: number
}

/** A mutated (or generated, or occasionally unchanged) message body and the seed it came from. */
export function mutateBody (rng: Prng, o: MutateOptions): { bytes: Uint8Array, seed: Seed | undefined } {
  const r = rng.int(100)
  if (r < 3) { const seed = pick(rng, o.seeds); return { bytes: seed.bytes, seed } }
  if (r < 8) return { bytes: writeTree(generate(rng)), seed: undefined }
  const seed = pick(rng, o.seeds)
  let bytes = seed.bytes
  const edits = 1 + rng.int(4)
  let k = 0
  if (seed.tree !== undefined && rng.int(4) !== 0) {
    let tree = cloneTree(seed.tree)
    const treeEdits = 1 + rng.int(edits)
    for (; k < treeEdits; k++) {
      if (o.batchBias !== undefined && rng.next() < o.batchBias && tree.t === 'map') batchEdit(rng, tree)
      else tree = treeEdit(rng, tree, o.corpus)
    }
    bytes = writeTree(tree)
  }
  for (; k < edits; k++) if (k > 0 || rng.int(2) === 0) bytes = byteEdit(rng, bytes)
  return { bytes, seed }
}

/** The LEB128 length prefix of `n`, in minimal form. */
export function prefix (n: number): number[] {
  const out: number[] = []
  while (n >= 0x80) { out.push((n % 128) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return out
}

/** A mutated byte stream of frames: one to three frames, whose length prefixes may be edited too. */
export function mutateStream (rng: Prng, o: MutateOptions, frameSeeds: readonly Seed[]): Uint8Array {
  if (rng.int(5) === 0) {
    const seed = pick(rng, frameSeeds)
    let b = seed.bytes
    const edits = rng.int(3)
    for (let i = 0; i < edits; i++) b = byteEdit(rng, b)
    return b
  }
  const parts: number[] = []
  const frames = 1 + (rng.int(3) === 0 ? rng.int(3) : 0)
  for (let f = 0; f < frames; f++) {
    const body = mutateBody(rng, o).bytes
    let p = prefix(body.length)
    switch (rng.int(10)) {
      case 0: p = prefix(body.length + pick(rng, [1, -1, 2, 100])); break
      case 1: p = [...p.slice(0, -1), p[p.length - 1] | 0x80, 0x00]; break // non-minimal
      case 2: p = [0x80, 0x80, 0x80, 0x80, 0x01]; break // 5 bytes
      case 3: p = [0x00]; break
      case 4: p = prefix(pick(rng, [1024 * 1024, 1024 * 1024 + 1, 2 ** 28 - 1, 4097])); break
      default: break
    }
    parts.push(...p)
    for (const x of body) parts.push(x)
  }
  return Uint8Array.from(parts)
}
