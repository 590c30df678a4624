/**
 * Normative constants of the spikewire wire format, spec v1 revision 4 (spec/spikewire.md).
 * Every value here is quoted from the spec section named beside it; change both together.
 */

/** §4 "A protocol id is /spikewire/<name>/<major.minor.patch>." */
export const PROTOCOL_PREFIX = '/spikewire'
export const PROTOCOL_VERSION = '1.0.0'
export const DESCRIBE_PROTOCOL = `${PROTOCOL_PREFIX}/describe/${PROTOCOL_VERSION}`
export const EVENTS_PROTOCOL = `${PROTOCOL_PREFIX}/events/${PROTOCOL_VERSION}`
export const CLOCK_PROTOCOL = `${PROTOCOL_PREFIX}/clock/${PROTOCOL_VERSION}`

/** §5 "A receiver MUST accept frames of up to 1 MiB; it MAY accept larger ones." */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024
/** §5 "The length prefix is an unsigned LEB128 varint of at most 4 bytes in minimal form." */
export const MAX_LENGTH_PREFIX_BYTES = 4

/** §6 "Timestamps are unsigned integers no greater than 2^53 − 1." */
export const MAX_TIME_US = Number.MAX_SAFE_INTEGER
/** §8.2 "A channel count is an integer from 1 to 2^32 − 1." */
export const MAX_CHANNELS = 0xffff_ffff
/** §8.6 "A receiver MUST accept batches of up to 4096 events." */
export const MIN_MAX_EVENTS = 4096
/** The reference implementation's default per-batch event limit (§8.6 allows any value ≥ MIN_MAX_EVENTS). */
export const DEFAULT_MAX_EVENTS = 65536
/** §8.1 "A text field is at most 256 bytes of UTF-8 unless stated otherwise." */
export const MAX_TEXT_BYTES = 256
/** §8.2 "A node description lists at most 256 ports." */
export const MAX_PORTS = 256
/** §8.2 "A model lists at most 256 parameters." */
export const MAX_PARAMS = 256
/** §8.3 "delay: 0 to 2^32 − 1 µs" (revision 3). */
export const MAX_DELAY_US = 0xffff_ffff
/** §9.2.4 "A batch or loss whose seq + count exceeds 2^53 − 1 MUST be rejected with invalid-message." */
export const MAX_SEQ_END = Number.MAX_SAFE_INTEGER
/** §8.3 "A channel filter lists at most 65536 channel ids." */
export const MAX_FILTER_CHANNELS = 65536
/** §8.2 "At most 32 protocol ids." */
export const MAX_PROTOCOL_IDS = 32
/** §8.2 "port: 1 to 64 bytes matching [a-z0-9][a-z0-9_.-]*" */
export const PORT_NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/

/** §8 message type numbers, carried under key 0 of every message. */
export const MessageType = {
  'describe-request': 1,
  description: 2,
  open: 3,
  accept: 4,
  reject: 5,
  batch: 6,
  watermark: 7,
  loss: 8,
  close: 9,
  'clock-request': 10,
  'clock-response': 11
} as const
export type MessageTypeName = keyof typeof MessageType

/** §8.3 stream modes. */
export const Mode = { subscribe: 1, push: 2 } as const
export type ModeName = keyof typeof Mode

/** §3 port directions and kinds. */
export const Direction = { in: 0, out: 1 } as const
export type DirectionName = keyof typeof Direction
export const Kind = { spike: 0, weighted: 1 } as const
export type KindName = keyof typeof Kind

/** §8.8 loss reasons. */
export const LossReason = {
  'queue-overflow': 1,
  'source-overrun': 2,
  'safety-limit': 3,
  'late': 4,
  'other': 5
} as const
export type LossReasonName = keyof typeof LossReason

/**
 * §10 error-code registry. The number travels on the wire (reject, close); the name is what
 * implementations and test vectors use.
 */
export const ErrorCode = {
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
} as const
export type ErrorCodeName = keyof typeof ErrorCode

/** §8 field keys, per message type. Key 0 is always the message type. */
export const Key = {
  type: 0,
  description: { name: 1, role: 2, ports: 3, software: 4, model: 5, protocols: 6 },
  port: { name: 1, direction: 2, kind: 3, channels: 4, model: 5 },
  model: { name: 1, params: 2 },
  open: { mode: 1, port: 2, channels: 3, delay: 4, maxEvents: 5, source: 6 },
  accept: { port: 1, kind: 2, channels: 3, time: 4, maxEvents: 5 },
  reject: { code: 1, reason: 2 },
  batch: { seq: 1, base: 2, count: 3, ch: 4, dt: 5, val: 6 },
  watermark: { seq: 1, time: 2 },
  loss: { seq: 1, count: 2, reason: 3 },
  close: { code: 1, reason: 2 },
  clockRequest: { id: 1, t1: 2 },
  clockResponse: { id: 1, t1: 2, t2: 3, t3: 4 }
} as const

/** §9.2 "An acceptor that has not received open within 10 seconds sends close{timeout} and resets." */
export const OPEN_TIMEOUT_MS = 10_000
/** §9.1 "A describe exchange that takes longer than 10 seconds MAY be abandoned." */
export const DESCRIBE_TIMEOUT_MS = 10_000

/** §8.6 "A channel id varint is at most 5 bytes; a time delta varint at most 8 bytes." */
export const MAX_CHANNEL_VARINT_BYTES = 5
export const MAX_DELTA_VARINT_BYTES = 8
/** §7 "Nesting deeper than 16 levels MUST be rejected." */
export const MAX_NESTING = 16
/** §8.10 "A clock request id is at most 2^32 − 1." */
export const MAX_CLOCK_ID = 0xffff_ffff
