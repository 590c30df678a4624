import { cborWith } from '../dsl.ts'
import type { Message } from '../mapping.ts'
import type { VectorDef } from '../types.ts'

/** [code, reason, why]: one valid close per code that ends a stream (the others are shown by reject). */
const CODES: Array<[string | number, string | undefined, string]> = [
  ['normal', undefined, 'The smallest close: code 0 and no reason.'],
  ['normal', 'bye', 'A normal close with a reason.'],
  ['malformed-frame', 'length prefix over 4 bytes', 'Sent before resetting after a framing error.'],
  ['frame-too-large', 'frame of 2097152 bytes', 'A length prefix announced more than the max frame size.'],
  ['invalid-cbor', 'duplicate map key', 'A frame body was not deterministic CBOR.'],
  ['unknown-message-type', 'type 99', 'A message type this version does not define.'],
  ['unexpected-message', 'batch before accept', 'A message not allowed in the stream\'s state.'],
  ['invalid-varint', 'non-minimal varint in ch', 'A batch column held a bad varint.'],
  ['column-mismatch', 'dt holds 3 varints, count 2', 'A batch column did not hold count values.'],
  ['time-overflow', 'event time over 2^53-1', 'A batch event time exceeded 2^53 − 1.'],
  ['time-regression', 'batch before watermark', 'Times went backwards across batches or watermarks.'],
  ['too-many-events', 'count 5000 > 4096', 'A batch exceeded the receiver\'s max-events.'],
  ['kind-mismatch', 'val on a spike port', 'A batch had val on a spike port or lacked it on a weighted port.'],
  ['invalid-sequence', 'seq 3 < expected 5', 'A sequence number went backwards.'],
  ['slow-consumer', 'send queue full for 5 s', 'The event receiver could not keep up.'],
  ['timeout', 'no open within 10 s', 'The acceptor waited for an open that never came.'],
  [4242, undefined, 'An unregistered code stays a number in JSON; a receiver MUST NOT fail on it.'],
  [Number.MAX_SAFE_INTEGER, 'largest code', 'A code is a uint up to 2^53 − 1 (§8.1), not a 32-bit number: the ' +
    'largest unregistered code is accepted and treated as an error with an unknown reason.']
]

const minimal: Message = { type: 'close', code: 'normal' }

export const close: VectorDef[] = [
  ...CODES.map(([code, reason, why], i): VectorDef => ({
    id: `close-ok-${String(i + 1).padStart(2, '0')}`,
    title: `close with code ${code}${typeof code === 'number' ? ' (unregistered)' : ''}${reason === undefined ? ', no reason' : ''}`,
    why,
    message: { type: 'close', code, ...(reason === undefined ? {} : { reason }) }
  })),
  fail('close-fail-01', 'close without code', 'code is required, even for a normal close.',
    cborWith({ ...minimal, reason: 'bye' }, (c) => c.delete(1))),
  fail('close-fail-02', 'close reason null', 'null is not a text string; no v1 field allows null.',
    cborWith(minimal, (c) => c.set(2, null))),
  fail('close-fail-03', 'close code as a float', 'code is an unsigned integer; 0.5 is a float.',
    cborWith(minimal, (c) => c.set(1, 0.5)))
]

function fail (id: string, title: string, why: string, cbor: string): VectorDef {
  return { id, title, why, code: 'invalid-message', cbor }
}
