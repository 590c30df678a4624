import { h, uleb } from '../bytes.ts'
import { T0, batch, train } from '../dsl.ts'
import type { VectorDef } from '../types.ts'

const MAX_FRAME = 1048576

export const framing: VectorDef[] = [
  {
    id: 'framing-ok-01',
    title: 'describe-request in a frame with a one-byte length prefix',
    why: 'The smallest complete frame: prefix 0x03, then the 3-byte CBOR item {0: 1}.',
    message: { type: 'describe-request' },
    cbor: 'a10001',
    frame: true
  },
  {
    id: 'framing-ok-02',
    title: 'batch in a frame with a two-byte length prefix',
    why: 'A body of 128 bytes or more needs a second prefix byte; the prefix is LEB128, low group first.',
    context: { kind: 'spike', channels: 64, max_events: 4096 },
    message: batch(0, train(40, T0, 1000, 64)),
    frame: true
  },
  {
    id: 'framing-ok-03',
    title: 'batch of exactly 4096 events in a frame with a three-byte length prefix',
    why: 'A body of 16384 bytes or more needs three prefix bytes; 4096 events is the batch size every ' +
      'receiver MUST accept, so this is also the too-many-events boundary on the valid side.',
    context: { kind: 'spike', channels: 1024, max_events: 4096, max_frame: MAX_FRAME },
    message: batch(0, train(4096, T0, 20000, 1024)),
    frame: true
  },
  {
    id: 'framing-fail-01',
    title: 'zero-length frame',
    why: 'L = 0 is invalid: a frame holds exactly one CBOR item, and an empty frame holds none.',
    code: 'malformed-frame',
    frame: '00'
  },
  {
    id: 'framing-fail-02',
    title: 'non-minimal length prefix (3 written as 0x83 0x00)',
    why: 'The prefix MUST be minimal LEB128; a final 0x00 group after a continuation byte adds nothing.',
    code: 'malformed-frame',
    frame: h('8300', 'a10001')
  },
  {
    id: 'framing-fail-03',
    title: 'length prefix longer than 4 bytes',
    why: 'The prefix is at most 4 bytes; a 4th byte with its continuation bit set is an error before any ' +
      'value is known, so this is malformed-frame and not frame-too-large.',
    code: 'malformed-frame',
    frame: h(uleb(2 ** 28))
  },
  {
    id: 'framing-fail-04',
    title: 'length one byte over the receiver\'s max frame size',
    why: 'L = 1048577 > max_frame 1048576: the receiver MUST reject from the prefix alone, before reading ' +
      'or buffering the body (the body is deliberately absent).',
    code: 'frame-too-large',
    context: { max_frame: MAX_FRAME },
    frame: h(uleb(MAX_FRAME + 1))
  },
  {
    id: 'framing-fail-05',
    title: 'largest 4-byte length prefix (2^28 − 1)',
    why: 'A well-formed 4-byte prefix whose value exceeds max_frame: frame-too-large, from the prefix alone.',
    code: 'frame-too-large',
    context: { max_frame: MAX_FRAME },
    frame: h(uleb(2 ** 28 - 1))
  },
  {
    id: 'framing-fail-06',
    title: 'stream ends inside the length prefix',
    why: 'The byte 0x81 announces a second prefix byte that never comes: a truncated frame.',
    code: 'malformed-frame',
    frame: '81'
  },
  {
    id: 'framing-fail-07',
    title: 'stream ends inside the frame body',
    why: 'The prefix announces 5 bytes but only 3 follow before the stream ends: a truncated frame.',
    code: 'malformed-frame',
    frame: h('05', 'a10001')
  },
  {
    id: 'framing-fail-08',
    title: 'a byte left in the frame after the CBOR item',
    why: 'The frame (L = 4) holds the 3-byte item {0: 1} and one more byte: trailing bytes are invalid-cbor.',
    code: 'invalid-cbor',
    frame: h('04', 'a10001', '00')
  }
]
