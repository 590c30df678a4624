/**
 * Every test vector, both ways, against the reference codec: encode(message) equals cbor_hex byte for
 * byte (unless decode_only), decode(cbor_hex) equals message, failures raise the listed code.
 */
import test from 'ava'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  SpikewireError, batchEventsToJson, decodeMessage, encodeMessage, fromHex, messageFromJson, messageToJson, splitFrames, toHex
} from '../../src/codec/index.ts'
import type { Batch, DecodeOptions, JsonMessage, KindName } from '../../src/codec/index.ts'
import { replayReceiverStream } from '../../src/wire/replay.ts'

const dir = join(import.meta.dirname, '../../interop-tests/vectors')
interface Vector {
  id: string
  fail: boolean
  code?: string
  context?: { kind?: KindName, channels?: number, max_events?: number, max_frame?: number, filter?: number[] }
  message?: JsonMessage | null
  events?: number[][]
  cbor_hex?: string
  frame_hex?: string
  decode_only?: boolean
  messages_hex?: string[]
  fail_at?: number
  gap?: number
}
// clocksync vectors hold clock samples, not messages: test/vectors/clocksync-vectors.test.ts runs them.
// directory vectors are the relay's messages (spec §9.4): test/relay/directory-vectors.test.ts runs them.
const index = (JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Array<{ id: string, area: string, file: string }>)
  .filter(e => e.area !== 'clocksync' && e.area !== 'directory')
const vectors = index.map(e => JSON.parse(readFileSync(join(dir, e.file), 'utf8')) as Vector)

function options (v: Vector): DecodeOptions {
  const o: DecodeOptions = {}
  if (v.context?.kind !== undefined) o.kind = v.context.kind
  if (v.context?.channels !== undefined) o.channels = v.context.channels
  if (v.context?.max_events !== undefined) o.maxEvents = v.context.max_events
  if (v.context?.filter !== undefined) o.filter = new Set(v.context.filter)
  return o
}

function codeOf (fn: () => unknown): string | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    if (err instanceof SpikewireError) return err.code
    throw err
  }
}

test('there are vectors to run', t => {
  t.true(vectors.length >= 60)
})

for (const v of vectors) {
  test(`vector ${v.id}`, t => {
    if (v.messages_hex !== undefined) {
      const r = replayReceiverStream(v.messages_hex.map(fromHex), { maxEvents: v.context?.max_events, filter: v.context?.filter })
      if (v.fail) {
        t.false(r.ok, 'the stream must fail')
        t.is(r.code as string | undefined, v.code, r.message)
        t.is(r.failAt, v.fail_at)
      } else {
        t.true(r.ok, r.message)
      }
      if (v.gap !== undefined) t.is(r.gap, v.gap)
      return
    }
    if (v.frame_hex !== undefined) {
      const run = (): unknown => splitFrames(fromHex(v.frame_hex!), { maxFrameBytes: v.context?.max_frame }).map(f => decodeMessage(f, options(v)))
      if (v.fail) {
        t.is(codeOf(run), v.code)
      } else {
        const msgs = run() as ReturnType<typeof decodeMessage>[]
        t.is(msgs.length, 1)
        t.deepEqual(messageToJson(msgs[0]), v.message)
      }
      return
    }
    const bytes = fromHex(v.cbor_hex!)
    if (v.fail) {
      t.is(codeOf(() => decodeMessage(bytes, options(v))), v.code)
      return
    }
    const decoded = decodeMessage(bytes, options(v))
    t.deepEqual(messageToJson(decoded), v.message)
    if (decoded.type === 'batch' && v.events !== undefined) t.deepEqual(batchEventsToJson(decoded as Batch), v.events)
    if (v.decode_only !== true) t.is(toHex(encodeMessage(messageFromJson(v.message!))), v.cbor_hex!)
  })
}
