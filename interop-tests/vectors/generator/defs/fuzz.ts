/**
 * Failure vectors found by the fuzzer (npm run fuzz), kept apart from the hand-written areas: each is a
 * frame a version of the reference accepted, or crashed on, and must not.
 */
import type { VectorDef } from '../types.ts'

export const fuzz: VectorDef[] = [
  {
    id: 'fuzz-ok-01',
    title: 'model parameter value 1.0 written as a binary16 float',
    why: 'The counterpart of fuzz-fail-01 to 03: a parameter value is the one field where an integer and a ' +
      'float that are numerically equal mean the same (§8.2), so a reader that keeps floats apart must still ' +
      'accept f9 3c00 there.',
    message: {
      type: 'description',
      name: 'n',
      role: 'r',
      ports: [{ name: 'p', direction: 'out', kind: 'spike', channels: 1, model: { name: 'm', params: [['k', 1, '']] } }],
      software: 's'
    },
    cbor: 'a5000201616e0261720381a501617002010300040105a201616d028183616bf93c0060046173',
    decodeOnly: true,
    integralFloat: true
  },
  {
    id: 'fuzz-fail-01',
    title: 'close code 1 written as the binary16 float 1.0',
    why: 'An unsigned integer field must be major type 0 (§7.1) even when a float holds the same value: ' +
      'a reader that turns every number into one numeric type accepts f9 3c00 as code 1.',
    code: 'invalid-message',
    cbor: 'a2000901f93c00',
    integralFloat: true
  },
  {
    id: 'fuzz-fail-02',
    title: 'watermark time written as a binary64 float holding an integral time',
    why: '1767225600000000.0 fits binary64 exactly (and not binary32), so f9/fa/fb shortest-form checks ' +
      'pass; the field is an unsigned integer and must be major type 0 (§7.1).',
    code: 'invalid-message',
    cbor: 'a30007010002fb43191d2118810000',
    integralFloat: true
  },
  {
    id: 'fuzz-fail-03',
    title: 'watermark whose seq key 1 is written as the float 1.0',
    why: 'Keys of a message map are unsigned integers (§7.3); the float key f9 3c00 sorts after 02 and, read ' +
      'as a number, would stand in for key 1 (seq).',
    code: 'invalid-message',
    cbor: 'a30007021b0006474846204000f93c0000',
    integralFloat: true
  },
  {
    id: 'fuzz-fail-04',
    title: 'close whose map has a 600-byte text key (300 times é)',
    why: 'A text key is invalid-message (§7.3). Found through the reply: a receiver that quotes the key in ' +
      'its close reason must still keep the reason within 256 bytes of UTF-8 (§8.1), or its own close is ' +
      'invalid; the reference once sent a 400-byte reason.',
    code: 'invalid-message',
    cbor: 'a300090104790258c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a900'
  }
]
