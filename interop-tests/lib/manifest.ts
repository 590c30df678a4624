/**
 * impls.json: the implementations under test, how to start each one and what it can do. Validated on
 * load; a mistake names the entry and the field.
 */
import { readFileSync } from 'node:fs'
import { FEATURES } from './contract.ts'
import type { Feature, Role } from './contract.ts'

export interface CodecEntry {
  command: string
  args: string[]
  /** true: the command reads JSON requests line by line (fast); false: one process per vector. */
  lines: boolean
  /** Vector areas it handles (default: all). Vectors of other areas are not applicable. */
  areas?: string[]
  /** true: it also answers "encode" requests (message in the JSON mapping -> bytes). */
  encode: boolean
}

/** A failure of this implementation that is known and reported, not counted (impls.json "known_issues"). */
export interface KnownIssue {
  scenario: string
  /** The adversarial case (vector id) that fails. */
  case: string
  note: string
}

export interface Impl {
  id: string
  description: string
  /** The command and its arguments, run with cwd = repository root. Absent for codec-only entries. */
  command?: string
  args: string[]
  roles: Role[]
  features: Feature[]
  /** Protocol ids it speaks (and serves, as a listener). */
  protocols: string[]
  /** Largest frame it accepts, bytes (default 1 MiB). */
  maxFrameBytes: number
  codec?: CodecEntry
  knownIssues: KnownIssue[]
}

export class ManifestError extends Error {
  override name = 'ManifestError'
  readonly code = 'manifest-invalid'
}

type Obj = Record<string, unknown>

function fail (where: string, rule: string): never {
  throw new ManifestError(`${where} ${rule}`)
}

function strings (v: unknown, where: string): string[] {
  if (!Array.isArray(v) || !v.every(x => typeof x === 'string')) fail(where, 'must be an array of strings')
  return v as string[]
}

function codec (v: unknown, where: string): CodecEntry {
  if (typeof v !== 'object' || v === null) fail(where, 'must be an object')
  const o = v as Obj
  if (typeof o.command !== 'string' || o.command === '') fail(`${where}.command`, 'must be a non-empty string')
  const c: CodecEntry = { command: o.command, args: o.args === undefined ? [] : strings(o.args, `${where}.args`), lines: o.lines === true, encode: o.encode === true }
  if (o.areas !== undefined) c.areas = strings(o.areas, `${where}.areas`)
  return c
}

function knownIssues (v: unknown, where: string): KnownIssue[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) fail(where, 'must be an array')
  return v.map((k: unknown, i) => {
    const o = k as Obj
    if (typeof o !== 'object' || o === null || typeof o.scenario !== 'string' || typeof o.case !== 'string' || typeof o.note !== 'string') {
      fail(`${where}[${i}]`, 'must be {"scenario", "case", "note"} (strings)')
    }
    return { scenario: o.scenario, case: o.case, note: o.note }
  })
}

export function parseManifest (json: unknown, where = 'impls.json'): Impl[] {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as Obj).implementations)) {
    fail(where, 'must be an object with an "implementations" array')
  }
  const seen = new Set<string>()
  return ((json as Obj).implementations as unknown[]).map((e, i): Impl => {
    const at = `${where} implementations[${i}]`
    if (typeof e !== 'object' || e === null) fail(at, 'must be an object')
    const o = e as Obj
    if (typeof o.id !== 'string' || !/^[a-z0-9][a-z0-9_.-]*$/.test(o.id)) fail(`${at}.id`, 'must match [a-z0-9][a-z0-9_.-]*')
    if (seen.has(o.id)) fail(`${at}.id`, `"${o.id}" is used twice`)
    seen.add(o.id)
    const roles = strings(o.roles ?? [], `${at}.roles`)
    for (const r of roles) if (r !== 'dialer' && r !== 'listener') fail(`${at}.roles`, `holds "${r}"; use "dialer" and/or "listener"`)
    const features = strings(o.features ?? [], `${at}.features`)
    for (const f of features) if (!(FEATURES as readonly string[]).includes(f)) fail(`${at}.features`, `holds unknown feature "${f}" (known: ${FEATURES.join(', ')})`)
    if (roles.length > 0 && (typeof o.command !== 'string' || o.command === '')) fail(`${at}.command`, 'is required when roles are listed')
    const impl: Impl = {
      id: o.id,
      description: typeof o.description === 'string' ? o.description : '',
      args: o.args === undefined ? [] : strings(o.args, `${at}.args`),
      roles: roles as Role[],
      features: features as Feature[],
      protocols: strings(o.protocols ?? [], `${at}.protocols`),
      maxFrameBytes: typeof o.max_frame_bytes === 'number' ? o.max_frame_bytes : 1024 * 1024,
      knownIssues: knownIssues(o.known_issues, `${at}.known_issues`)
    }
    if (typeof o.command === 'string') impl.command = o.command
    if (o.codec !== undefined) impl.codec = codec(o.codec, `${at}.codec`)
    if (features.includes('codec') && impl.codec === undefined) fail(`${at}.codec`, 'is required with the "codec" feature')
    return impl
  })
}

export function loadManifest (path: string): Impl[] {
  return parseManifest(JSON.parse(readFileSync(path, 'utf8')), path)
}
