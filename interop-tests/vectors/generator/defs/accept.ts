import { cborOf, cborWith } from '../dsl.ts'
import { T0, MAX } from '../dsl.ts'
import type { Message } from '../mapping.ts'
import type { VectorDef } from '../types.ts'

const minimal: Message = { type: 'accept', port: 'spikes', kind: 'spike', channels: 64, time: T0 }

export const accept: VectorDef[] = [
  {
    id: 'accept-ok-01',
    title: 'accept: spike port, required fields only',
    why: 'port echo, kind, channel count and the acceptor\'s clock; no max_events means 4096.',
    message: minimal
  },
  {
    id: 'accept-ok-02',
    title: 'accept: weighted port with max_events',
    why: 'An input port of weighted events accepting pushes of up to 65536 events per batch.',
    message: { type: 'accept', port: 'stim', kind: 'weighted', channels: 4096, time: T0 + 1, max_events: 65536 }
  },
  {
    id: 'accept-ok-03',
    title: 'accept: largest channel count and largest time',
    why: 'channels 2^32 − 1 (5-byte CBOR integer) and time 2^53 − 1 (9-byte CBOR integer).',
    message: { ...minimal, channels: 0xffff_ffff, time: MAX }
  },
  fail('accept-fail-01', 'accept without time', 'time is required.', cborWith(minimal, (a) => a.delete(4))),
  fail('accept-fail-02', 'accept without kind', 'kind is required.', cborWith(minimal, (a) => a.delete(2))),
  fail('accept-fail-03', 'accept without port', 'port is required.', cborWith(minimal, (a) => a.delete(1))),
  fail('accept-fail-04', 'accept with kind 2', 'kind is 0 (spike) or 1 (weighted).', cborOf({ ...minimal, kind: 2 })),
  fail('accept-fail-05', 'accept with 0 channels', 'channels is 1..2^32−1.', cborOf({ ...minimal, channels: 0 })),
  fail('accept-fail-06', 'accept with 2^32 channels', 'channels is 1..2^32−1.', cborOf({ ...minimal, channels: 2 ** 32 })),
  fail('accept-fail-07', 'accept with max_events below 4096', 'max_events is at least 4096.',
    cborOf({ ...minimal, max_events: 1000 })),
  fail('accept-fail-08', 'accept with time as a float', 'time is an unsigned integer; 1.5 is a float.',
    cborWith(minimal, (a) => a.set(4, 1.5)))
]

function fail (id: string, title: string, why: string, cbor: string): VectorDef {
  return { id, title, why, code: 'invalid-message', cbor }
}
