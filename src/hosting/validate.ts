/**
 * The checks every config validator is built from (node configs here, the gateway's and the relay's above):
 * each names the broken field by its path and throws ConfigError config-invalid.
 */
import { ConfigError } from '../node/errors.ts'
import type { PeerList } from '../ports/acl.ts'
import type { Tunable } from '../wire/defaults.ts'

export type Obj = Record<string, unknown>

/** A PeerId as a config writes it (base58btc). */
export const PEER_ID_PATTERN = /^[1-9A-HJ-NP-Za-km-z]{40,60}$/

export function fail (path: string, rule: string): never {
  throw new ConfigError('config-invalid', `${path} ${rule}`)
}

export function obj (v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be an object')
  return v as Obj
}

/** Refuse fields not in `keys`. */
export function known (o: Obj, path: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${path}.${k}`, `is not a known field (known: ${keys.join(', ')})`)
}

export function str (v: unknown, path: string, pattern?: RegExp): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) fail(path, 'must be a non-empty string of at most 256 characters')
  if (pattern !== undefined && !pattern.test(v)) fail(path, `must match ${pattern}`)
  return v
}

export function int (v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, `must be an integer from ${min} to ${max}`)
  return v
}

/** An integer tunable in its range (a table entry with min and max, e.g. src/wire/defaults.ts). */
export function tunable (v: unknown, path: string, range: Pick<Tunable, 'min' | 'max'>): number {
  return int(v, path, range.min, range.max)
}

export function num (v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(path, `must be a number from ${min} to ${max}`)
  return v
}

export function opt<T> (o: Obj, key: string, f: (v: unknown) => T): T | undefined {
  return o[key] === undefined ? undefined : f(o[key])
}

/** "*" or an array of PeerIds (at most `maxItems` when given). */
export function peerList (v: unknown, path: string, maxItems?: number): PeerList {
  if (v === '*') return '*'
  if (!Array.isArray(v) || (maxItems !== undefined && v.length > maxItems)) fail(path, 'must be "*" or an array of PeerId strings')
  return v.map((p, i) => str(p, `${path}[${i}]`, PEER_ID_PATTERN))
}
