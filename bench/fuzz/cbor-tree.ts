/**
 * The fuzzer's own view of CBOR: a lenient parser into a tree that remembers how each item was encoded
 * (head width, indefinite length, a length that lies), and a writer that reproduces exactly that. It is
 * independent of src/codec on purpose: mutations must be able to express every encoding the strict
 * reader has to refuse, and the acceptance oracle must not share the reader's blind spots.
 */

/** How a head is written: undefined = shortest form; 24..27 = that additional info (maybe longer than needed). */
export type Width = 24 | 25 | 26 | 27 | undefined

export type CNode =
  | { t: 'uint', v: bigint, w?: Width }
  /** A negative integer −1 − v. */
  | { t: 'nint', v: bigint, w?: Width }
  | { t: 'bytes' | 'text', v: Uint8Array, w?: Width, indef?: boolean, len?: bigint }
  | { t: 'array', v: CNode[], w?: Width, indef?: boolean, len?: bigint }
  | { t: 'map', v: Array<[CNode, CNode]>, w?: Width, indef?: boolean, len?: bigint }
  | { t: 'tag', tag: bigint, v: CNode }
  /** Simple values 0..255 (20 false, 21 true, 22 null, 23 undefined). */
  | { t: 'simple', v: number }
  /** A float of 2, 4 or 8 bytes, as raw big-endian bits. */
  | { t: 'float', bits: Uint8Array }
  /** Bytes written as they are (a break code, garbage). */
  | { t: 'raw', v: Uint8Array }

class Cursor {
  pos = 0
  readonly b: Uint8Array

  constructor (b: Uint8Array) {
    this.b = b
  }

  byte (): number {
    if (this.pos >= this.b.length) throw new Error('cut off')
    return this.b[this.pos++]
  }

  arg (ai: number): { v: bigint, w: Width } {
    if (ai < 24) return { v: BigInt(ai), w: undefined }
    const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : -1
    if (n < 0) throw new Error('reserved or indefinite')
    let v = 0n
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.byte())
    return { v, w: shortestAi(v) === ai ? undefined : ai as Width }
  }
}

function shortestAi (v: bigint): number {
  if (v < 24n) return Number(v)
  if (v < 0x100n) return 24
  if (v < 0x10000n) return 25
  if (v < 0x1_0000_0000n) return 26
  return 27
}

/** Parse one item filling `bytes`; throws on anything it cannot represent (the seed is then used as raw bytes). */
export function parseTree (bytes: Uint8Array): CNode {
  const c = new Cursor(bytes)
  const node = item(c, 0)
  if (c.pos !== bytes.length) throw new Error('trailing bytes')
  return node
}

function item (c: Cursor, depth: number): CNode {
  if (depth > 64) throw new Error('too deep')
  const head = c.byte()
  const major = head >> 5
  const ai = head & 0x1f
  if (ai === 31 && major >= 2 && major <= 5) return indefinite(c, major, depth)
  switch (major) {
    case 0: { const a = c.arg(ai); return { t: 'uint', v: a.v, w: a.w } }
    case 1: { const a = c.arg(ai); return { t: 'nint', v: a.v, w: a.w } }
    case 2:
    case 3: {
      const a = c.arg(ai)
      const n = Number(a.v)
      if (c.pos + n > c.b.length) throw new Error('cut off')
      const v = c.b.slice(c.pos, c.pos + n)
      c.pos += n
      return { t: major === 2 ? 'bytes' : 'text', v, w: a.w }
    }
    case 4: {
      const a = c.arg(ai)
      if (a.v > BigInt(c.b.length)) throw new Error('cut off')
      const v: CNode[] = []
      for (let i = 0n; i < a.v; i++) v.push(item(c, depth + 1))
      return { t: 'array', v, w: a.w }
    }
    case 5: {
      const a = c.arg(ai)
      if (a.v > BigInt(c.b.length)) throw new Error('cut off')
      const v: Array<[CNode, CNode]> = []
      for (let i = 0n; i < a.v; i++) v.push([item(c, depth + 1), item(c, depth + 1)])
      return { t: 'map', v, w: a.w }
    }
    case 6: { const a = c.arg(ai); return { t: 'tag', tag: a.v, v: item(c, depth + 1) } }
    default: {
      if (ai < 24) return { t: 'simple', v: ai }
      if (ai === 24) return { t: 'simple', v: c.byte() }
      const n = ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : -1
      if (n < 0) throw new Error('reserved')
      if (c.pos + n > c.b.length) throw new Error('cut off')
      const bits = c.b.slice(c.pos, c.pos + n)
      c.pos += n
      return { t: 'float', bits }
    }
  }
}

function indefinite (c: Cursor, major: number, depth: number): CNode {
  const items: CNode[] = []
  while (c.b[c.pos] !== 0xff) {
    if (c.pos >= c.b.length) throw new Error('cut off')
    items.push(item(c, depth + 1))
  }
  c.pos++
  if (major === 4) return { t: 'array', v: items, indef: true }
  if (major === 5) {
    if (items.length % 2 !== 0) throw new Error('odd map')
    const v: Array<[CNode, CNode]> = []
    for (let i = 0; i < items.length; i += 2) v.push([items[i], items[i + 1]])
    return { t: 'map', v, indef: true }
  }
  const parts = items.map(x => (x.t === 'bytes' || x.t === 'text') ? x.v : new Uint8Array())
  const v = new Uint8Array(parts.reduce((s, p) => s + p.length, 0))
  let o = 0
  for (const p of parts) { v.set(p, o); o += p.length }
  return { t: major === 2 ? 'bytes' : 'text', v, indef: true }
}

