import { ench, m } from '../bytes.ts'
import { MAX, T0 } from '../dsl.ts'
import type { VectorDef } from '../types.ts'

export const clock: VectorDef[] = [
  {
    id: 'clock-ok-01',
    title: 'clock-request',
    why: 'Request id 0 and the client\'s send time t1.',
    message: { type: 'clock-request', id: 0, t1: T0 }
  },
  {
    id: 'clock-ok-02',
    title: 'clock-request with the largest id (2^32 − 1)',
    why: 'Request ids are at most 2^32 − 1.',
    message: { type: 'clock-request', id: 0xffff_ffff, t1: T0 + 1000 }
  },
  {
    id: 'clock-ok-03',
    title: 'clock-response',
    why: 'Echo of id and t1, server receive time t2 and send time t3. Here the server clock is 2.5 ms ' +
      'ahead and the one-way delay 150 µs: t2 = t1 + 2650, t3 = t2 + 40.',
    message: { type: 'clock-response', id: 0, t1: T0, t2: T0 + 2650, t3: T0 + 2690 }
  },
  {
    id: 'clock-ok-04',
    title: 'clock-response with times below t1 and at 2^53 − 1',
    why: 'Clocks are not ordered across peers: a server behind the client answers with t2 < t1, which is ' +
      'valid; t3 at the largest time.',
    message: { type: 'clock-response', id: 7, t1: MAX - 10, t2: MAX - 1000, t3: MAX }
  },
  {
    id: 'clock-ok-05',
    title: 'clock-response with t3 equal to t2',
    why: 'The server may answer within the microsecond it received the request: t3 = t2 is valid, only ' +
      't3 < t2 is not (clock-fail-06).',
    message: { type: 'clock-response', id: 3, t1: T0, t2: T0 + 2650, t3: T0 + 2650 }
  },
  fail('clock-fail-01', 'clock-request id 2^32', 'Request ids are at most 2^32 − 1.',
    ench(m([0, 10], [1, 2 ** 32], [2, T0]))),
  fail('clock-fail-02', 'clock-request without t1', 't1 is required.', ench(m([0, 10], [1, 1]))),
  fail('clock-fail-03', 'clock-request t1 as a float', 't1 is an unsigned integer.',
    ench(m([0, 10], [1, 1], [2, T0 + 0.25]))),
  fail('clock-fail-04', 'clock-response without t3', 't3 is required.',
    ench(m([0, 11], [1, 1], [2, T0], [3, T0 + 10]))),
  fail('clock-fail-05', 'clock-response with negative t2', 't2 is an unsigned integer.',
    ench(m([0, 11], [1, 1], [2, T0], [3, -5], [4, T0 + 10]))),
  fail('clock-fail-06', 'clock-response with t3 one µs before t2',
    't3 is not less than t2 (§8.10). The rule relates two fields of the message, so the decoder checks it at ' +
    '§7.5 step 4, with or without a stream (Appendix B, revision 4 item 12).',
  ench(m([0, 11], [1, 1], [2, T0], [3, T0 + 2650], [4, T0 + 2649])))
]

function fail (id: string, title: string, why: string, cbor: string): VectorDef {
  return { id, title, why, code: 'invalid-message', cbor }
}
