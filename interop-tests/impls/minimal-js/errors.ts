/** The one error of the minimal implementation: a rule broken on the wire, with its registry name (spec §10.1). */
export class WireError extends Error {
  override name = 'WireError'
  readonly code: string

  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }
}

/** Spec §10.1: the registry numbers by name. */
export const CODES: Record<string, number> = {
  normal: 0,
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
  unauthorized: 17,
  'too-many-streams': 18,
  'slow-consumer': 19,
  timeout: 20,
  shutdown: 21,
  unsupported: 22,
  'internal-error': 23
}

export const CODE_NAMES = new Map(Object.entries(CODES).map(([k, v]) => [v, k]))