/** Growable byte output. */
class Out {
  buf = new Uint8Array(256)
  n = 0

  room (k: number): void {
    if (this.n + k <= this.buf.length) return
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k))
    next.set(this.buf.subarray(0, this.n))
    this.buf = next
  }

  push (b: number): void {
    this.room(1)
    this.buf[this.n++] = b
  }

  bytes (b: Uint8Array): void {
    this.room(b.length)
    this.buf.set(b, this.n)
    this.n += b.length
  }

  head (major: number, v: bigint, w: Width): void {
    const ai = w ?? shortestAi(v)
    if (ai < 24) { this.push((major << 5) | ai); return }
    this.push((major << 5) | ai)
    const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : 8
    for (let i = n - 1; i >= 0; i--) this.push(Number((v >> BigInt(8 * i)) & 0xffn))
  }
}

/** Write the tree exactly as it says (lying lengths, widths and indefinite items included). */
export function writeTree (node: CNode): Uint8Array {
  const out = new Out()
  write(out, node)
  return out.buf.slice(0, out.n)
}

function write (out: Out, n: CNode): void {
  switch (n.t) {
    case 'uint': out.head(0, n.v, n.w); return
    case 'nint': out.head(1, n.v, n.w); return
    case 'bytes':
    case 'text': {
      const major = n.t === 'bytes' ? 2 : 3
      if (n.indef === true) {
        out.push((major << 5) | 31)
        const half = n.v.length >> 1
        out.head(major, BigInt(half), undefined)
        out.bytes(n.v.subarray(0, half))
        out.head(major, BigInt(n.v.length - half), undefined)
        out.bytes(n.v.subarray(half))
        out.push(0xff)
      } else {
        out.head(major, n.len ?? BigInt(n.v.length), n.w)
        out.bytes(n.v)
      }
      return
    }
    case 'array':
      if (n.indef === true) out.push(0x9f)
      else out.head(4, n.len ?? BigInt(n.v.length), n.w)
      for (const x of n.v) write(out, x)
      if (n.indef === true) out.push(0xff)
      return
    case 'map':
      if (n.indef === true) out.push(0xbf)
      else out.head(5, n.len ?? BigInt(n.v.length), n.w)
      for (const [k, v] of n.v) { write(out, k); write(out, v) }
      if (n.indef === true) out.push(0xff)
      return
    case 'tag': out.head(6, n.tag, undefined); write(out, n.v); return
    case 'simple':
      if (n.v < 24) out.push(0xe0 | n.v)
      else { out.push(0xf8); out.push(n.v & 0xff) }
      return
    case 'float':
      out.push(n.bits.length === 2 ? 0xf9 : n.bits.length === 4 ? 0xfa : 0xfb)
      out.bytes(n.bits)
      return
    case 'raw': out.bytes(n.v)
  }
}

/** A float node holding `v` in `size` bytes (2: only for the values listed in HALF). */
export function floatNode (v: number, size: 2 | 4 | 8): CNode {
  const bits = new Uint8Array(size)
  const view = new DataView(bits.buffer)
  if (size === 8) view.setFloat64(0, v)
  else if (size === 4) view.setFloat32(0, v)
  else view.setUint16(0, HALF.get(v) ?? 0x7e00)
  return { t: 'float', bits }
}

/** Binary16 bit patterns of a few values. */
export const HALF = new Map<number, number>([[0, 0x0000], [1, 0x3c00], [1.5, 0x3e00], [0.5, 0x3800], [2, 0x4000], [65504, 0x7bff], [Infinity, 0x7c00], [-Infinity, 0xfc00], [NaN, 0x7e00], [-0, 0x8000]])

/** Every node of the tree with a way to replace it (the root's setter replaces the root). */
export interface Slot {
  node: CNode
  set: (n: CNode) => void
  /** The map this node is a key or value of, if any. */
  parentMap?: Extract<CNode, { t: 'map' }>
  isKey?: boolean
  depth: number
}

export function slots (root: CNode, setRoot: (n: CNode) => void): Slot[] {
  const out: Slot[] = []
  const visit = (node: CNode, set: (n: CNode) => void, depth: number, parentMap?: Extract<CNode, { t: 'map' }>, isKey?: boolean): void => {
    out.push({ node, set, depth, parentMap, isKey })
    if (node.t === 'array') node.v.forEach((x, i) => { visit(x, n => { node.v[i] = n }, depth + 1) })
    else if (node.t === 'map') {
      node.v.forEach((e, i) => {
        visit(e[0], n => { node.v[i][0] = n }, depth + 1, node, true)
        visit(e[1], n => { node.v[i][1] = n }, depth + 1, node, false)
      })
    } else if (node.t === 'tag') visit(node.v, n => { node.v = n }, depth + 1)
  }
  visit(root, setRoot, 1)
  return out
}

/** A deep copy (byte arrays are shared: mutations replace them, never write into them). */
export function cloneTree (n: CNode): CNode {
  switch (n.t) {
    case 'array': return { ...n, v: n.v.map(cloneTree) }
    case 'map': return { ...n, v: n.v.map(([k, v]) => [cloneTree(k), cloneTree(v)] as [CNode, CNode]) }
    case 'tag': return { ...n, v: cloneTree(n.v) }
    default: return { ...n }
  }
}
