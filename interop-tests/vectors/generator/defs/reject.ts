import { cborOf, cborWith } from '../dsl.ts'
import type { Message } from '../mapping.ts'
import type { VectorDef } from '../types.ts'

/** [code, reason, why]: one valid reject per code that answers an open. */
const CODES: Array<[string, string | undefined, string]> = [
  ['unknown-port', undefined, 'The smallest reject: a code and no reason.'],
  ['wrong-direction', 'port "stim" is an input', 'subscribe to an input port (or push into an output port).'],
  ['unauthorized', 'peer not in allow list', 'The acceptor\'s policy refuses this peer.'],
  ['too-many-streams', 'limit 64 streams per peer', 'The acceptor is at its stream limit.'],
  ['channel-out-of-range', 'filter id 8 >= 8 channels', 'The open\'s channel filter names a channel the port does not have.'],
  ['unsupported', 'push not supported', 'A mode or feature the acceptor does not implement.'],
  ['shutdown', 'node stopping', 'The acceptor is shutting down.'],
  ['internal-error', 'device read failed', 'The acceptor failed for a reason of its own.'],
  ['invalid-message', 'open without port', 'The open was well-formed CBOR but not a valid open.']
]

const minimal: Message = { type: 'reject', code: 'unauthorized' }

export const reject: VectorDef[] = [
  ...CODES.map(([code, reason, why], i): VectorDef => ({
    id: `reject-ok-${String(i + 1).padStart(2, '0')}`,
    title: `reject with code ${code}${reason === undefined ? ', no reason' : ''}`,
    why,
    message: { type: 'reject', code, ...(reason === undefined ? {} : { reason }) }
  })),
  {
    id: 'reject-ok-10',
    title: 'reject with an unregistered code (1000)',
    why: 'An unregistered number is carried as is and stays a number in the JSON mapping; a receiver MUST ' +
      'NOT fail on it.',
    message: { type: 'reject', code: 1000, reason: 'future code' }
  },
  {
    id: 'reject-ok-11',
    title: 'reject reason of exactly 256 bytes (128 two-byte characters)',
    why: 'The text limit counts UTF-8 bytes: 128 × "é" is at the limit and allowed.',
    message: { ...minimal, reason: 'é'.repeat(128) }
  },
  fail('reject-fail-01', 'reject without code', 'code is required.', cborWith(minimal, (r) => r.delete(1))),
  fail('reject-fail-02', 'reject code as a text string', 'The code travels as its number; "unauthorized" as ' +
    'text is the wrong type.', cborWith(minimal, (r) => r.set(1, 'unauthorized'))),
  fail('reject-fail-03', 'reject reason of 257 bytes', '"a" and 128 × "é": 129 characters, 257 bytes.',
    cborOf({ ...minimal, reason: 'a' + 'é'.repeat(128) })),
  fail('reject-fail-04', 'reject reason as a byte string', 'reason is a text string.',
    cborWith(minimal, (r) => r.set(2, new Uint8Array([0x6e, 0x6f])))),
  fail('reject-fail-05', 'negative reject code', 'code is an unsigned integer.', cborWith(minimal, (r) => r.set(1, -17))),
  fail('reject-fail-06', 'reject with code 0 (normal)', 'A reject refuses an open; 0 means a normal end and is ' +
    'outside the range of a reject\'s code (1 to 2^53 − 1, §8.5). The opener treats its open as failed with ' +
    'invalid-message.', cborOf({ type: 'reject', code: 'normal', reason: 'ok' }))
]

function fail (id: string, title: string, why: string, cbor: string): VectorDef {
  return { id, title, why, code: 'invalid-message', cbor }
}
