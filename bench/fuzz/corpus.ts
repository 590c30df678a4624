/**
 * Seeds for the fuzzer, read from the language-neutral test vectors (interop-tests/vectors): every valid
 * and failure vector that holds bytes, with the receiver context it comes with.
 */
import { readFileSync } from 'node:fs'
import { fromHex } from '../../src/codec/index.ts'
import type { DecodeOptions, KindName } from '../../src/codec/index.ts'
import { parseTree } from './cbor-tree.ts'
import type { CNode } from './cbor-tree.ts'

export const VECTORS_DIR = new URL('../../interop-tests/vectors/', import.meta.url)

export interface Seed {
  id: string
  area: string
  fail: boolean
  /** The code a failure vector expects. */
  code?: string
  /** A message body (CBOR item); for framing vectors, the bytes on the stream. */
  bytes: Uint8Array
  /** The body parsed by the fuzzer's own lenient parser, when it can be. */
  tree?: CNode
  /** The receiver context of the vector as decode options. */
  options: DecodeOptions
  /** Framing vectors: the receiver's frame limit. */
  maxFrame?: number
}

interface VectorFile {
  id: string
  fail: boolean
  code?: string
  cbor_hex?: string
  frame_hex?: string
  messages_hex?: string[]
  context?: { kind?: KindName, channels?: number, max_events?: number, max_frame?: number, filter?: number[] }
}

export interface Corpus {
  /** Message bodies of every area but framing, clocksync and stream, plus the bodies of stream vectors. */
  messages: Seed[]
  /** Framing vectors: whole streams (prefix and body). */
  frames: Seed[]
  /** Message bodies of batch vectors only. */
  batches: Seed[]
  /** Bodies by message type number (key 0 of valid seeds), for the live targets. */
  byType: Map<number, Seed[]>
}

function options (ctx: VectorFile['context']): DecodeOptions {
  const o: DecodeOptions = {}
  if (ctx?.kind !== undefined) o.kind = ctx.kind
  if (ctx?.channels !== undefined) o.channels = ctx.channels
  if (ctx?.max_events !== undefined) o.maxEvents = ctx.max_events
  if (ctx?.filter !== undefined) o.filter = new Set(ctx.filter)
  return o
}

function tryTree (bytes: Uint8Array): CNode | undefined {
  try {
    return parseTree(bytes)
  } catch {
    return undefined
  }
}

/** The message type (key 0) of a parsed body, if it has one. */
export function typeOf (tree: CNode | undefined): number | undefined {
  if (tree?.t !== 'map') return undefined
  const e = tree.v.find(([k]) => k.t === 'uint' && k.v === 0n)
  return e !== undefined && e[1].t === 'uint' ? Number(e[1].v) : undefined
}

export function loadCorpus (): Corpus {
  const index = JSON.parse(readFileSync(new URL('index.json', VECTORS_DIR), 'utf8')) as Array<{ id: string, area: string, file: string }>
  const corpus: Corpus = { messages: [], frames: [], batches: [], byType: new Map() }
  for (const entry of index) {
    if (entry.area === 'clocksync') continue
    const v = JSON.parse(readFileSync(new URL(entry.file, VECTORS_DIR), 'utf8')) as VectorFile
    const base = { id: v.id, area: entry.area, fail: v.fail, code: v.code, options: options(v.context) }
    if (entry.area === 'framing') {
      corpus.frames.push({ ...base, bytes: fromHex(v.frame_hex!), maxFrame: v.context?.max_frame })
      continue
    }
    const bodies = entry.area === 'stream' ? (v.messages_hex ?? []) : [v.cbor_hex!]
    bodies.forEach((hex, i) => {
      const bytes = fromHex(hex)
      // Stream bodies before the failing one are valid messages on their own.
      const seed: Seed = entry.area === 'stream'
        ? { ...base, id: `${v.id}#${i}`, fail: false, code: undefined, options: {}, bytes, tree: tryTree(bytes) }
        : { ...base, bytes, tree: tryTree(bytes) }
      corpus.messages.push(seed)
      if (typeOf(seed.tree) === 6) corpus.batches.push(seed)
      const type = typeOf(seed.tree)
      if (type !== undefined && !seed.fail) {
        const list = corpus.byType.get(type) ?? []
        list.push(seed)
        corpus.byType.set(type, list)
      }
    })
  }
  return corpus
}
