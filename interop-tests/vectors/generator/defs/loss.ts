import { ench, m } from '../bytes.ts'
import { MAX } from '../dsl.ts'
import type { VectorDef } from '../types.ts'

const REASONS: Array<[string, string]> = [
  ['queue-overflow', 'The sender\'s queue to this receiver was full.'],
  ['source-overrun', 'The source produced events faster than the sender could read them.'],
  ['safety-limit', 'A safety limit (e.g. on stimulation rate) removed events.'],
  ['late', 'Events arrived after their delivery deadline and were dropped.'],
  ['other', 'Any other reason.']
]

export const loss: VectorDef[] = [
  ...REASONS.map(([reason, why], i): VectorDef => ({
    id: `loss-ok-0${i + 1}`,
    title: `loss notice, reason ${reason}`,
    why,
    message: { type: 'loss', seq: 100 * (i + 1), count: i + 1, reason }
  })),
  {
    id: 'loss-ok-06',
    title: 'loss notice with large seq and count',
    why: 'seq and count are 53-bit values: a burst of 2^32 lost events after 2^40 sent ones.',
    message: { type: 'loss', seq: 2 ** 40, count: 2 ** 32, reason: 'queue-overflow' }
  },
  fail('loss-fail-01', 'loss with count 0', 'A loss notice reports at least one event.',
    ench(m([0, 8], [1, 5], [2, 0], [3, 1]))),
  fail('loss-fail-02', 'loss without reason', 'reason is required.', ench(m([0, 8], [1, 5], [2, 3]))),
  fail('loss-fail-03', 'loss reason as text', 'The reason travels as its number; "late" as text is the wrong type.',
    ench(m([0, 8], [1, 5], [2, 3], [3, 'late']))),
  fail('loss-fail-04', 'loss without seq', 'seq is required.', ench(m([0, 8], [2, 3], [3, 1]))),
  fail('loss-fail-05', 'loss whose seq + count is 2^53', 'seq 2^53 − 3 and count 3: the last lost event would be ' +
    '2^53 − 1 and the next expected number 2^53, beyond 2^53 − 1 (§9.2.4).',
  ench(m([0, 8], [1, MAX - 2], [2, 3], [3, 1])))
]

loss.push(
  {
    id: 'loss-ok-07',
    title: 'loss notice ending exactly at 2^53 − 1',
    why: 'seq + count = 2^53 − 1 is the largest allowed end: the next expected number is 2^53 − 1 (§9.2.4).',
    message: { type: 'loss', seq: MAX - 5, count: 5, reason: 'other' }
  },
  {
    id: 'loss-ok-08',
    title: 'loss notice with an unregistered reason above 2^32',
    why: 'A reason is a uint up to 2^53 − 1; an unregistered one is accepted and treated as other (§8.8), ' +
      'whatever its width.',
    message: { type: 'loss', seq: 0, count: 1, reason: 2 ** 40 }
  }
)

function fail (id: string, title: string, why: string, cbor: string): VectorDef {
  return { id, title, why, code: 'invalid-message', cbor }
}
