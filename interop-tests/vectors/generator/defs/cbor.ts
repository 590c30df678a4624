import { ench, h, head, m } from '../bytes.ts'
import { T0 } from '../dsl.ts'
import type { VectorDef } from '../types.ts'

const WM = { type: 'watermark', seq: 0, time: T0 }
/** A watermark with a one-byte time, so hand-written bytes stay short: {0: 7, 1: 0, 2: 5}. */
const WM5 = { type: 'watermark', seq: 0, time: 5 }
const wmTime = ench(T0)

/** A description whose model has one parameter 1.5, written as float16 (f93e00) by deterministic CBOR. */
const descWithFloat = ench(m([0, 2], [1, 'n'], [2, 'neuron'], [3, []], [4, 'x/1'],
  [5, m([1, 'lif'], [2, [['v', 1.5, '']]])]))

export const cbor: VectorDef[] = [
  {
    id: 'cbor-ok-01',
    title: 'unknown key 99 with a text value is ignored',
    why: 'Forward compatibility: keys not defined for the type MUST be ignored once the item is known ' +
      'to be well-formed and deterministic. decode_only: encoding the message does not produce key 99.',
    message: { type: 'describe-request' },
    cbor: ench(m([0, 1], [99, 'future field'])),
    decodeOnly: true
  },
  {
    id: 'cbor-ok-02',
    title: 'unknown key 1000 holding a nested map is ignored',
    why: 'An unknown key above 23 (two-byte key) whose value is a map with a negative integer, a byte ' +
      'string and a float: all skipped, the watermark decodes as if the key were absent.',
    message: WM,
    cbor: ench(m([0, 7], [1, 0], [2, T0], [1000, m([1, -5], [2, new Uint8Array([0, 255])], [3, 1.5])])),
    decodeOnly: true
  },
  {
    id: 'cbor-ok-03',
    title: 'nesting depth exactly 16 (inside an unknown key)',
    why: 'Depth counts containers: the top-level map is depth 1, so 15 nested arrays under key 99 reach ' +
      'depth 16, the deepest a receiver MUST accept.',
    message: { type: 'describe-request' },
    cbor: h('a2', '0001', '1863', '81'.repeat(14), '80'),
    decodeOnly: true
  },
  {
    id: 'cbor-ok-04',
    title: 'a byte-string map key inside the value of an unknown key',
    why: 'A map key can be any CBOR data item (RFC 8949 §3.1), so h\'00\' as a key is valid CBOR; inside the ' +
      'value of an unknown key it is not checked (§7.4) and the watermark decodes. A decoder that rejects ' +
      'non-scalar keys as invalid-cbor fails here (Appendix B, revision 4 item 10).',
    message: WM5,
    cbor: h('a4', '0007', '0100', '0205', '1863', 'a1', '4100', '00'),
    decodeOnly: true
  },
  {
    id: 'cbor-ok-05',
    title: 'array and map keys inside the value of an unknown key',
    why: 'The value of key 99 is [{[0]: 0}, {{0: 0}: 1}]: keys of every type are well-formed CBOR and are ' +
      'ignored with the key that holds them (§7.4).',
    message: WM5,
    cbor: h('a4', '0007', '0100', '0205', '1863', '82', 'a1', '8100', '00', 'a1', 'a10000', '01'),
    decodeOnly: true
  },
  {
    id: 'cbor-ok-06',
    title: 'unknown key 2^64 − 1',
    why: 'An unsigned integer key that no version defines, too large for a 53-bit number: it is still an ' +
      'unsigned integer (§7.3), so the entry is ignored (§7.4), not invalid-message.',
    message: WM5,
    cbor: h('a4', '0007', '0100', '0205', '1bffffffffffffffff', '00'),
    decodeOnly: true
  },
  {
    id: 'cbor-ok-07',
    title: 'NaN as f9 7e 00 under an unknown key',
    why: 'The one encoding of a NaN that §7.1 allows; the counterpart of cbor-fail-39 to cbor-fail-41.',
    message: { type: 'describe-request' },
    cbor: h('a2', '0001', '1863', 'f97e00'),
    decodeOnly: true
  },
  {
    id: 'cbor-fail-01',
    title: 'trailing byte after the CBOR item',
    why: 'A frame holds exactly one data item; 0x00 after {0: 1} is a trailing byte.',
    code: 'invalid-cbor',
    cbor: h('a10001', '00')
  },
  {
    id: 'cbor-fail-02',
    title: 'two CBOR items in one frame',
    why: 'A frame is not a CBOR sequence: a second complete item is trailing bytes too.',
    code: 'invalid-cbor',
    cbor: h('a10001', 'a10001')
  },
  {
    id: 'cbor-fail-03',
    title: 'map announces two entries but the item ends after one and a half',
    why: 'Not well-formed: the value of the second entry is missing.',
    code: 'invalid-cbor',
    cbor: h('a2', '0001', '01')
  },
  {
    id: 'cbor-fail-04',
    title: 'reserved additional information 28 (0x1c)',
    why: 'Additional information values 28 to 30 are reserved: not well-formed.',
    code: 'invalid-cbor',
    cbor: h('a1', '00', '1c')
  },
  {
    id: 'cbor-fail-05',
    title: 'break byte 0xff inside a definite-length map',
    why: 'A break code outside an indefinite-length item is not well-formed.',
    code: 'invalid-cbor',
    cbor: h('a1', '00', 'ff')
  },
  {
    id: 'cbor-fail-06',
    title: 'indefinite-length map',
    why: 'A watermark written as an indefinite-length map (0xbf … 0xff): definite lengths only.',
    code: 'invalid-cbor',
    cbor: h('bf', '0007', '0100', '02', wmTime, 'ff')
  },
  {
    id: 'cbor-fail-07',
    title: 'indefinite-length byte string in a batch column',
    why: 'The ch column written as 0x5f 0x41 0x00 0xff (one chunk): definite lengths only.',
    code: 'invalid-cbor',
    context: { kind: 'spike', channels: 16 },
    cbor: h(head(5, 6), '0006', '0100', '02', wmTime, '0301', '04', '5f4100ff', '05', '4100')
  },
  {
    id: 'cbor-fail-08',
    title: 'indefinite-length text string in a reject reason',
    why: 'The reason "nope" written as two chunks in 0x7f … 0xff: definite lengths only.',
    code: 'invalid-cbor',
    cbor: h(head(5, 3), '0005', '0111', '02', '7f', ench('no'), ench('pe'), 'ff')
  },
  {
    id: 'cbor-fail-09',
    title: 'indefinite-length array in an open channel filter',
    why: 'The filter [1, 2] written as 0x9f 0x01 0x02 0xff: definite lengths only.',
    code: 'invalid-cbor',
    cbor: h(head(5, 4), '0003', '0101', '02', ench('spikes'), '03', '9f0102ff')
  },
  {
    id: 'cbor-fail-10',
    title: 'non-shortest integer for the message type (0x18 0x05)',
    why: 'reject {0: 5, 1: 17} with the type 5 written in two bytes: integers MUST use the shortest form.',
    code: 'invalid-cbor',
    cbor: h('a2', '00', '1805', '0111')
  },
  {
    id: 'cbor-fail-11',
    title: 'non-shortest integer for a field value (seq 5 as 0x19 0x00 0x05)',
    why: 'A watermark whose seq 5 is written in three bytes instead of one.',
    code: 'invalid-cbor',
    cbor: h('a3', '0007', '01', '190005', '02', wmTime)
  },
  {
    id: 'cbor-fail-12',
    title: 'non-shortest integer: a 32-bit value written in 8 bytes',
    why: 'A watermark whose time 1000000 is written with 0x1b (uint64): shortest form is 0x1a.',
    code: 'invalid-cbor',
    cbor: h('a3', '0007', '0100', '02', '1b00000000000f4240')
  },
  {
    id: 'cbor-fail-13',
    title: 'non-shortest text string length (0x78 0x03)',
    why: 'A reject reason "abc" whose length 3 is written in two bytes: lengths MUST use the shortest form.',
    code: 'invalid-cbor',
    cbor: h('a3', '0005', '0111', '02', '7803', '616263')
  },
  {
    id: 'cbor-fail-14',
    title: 'non-shortest map length (0xb8 0x03)',
    why: 'A watermark map whose 3 entries are announced in two bytes.',
    code: 'invalid-cbor',
    cbor: h('b803', '0007', '0100', '02', wmTime)
  },
  {
    id: 'cbor-fail-15',
    title: 'non-shortest byte string length in a batch column (0x58 0x01)',
    why: 'The one-byte ch column announced with a two-byte length.',
    code: 'invalid-cbor',
    context: { kind: 'spike', channels: 16 },
    cbor: h(head(5, 6), '0006', '0100', '02', wmTime, '0301', '04', '580100', '05', '4100')
  },
  {
    id: 'cbor-fail-16',
    title: 'duplicate map key',
    why: 'A watermark with key 1 twice (same value both times): duplicate keys are invalid even when equal.',
    code: 'invalid-cbor',
    cbor: h(head(5, 4), '0007', '0100', '0100', '02', wmTime)
  },
  {
    id: 'cbor-fail-17',
    title: 'map keys out of ascending order',
    why: 'A watermark with key 2 before key 1: deterministic encoding sorts keys.',
    code: 'invalid-cbor',
    cbor: h('a3', '0007', '02', wmTime, '0100')
  },
  {
    id: 'cbor-fail-18',
    title: 'a tag on a field value',
    why: 'A watermark whose time carries tag 1 (epoch time): no tags are allowed anywhere.',
    code: 'invalid-cbor',
    cbor: h('a3', '0007', '0100', '02', 'c1', wmTime)
  },
  {
    id: 'cbor-fail-19',
    title: 'undefined as a field value',
    why: 'A reject whose reason is undefined (0xf7): undefined is never allowed.',
    code: 'invalid-cbor',
    cbor: h('a3', '0005', '0111', '02', 'f7')
  },
  {
    id: 'cbor-fail-20',
    title: 'simple value 16 under an unknown key',
    why: 'Simple values other than false, true and null are invalid CBOR for spikewire even where the ' +
      'key would be ignored: the whole item is checked first.',
    code: 'invalid-cbor',
    cbor: h('a2', '0001', '1863', 'f0')
  },
  {
    id: 'cbor-fail-21',
    title: 'float not in its shortest form (1.5 as binary32)',
    why: 'A model parameter 1.5 written as 0xfa 3fc00000; preferred serialization is binary16 0xf9 3e00.',
    code: 'invalid-cbor',
    cbor: descWithFloat.replace('f93e00', 'fa3fc00000')
  },
  {
    id: 'cbor-fail-22',
    title: 'text string that is not valid UTF-8',
    why: 'A reject reason holding 0xc3 0x28 (a lead byte followed by a non-continuation byte): a text ' +
      'string MUST be valid UTF-8 (RFC 8949 §3.1), so the item is invalid CBOR.',
    code: 'invalid-cbor',
    cbor: h('a3', '0005', '0111', '02', '62c328')
  },
  {
    id: 'cbor-fail-23',
    title: 'nesting depth 17 (inside an unknown key)',
    why: 'The top-level map and 16 nested arrays under key 99: one level deeper than the limit of 16, ' +
      'rejected even though the key itself would be ignored.',
    code: 'invalid-cbor',
    cbor: h('a2', '0001', '1863', '81'.repeat(15), '80'),
    cborgBlind: true
  },
  {
    id: 'cbor-fail-24',
    title: 'top-level item is an array, not a map',
    why: 'The array [0, 1] is well-formed deterministic CBOR but not a message: invalid-message.',
    code: 'invalid-message',
    cbor: ench([0, 1])
  },
  {
    id: 'cbor-fail-25',
    title: 'top-level item is an integer',
    why: 'The integer 1 is well-formed CBOR but not a map: invalid-message.',
    code: 'invalid-message',
    cbor: '01'
  },
  {
    id: 'cbor-fail-26',
    title: 'a text map key',
    why: 'describe-request with an extra key "a": every map key MUST be an unsigned integer, so this is ' +
      'invalid-message (not an ignored unknown key).',
    code: 'invalid-message',
    cbor: ench(m([0, 1], ['a', 1]))
  },
  {
    id: 'cbor-fail-27',
    title: 'a negative integer map key',
    why: 'describe-request with an extra key −1: keys are unsigned integers only.',
    code: 'invalid-message',
    cbor: ench(m([0, 1], [-1, 0]))
  },
  {
    id: 'cbor-fail-28',
    title: 'message type key 0 missing',
    why: 'A watermark body without key 0: the type is required.',
    code: 'invalid-message',
    cbor: ench(m([1, 0], [2, T0]))
  },
  {
    id: 'cbor-fail-29',
    title: 'empty map',
    why: 'The empty map has no key 0.',
    code: 'invalid-message',
    cbor: 'a0'
  },
  {
    id: 'cbor-fail-30',
    title: 'message type as a text string',
    why: 'Key 0 holding "watermark" instead of 7: the type MUST be an unsigned integer.',
    code: 'invalid-message',
    cbor: ench(m([0, 'watermark'], [1, 0], [2, T0]))
  },
  {
    id: 'cbor-fail-31',
    title: 'message type as a negative integer',
    why: 'Key 0 holding −7: not an unsigned integer, so invalid-message (not unknown-message-type).',
    code: 'invalid-message',
    cbor: ench(m([0, -7], [1, 0], [2, T0]))
  },
  {
    id: 'cbor-fail-32',
    title: 'unknown message type 99',
    why: 'A well-formed map whose type number is not defined in v1.',
    code: 'unknown-message-type',
    cbor: ench(m([0, 99]))
  },
  {
    id: 'cbor-fail-33',
    title: 'message type 0',
    why: 'Type numbers start at 1; 0 is not a message type.',
    code: 'unknown-message-type',
    cbor: ench(m([0, 0]))
  },
  {
    id: 'cbor-fail-34',
    title: 'a byte-string key in a message map',
    why: '{0: 7, 1: 0, 2: 5, h\'00\': 0}: well-formed deterministic CBOR (a key can be any data item), but the ' +
      'keys of a message map are unsigned integers (§7.3): invalid-message, not invalid-cbor ' +
      '(Appendix B, revision 4 item 10).',
    code: 'invalid-message',
    cbor: h('a4', '0007', '0100', '0205', '4100', '00')
  },
  {
    id: 'cbor-fail-35',
    title: 'an array key in a message map',
    why: '{0: 7, 1: 0, 2: 5, [0]: 0}: invalid-message like any key that is not an unsigned integer.',
    code: 'invalid-message',
    cbor: h('a4', '0007', '0100', '0205', '8100', '00')
  },
  {
    id: 'cbor-fail-36',
    title: 'a map key in a port map',
    why: 'A description whose port map has the key {0: 0}: a port map is a map whose keys this document ' +
      'defines (§7.3), so invalid-message.',
    code: 'invalid-message',
    cbor: h('a5', '0002', '01', ench('n'), '02', ench('r'), '03', '81',
      'a5', '01', ench('p'), '0201', '0301', '0401', 'a10000', '00', '04', ench('s'))
  },
  {
    id: 'cbor-fail-37',
    title: 'unknown message type 23 with a text key',
    why: '{0: 23, "a": 1}: the message type is decided first (§7.5 step 3), so unknown-message-type, not the ' +
      'invalid-message a text key gets in a message of a known type (cbor-fail-26; Appendix B, revision 4 ' +
      'item 11).',
    code: 'unknown-message-type',
    cbor: h('a2', '0017', ench('a'), '01')
  },
  {
    id: 'cbor-fail-38',
    title: 'message type 2^64 − 1',
    why: 'Key 0 holds an unsigned integer (above 2^53 − 1) that is not a message type: unknown-message-type ' +
      '(§7.3), not invalid-message.',
    code: 'unknown-message-type',
    cbor: h('a1', '00', '1bffffffffffffffff')
  },
  nan('cbor-fail-39', 'f97e01', 'a quiet NaN with payload 1'),
  nan('cbor-fail-40', 'f9fe00', 'a NaN with the sign bit set'),
  nan('cbor-fail-41', 'f97c01', 'a signalling NaN (payload 1, quiet bit clear)')
]

/** A describe-request whose unknown key 99 holds a binary16 NaN encoded otherwise than f9 7e 00. */
function nan (id: string, bytes: string, what: string): VectorDef {
  return {
    id,
    title: `NaN as ${(bytes.match(/../g) ?? []).join(' ')} under an unknown key`,
    why: `${what[0].toUpperCase()}${what.slice(1)}: §7.1 allows one encoding of a NaN, f9 7e 00, and §7.2 checks ` +
      'the values of unknown keys too: invalid-cbor (Appendix B, revision 4 item 1).',
    code: 'invalid-cbor',
    cbor: h('a2', '0001', '1863', bytes)
  }
}
