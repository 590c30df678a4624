/**
 * Registries of the spikewire wire format v1, written out again from the design brief on purpose:
 * the vectors must check src/codec, not copy it. test/vectors/vectors-files.test.ts compares these
 * tables with src/codec/constants.ts so that a disagreement is seen, not hidden.
 */

export const MESSAGE_TYPES: Record<string, number> = {
  'describe-request': 1,
  'description': 2,
  'open': 3,
  'accept': 4,
  'reject': 5,
  'batch': 6,
  'watermark': 7,
  'loss': 8,
  'close': 9,
  'clock-request': 10,
  'clock-response': 11
}

export const ERROR_CODES: Record<string, number> = {
  'normal': 0,
  'malformed-frame': 1,
  'frame-too-large': 2,
  'invalid-cbor': 3,
  'invalid-message': 4,
  'unknown-message-type': 5,
  'unexpected-message': 6,
  'invalid-varint': 7,
  'column-mismatch': 8,
  'time-overflow': 9,
  'time-regression': 10,
  'channel-out-of-range': 11,
  'too-many-events': 12,
  'kind-mismatch': 13,
  'invalid-sequence': 14,
  'unknown-port': 15,
  'wrong-direction': 16,
  'unauthorized': 17,
  'too-many-streams': 18,
  'slow-consumer': 19,
  'timeout': 20,
  'shutdown': 21,
  'unsupported': 22,
  'internal-error': 23
}

export const LOSS_REASONS: Record<string, number> = {
  'queue-overflow': 1,
  'source-overrun': 2,
  'safety-limit': 3,
  'late': 4,
  'other': 5
}

/**
 * Faults of a clock sample or response (spec §9.3.3), by name, with the error code that ends the clock
 * stream when the fault does; the others only discard the sample. These names do not travel on the wire.
 */
export const CLOCK_SAMPLE_FAULTS: Record<string, string | undefined> = {
  'negative-delay': undefined,
  't4-before-t1': undefined,
  't3-before-t2': 'invalid-message',
  'echo-mismatch': 'invalid-message'
}

export const MODES: Record<string, number> = { subscribe: 1, push: 2 }
export const KINDS: Record<string, number> = { spike: 0, weighted: 1 }
export const DIRECTIONS: Record<string, number> = { in: 0, out: 1 }

/** Vector areas, in the order the README presents them. */
export const AREAS = [
  'framing', 'cbor', 'describe', 'open', 'accept', 'reject', 'batch', 'watermark', 'loss', 'close',
  'clock', 'clocksync', 'stream', 'fuzz', 'directory'
] as const
export type Area = typeof AREAS[number]

/** 2^53 − 1: the largest time, sequence number or other uint a v1 message may carry. */
export const MAX_UINT = Number.MAX_SAFE_INTEGER
export const MAX_CHANNEL_ID = 0xffff_ffff
export const DEFAULT_MAX_FRAME = 1048576

/** Name of a registered number, or the number itself when it is not registered. */
export function nameOf (table: Record<string, number>, value: number): string | number {
  for (const [name, n] of Object.entries(table)) {
    if (n === value) return name
  }
  return value
}

/** Number of a registered name; a number passes through (unregistered values stay numbers). */
export function numberOf (table: Record<string, number>, value: string | number): number {
  if (typeof value === 'number') return value
  const n = table[value]
  if (n === undefined) throw new Error(`unregistered name ${value}`)
  return n
}
