/**
 * Checks for model parameters. A model validates everything once, when built, and throws
 * {@link ModelParamError} naming the parameter; after that its numbers are trusted.
 */
import { ModelParamError } from './errors.ts'

export interface Range {
  /** Inclusive lower bound. */
  min?: number
  /** Exclusive lower bound. */
  above?: number
  /** Inclusive upper bound. */
  max?: number
  integer?: boolean
}

/** Return `value` if it is a finite number inside `range`, else throw {@link ModelParamError}. */
export function checkNumber (name: string, value: unknown, range: Range = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ModelParamError(name, `must be a finite number, got ${String(value)}`)
  }
  if (range.integer === true && !Number.isInteger(value)) throw new ModelParamError(name, `must be an integer, got ${value}`)
  if (range.min !== undefined && value < range.min) throw new ModelParamError(name, `must be ≥ ${range.min}, got ${value}`)
  if (range.above !== undefined && !(value > range.above)) throw new ModelParamError(name, `must be > ${range.above}, got ${value}`)
  if (range.max !== undefined && value > range.max) throw new ModelParamError(name, `must be ≤ ${range.max}, got ${value}`)
  return value
}

/** The largest channel count a model accepts (the wire allows more; a model allocates per channel). */
export const MAX_MODEL_CHANNELS = 1 << 20

/** Check a channel count. */
export function checkChannels (name: string, value: unknown): number {
  return checkNumber(name, value, { min: 1, max: MAX_MODEL_CHANNELS, integer: true })
}

/**
 * Expand a per-channel parameter given either as one number for every channel or as an array of
 * exactly `channels` numbers; each value is checked against `range`.
 */
export function perChannel (name: string, value: number | readonly number[], channels: number, range: Range = {}): Float64Array {
  const out = new Float64Array(channels)
  if (typeof value === 'number') {
    out.fill(checkNumber(name, value, range))
    return out
  }
  if (!Array.isArray(value) || value.length !== channels) {
    throw new ModelParamError(name, `must be a number or an array of ${channels} numbers`)
  }
  for (let i = 0; i < channels; i++) out[i] = checkNumber(`${name}[${i}]`, value[i], range)
  return out
}

/** True if `channel` is an integer channel id below `channels`. */
export function isChannel (channel: number, channels: number): boolean {
  return Number.isInteger(channel) && channel >= 0 && channel < channels
}
