/**
 * Reading the language-neutral test vectors (interop-tests/vectors/README.md) without any codec: the
 * harness only moves their bytes and compares JSON.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export const VECTORS_DIR = join(import.meta.dirname, '..', 'vectors')

export interface VectorContext {
  kind?: 'spike' | 'weighted'
  channels?: number
  max_events?: number
  max_frame?: number
  filter?: number[]
}

export interface Vector {
  id: string
  title: string
  why: string
  fail: boolean
  code?: string
  context?: VectorContext
  role?: string
  message?: Record<string, unknown>
  events?: number[][]
  cbor_hex?: string
  frame_hex?: string
  decode_only?: boolean
  messages?: Array<Record<string, unknown>>
  messages_hex?: string[]
  fail_at?: number
  gap?: number
}

export interface IndexEntry {
  id: string
  area: string
  file: string
  fail: boolean
  code?: string
}

export function loadIndex (dir = VECTORS_DIR): IndexEntry[] {
  return JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as IndexEntry[]
}

const cache = new Map<string, Vector>()

export function loadVector (id: string, dir = VECTORS_DIR): Vector {
  const key = `${dir}\0${id}`
  let v = cache.get(key)
  if (v === undefined) {
    const area = id.slice(0, id.indexOf('-'))
    v = JSON.parse(readFileSync(join(dir, area, `${id}.json`), 'utf8')) as Vector
    cache.set(key, v)
  }
  return v
}

export function areaOf (id: string): string {
  return id.slice(0, id.indexOf('-'))
}

/** The unsigned LEB128 length prefix of a frame (spec §5.1), as hex. */
export function prefixHex (length: number): string {
  const out: number[] = []
  let n = length
  do {
    let b = n & 0x7f
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return out.map(b => b.toString(16).padStart(2, '0')).join('')
}

/** A frame (prefix + body) around a CBOR item given as hex. */
export function frameHex (bodyHex: string): string {
  return prefixHex(bodyHex.length / 2) + bodyHex
}
