import { ench, m } from '../bytes.ts'
import { cborOf, cborWith } from '../dsl.ts'
import type { Message } from '../mapping.ts'
import type { VectorDef } from '../types.ts'

const minimal: Message = { type: 'open', mode: 'subscribe', port: 'spikes' }

export const open: VectorDef[] = [
  {
    id: 'open-ok-01',
    title: 'open: subscribe with the required fields only',
    why: 'mode and port are required; no filter means all channels, no max_events means 4096.',
    message: minimal
  },
  {
    id: 'open-ok-02',
    title: 'open: push with a requested delay',
    why: 'A push into an input port with a 5 ms axonal delay to be applied by the acceptor.',
    message: { type: 'open', mode: 'push', port: 'stim', delay: 5000 }
  },
  {
    id: 'open-ok-03',
    title: 'open: subscribe with a channel filter and max_events',
    why: 'A strictly ascending filter whose ids need 1, 2 and 3 bytes of CBOR; a receive limit above 4096.',
    context: { channels: 65536 },
    message: { ...minimal, channels: [0, 5, 23, 24, 255, 256, 65535], max_events: 8192 }
  },
  {
    id: 'open-ok-04',
    title: 'open: push with every field',
    why: 'Filter, delay and max_events together (max_events is informative on push; it is still valid).',
    context: { channels: 16 },
    message: { type: 'open', mode: 'push', port: 'stim', channels: [1, 2, 3, 15], delay: 40000, max_events: 4096 }
  },
  {
    id: 'open-ok-05',
    title: 'open: filter holding the largest channel id of the largest port',
    why: 'Channel id 2^32 − 2 is the last id of a port with 2^32 − 1 channels.',
    context: { channels: 0xffff_ffff },
    message: { ...minimal, channels: [0xffff_fffe] }
  },
  {
    id: 'open-ok-06',
    title: 'open: max_events exactly 4096',
    why: 'The smallest allowed receive limit.',
    message: { ...minimal, max_events: 4096 }
  },
  {
    id: 'open-ok-07',
    title: 'open: push naming its source port',
    why: 'source (key 6) names the opener\'s own port the events come from; it is informative and lets the ' +
      'receiving node report where each event came from.',
    message: { type: 'open', mode: 'push', port: 'stim', source: 'pacemaker' }
  },
  fail('open-fail-01', 'open without port', 'port is required.', cborWith(minimal, (o) => o.delete(2))),
  fail('open-fail-02', 'open without mode', 'mode is required.', cborWith(minimal, (o) => o.delete(1))),
  fail('open-fail-03', 'open with mode 3', 'mode is 1 (subscribe) or 2 (push).', cborOf({ ...minimal, mode: 3 })),
  fail('open-fail-04', 'open with mode 0', 'mode is 1 (subscribe) or 2 (push).', cborOf({ ...minimal, mode: 0 })),
  fail('open-fail-05', 'channel filter not ascending', 'The filter [3, 1] is not strictly ascending.',
    cborOf({ ...minimal, channels: [3, 1] })),
  fail('open-fail-06', 'channel filter with a repeated id', 'The filter [2, 2] is ascending but not strictly.',
    cborOf({ ...minimal, channels: [2, 2] })),
  fail('open-fail-07', 'empty channel filter', 'A filter holds 1 to 65536 ids; "all channels" is said by ' +
    'leaving the key out.', cborOf({ ...minimal, channels: [] })),
  fail('open-fail-08', 'max_events below 4096', 'max_events is at least 4096.',
    cborOf({ ...minimal, max_events: 4095 })),
  fail('open-fail-09', 'port name as a byte string', 'port is a text string.',
    cborWith(minimal, (o) => o.set(2, new Uint8Array([0x73, 0x70])))),
  fail('open-fail-10', 'negative delay', 'delay is an unsigned integer; −1 is encoded with major type 1.',
    cborWith(minimal, (o) => o.set(4, -1))),
  fail('open-fail-11', 'channel filter as a byte string', 'The filter is an array of unsigned integers.',
    ench(m([0, 3], [1, 1], [2, 'spikes'], [3, new Uint8Array([1, 2])]))),
  {
    id: 'open-fail-12',
    title: 'channel filter id equal to the port\'s channel count',
    why: 'The port has 8 channels (ids 0..7); filter id 8 is out of range and the acceptor rejects with ' +
      'channel-out-of-range. Without context the message is well-formed.',
    code: 'channel-out-of-range',
    context: { channels: 8 },
    cbor: cborOf({ ...minimal, channels: [0, 8] })
  }
]

open.push(fail('open-fail-13', 'source that is not a port name', 'source follows the port-name syntax ' +
  '([a-z0-9][a-z0-9_.-]*, 1 to 64 bytes); an upper-case name is invalid.',
cborOf({ type: 'open', mode: 'push', port: 'stim', source: 'Pacemaker' })))

// Revision 3: max-events keeps its range in push mode, where its value is ignored (§8.3), and delay is
// bounded by 2^32 − 1 µs (§8.3).
open.push(
  fail('open-fail-14', 'push with max_events 10', 'max-events is meaningless in push mode and its value is ' +
    'ignored, but its range (at least 4096) is checked in both modes like every field (§7.3, §8.3).',
  cborOf({ type: 'open', mode: 'push', port: 'stim', max_events: 10 })),
  fail('open-fail-15', 'delay 2^32 µs', 'delay is 0 to 2^32 − 1 µs; 2^32 is one over the bound.',
    cborOf({ type: 'open', mode: 'push', port: 'stim', delay: 2 ** 32 })),
  fail('open-fail-16', 'delay 2^53 − 1 µs', 'A delay of 285 years: a uint in range for most fields, but above ' +
    'the 2^32 − 1 µs bound of delay. Found by a hostile peer whose open was accepted.',
  cborOf({ type: 'open', mode: 'push', port: 'stim', delay: Number.MAX_SAFE_INTEGER })),
  {
    id: 'open-ok-08',
    title: 'open: push with the largest delay (2^32 − 1 µs)',
    why: 'The largest delay, about 71.6 minutes, in a 5-byte CBOR integer. Whether the acceptor can apply ' +
      'it is its decision (reject{unsupported}, §9.2.8); the message is valid.',
    message: { type: 'open', mode: 'push', port: 'stim', delay: 0xffff_ffff }
  }
)

function fail (id: string, title: string, why: string, cbor: string): VectorDef {
  return { id, title, why, code: 'invalid-message', cbor }
}
