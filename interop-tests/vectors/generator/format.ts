/**
 * Stable pretty-printing of vector files: two-space indentation, objects one key per line in insertion
 * order, arrays of scalars on one line when that line is short (events, filters, parameters), long
 * arrays one element per line.
 */
import type { Json } from './mapping.ts'

const INLINE_LIMIT = 100

export function formatJson (value: Json): string {
  return format(value, '') + '\n'
}

function format (value: Json, indent: string): string {
  if (value === null || typeof value !== 'object') return scalar(value)
  const inner = indent + '  '
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const line = `[${value.map(scalar).join(', ')}]`
      if (line.length <= INLINE_LIMIT) return line
    }
    return `[\n${value.map((v) => inner + format(v, inner)).join(',\n')}\n${indent}]`
  }
  const keys = Object.keys(value).filter((k) => value[k] !== undefined)
  if (keys.length === 0) return '{}'
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${format(value[k], inner)}`).join(',\n')}\n${indent}}`
}

function scalar (v: Json): string {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error('non-finite number in JSON')
  if (Object.is(v, -0)) throw new Error('-0 cannot round-trip through JSON')
  return JSON.stringify(v)
}
