import { ench, m } from '../bytes.ts'
import { cborOf, cborWith } from '../dsl.ts'
import type { JsonObject, Message } from '../mapping.ts'
import type { VectorDef } from '../types.ts'

const SOFTWARE = 'spikewire-ts/0.1.0'
const PROTOCOLS = ['/spikewire/describe/1.0.0', '/spikewire/events/1.0.0', '/spikewire/clock/1.0.0']

const minimal: Message = { type: 'description', name: 'pacemaker', role: 'neuron', ports: [], software: SOFTWARE }
const onePort = (port: JsonObject): Message => ({
  ...minimal,
  ports: [{ name: 'out', direction: 'out', kind: 'spike', channels: 1, ...port }]
})

export const describe: VectorDef[] = [
  {
    id: 'describe-ok-01',
    title: 'describe-request',
    why: 'The only message on /spikewire/describe/1.0.0 from the dialer: a map with the type alone.',
    message: { type: 'describe-request' },
    cbor: 'a10001'
  },
  {
    id: 'describe-ok-02',
    title: 'description with the required fields only and no ports',
    why: 'name, role, ports and software are required; an empty port list is allowed.',
    message: minimal
  },
  {
    id: 'describe-ok-03',
    title: 'description with every field: ports, port model, node model, protocols',
    why: 'A silicon neuron with an input and an output port. The node model has integer and float ' +
      'parameters in all three float widths (binary16 20.5, binary32 1.0000001192092896, binary64 0.1) ' +
      'and a negative integer (−70); a port carries its own model without parameters.',
    message: {
      type: 'description',
      name: 'zurich-silicon-n1',
      role: 'neuron',
      ports: [
        { name: 'in', direction: 'in', kind: 'weighted', channels: 1 },
        { name: 'out', direction: 'out', kind: 'spike', channels: 2, model: { name: 'adexp-if' } }
      ],
      software: SOFTWARE,
      model: {
        name: 'lif',
        params: [['tau_m', 20.5, 'ms'], ['v_rest', -70, 'mV'], ['c_m', 0.25, 'nF'], ['g_l', 0.1, 'nS'],
          ['gain', 1.0000001192092896, ''], ['refractory', 2, 'ms']]
      },
      protocols: PROTOCOLS
    }
  },
  {
    id: 'describe-ok-04',
    title: 'description with an unregistered role',
    why: 'Receivers MUST accept role values outside the registered list ("retina" here).',
    message: { ...minimal, name: 'retina-model', role: 'retina' }
  },
  {
    id: 'describe-ok-05',
    title: 'text at its byte limits: 256-byte name of 2-byte characters, 64-byte port name',
    why: 'Limits count UTF-8 bytes, not characters: 128 × "é" is 256 bytes and allowed.',
    message: { ...onePort({ name: '0123456789abcdef'.repeat(4) }), name: 'é'.repeat(128) }
  },
  {
    id: 'describe-ok-06',
    title: 'memristive synapse with a non-ASCII unit and several ports',
    why: 'A TiOx memristor synapse: two spike inputs, a weighted output, model parameters with units ' +
      '"kOhm", "V" and "µs" (UTF-8 in a text field).',
    message: {
      type: 'description',
      name: 'southampton-memristor-7',
      role: 'synapse',
      ports: [
        { name: 'pre', direction: 'in', kind: 'spike', channels: 1 },
        { name: 'post', direction: 'in', kind: 'spike', channels: 1 },
        { name: 'weight', direction: 'out', kind: 'weighted', channels: 1 }
      ],
      software: SOFTWARE,
      model: {
        name: 'memristor-tiox',
        params: [['r_min', 4, 'kOhm'], ['r_max', 9, 'kOhm'], ['pulse', 4, 'V'], ['pulse_width', 100, 'µs']]
      }
    }
  },
  {
    id: 'describe-ok-07',
    title: 'port with the largest channel count (2^32 − 1)',
    why: 'channels is 1..2^32−1; the upper bound needs a 5-byte CBOR integer (0x1a ffffffff).',
    message: { ...onePort({ name: 'aer', kind: 'spike', channels: 0xffff_ffff }), name: 'aer-bridge', role: 'bridge' }
  },
  {
    id: 'describe-ok-08',
    title: 'unknown keys in the description and in a port map are ignored',
    why: 'Forward compatibility applies to nested maps too: key 9 in a port and key 7 at the top are ' +
      'skipped. decode_only.',
    message: onePort({}),
    cbor: ench(m([0, 2], [1, 'pacemaker'], [2, 'neuron'],
      [3, [m([1, 'out'], [2, 1], [3, 0], [4, 1], [9, 'future port field'])]], [4, SOFTWARE], [7, 42])),
    decodeOnly: true
  },
  fail('describe-fail-01', 'description without name', 'name is required.',
    cborWith(minimal, (d) => d.delete(1))),
  fail('describe-fail-02', 'description without ports', 'ports is required (an empty list is the way to say none).',
    cborWith(minimal, (d) => d.delete(3))),
  fail('describe-fail-03', 'description without software', 'software is required.',
    cborWith(minimal, (d) => d.delete(4))),
  fail('describe-fail-04', 'description with an empty name', 'name is 1..256 bytes.',
    cborOf({ ...minimal, name: '' })),
  fail('describe-fail-05', 'description name of 257 bytes', '"a" and 128 × "é": 129 characters but 257 bytes.',
    cborOf({ ...minimal, name: 'a' + 'é'.repeat(128) })),
  fail('describe-fail-06', 'port name with an upper-case letter', 'Port names match [a-z0-9][a-z0-9_.-]*.',
    cborOf(onePort({ name: 'Out' }))),
  fail('describe-fail-07', 'port name starting with "-"', 'The first character of a port name is [a-z0-9].',
    cborOf(onePort({ name: '-out' }))),
  fail('describe-fail-08', 'port name of 65 bytes', 'Port names are 1..64 bytes.',
    cborOf(onePort({ name: 'p'.repeat(65) }))),
  fail('describe-fail-09', 'two ports with the same name', 'Port names are unique within a description.', cborOf({
    ...minimal,
    ports: [{ name: 'io', direction: 'in', kind: 'spike', channels: 1 },
      { name: 'io', direction: 'out', kind: 'spike', channels: 1 }]
  })),
  fail('describe-fail-10', 'port with 0 channels', 'channels is 1..2^32−1.', cborOf(onePort({ channels: 0 }))),
  fail('describe-fail-11', 'port with 2^32 channels', 'channels is 1..2^32−1.', cborOf(onePort({ channels: 2 ** 32 }))),
  fail('describe-fail-12', 'port direction 2', 'direction is 0 (in) or 1 (out).', cborOf(onePort({ direction: 2 }))),
  fail('describe-fail-13', 'port kind 2', 'kind is 0 (spike) or 1 (weighted).', cborOf(onePort({ kind: 2 }))),
  fail('describe-fail-14', 'model parameter with two elements', 'A parameter is [name, value, unit]; the unit is ' +
    'required ("" when dimensionless).', cborOf({ ...minimal, model: { name: 'lif', params: [['tau_m', 20]] } })),
  fail('describe-fail-15', 'model parameter value as text', 'A parameter value is an integer or a float.',
    cborOf({ ...minimal, model: { name: 'lif', params: [['tau_m', '20', 'ms']] } })),
  fail('describe-fail-16', 'ports as a map instead of an array', 'ports is an array of port maps.',
    cborWith(minimal, (d) => d.set(3, m([1, 'out'], [2, 1], [3, 0], [4, 1])))),
  fail('describe-fail-17', '33 protocol ids', 'At most 32 protocol ids.',
    cborOf({ ...minimal, protocols: Array.from({ length: 33 }, (_, i) => `/x/p${i}/1.0.0`) })),
  fail('describe-fail-18', 'role as an integer', 'role is a text string.', cborWith(minimal, (d) => d.set(2, 1)))
]

describe.push({
  id: 'describe-ok-09',
  title: 'texts other than the name at their limits: empty or 256 bytes',
  why: 'Only the name must hold at least one byte (§8.2); role, software, model names, parameter names and ' +
    'units, and protocol ids are texts of 0 to 256 bytes (§8.1). A 256-byte role is unregistered (treated as ' +
    '"other"); an empty software string is allowed. A receiver with tighter limits rejects valid descriptions.',
  message: {
    type: 'description',
    name: 'n',
    role: 'r'.repeat(256),
    ports: [],
    software: '',
    model: { name: '', params: [['', 1, 'u'.repeat(256)], ['gain', 0.5, '']] },
    protocols: ['', 'p'.repeat(256)]
  }
})

function fail (id: string, title: string, why: string, cbor: string): VectorDef {
  return { id, title, why, code: 'invalid-message', cbor }
}
