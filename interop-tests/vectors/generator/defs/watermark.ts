import { ench, m } from '../bytes.ts'
import { MAX, T0 } from '../dsl.ts'
import type { VectorDef } from '../types.ts'

export const watermark: VectorDef[] = [
  {
    id: 'watermark-ok-01',
    title: 'watermark at the start of a stream',
    why: 'seq 0 (no event sent yet) and a time: "no event before T0 will follow".',
    message: { type: 'watermark', seq: 0, time: T0 }
  },
  ...([[23, 24, 'at the 1-byte/2-byte boundary (23 and 24)'], [255, 256, 'at the 2-byte/3-byte boundary (255 and 256)'],
    [65535, 65536, 'at the 3-byte/5-byte boundary (65535 and 65536)'],
    [0xffff_ffff, 2 ** 32, 'at the 5-byte/9-byte boundary (2^32 − 1 and 2^32)'],
    [MAX, MAX, 'both 2^53 − 1, the largest allowed value']] as Array<[number, number, string]>)
    .map(([seq, time, what], i): VectorDef => ({
      id: `watermark-ok-0${i + 2}`,
      title: `watermark with seq and time ${what}`,
      why: 'Integers MUST take the shortest CBOR form; each width boundary is where encoders slip.',
      message: { type: 'watermark', seq, time }
    })),
  fail('watermark-fail-01', 'watermark without time', 'time is required.', ench(m([0, 7], [1, 0]))),
  fail('watermark-fail-02', 'watermark without seq', 'seq is required.', ench(m([0, 7], [2, T0]))),
  fail('watermark-fail-03', 'negative time', 'time is an unsigned integer; −1 is major type 1.',
    ench(m([0, 7], [1, 0], [2, -1]))),
  fail('watermark-fail-04', 'time 2^53', 'Times are at most 2^53 − 1; 2^53 is well-formed CBOR but out of range.',
    ench(m([0, 7], [1, 0], [2, 2n ** 53n]))),
  fail('watermark-fail-05', 'time as a float', 'time is an unsigned integer; 1.5 is a float.',
    ench(m([0, 7], [1, 0], [2, 1.5]))),
  fail('watermark-fail-06', 'time true', 'true is valid CBOR but no v1 field allows a simple value.',
    ench(m([0, 7], [1, 0], [2, true]))),
  fail('watermark-fail-07', 'seq as a byte string', 'seq is an unsigned integer.',
    ench(m([0, 7], [1, new Uint8Array([0])], [2, T0]))),
  fail('watermark-fail-08', 'seq 2^64 − 1', 'The largest CBOR unsigned integer is far over 2^53 − 1.',
    ench(m([0, 7], [1, 2n ** 64n - 1n], [2, T0])))
]

function fail (id: string, title: string, why: string, cbor: string): VectorDef {
  return { id, title, why, code: 'invalid-message', cbor }
}
