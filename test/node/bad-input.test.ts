/**
 * Hostile input over real connections: each case must get the spec's error code in a close message and
 * a reset, and the node must keep serving a well-behaved subscriber on the same port meanwhile.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { EVENTS_PROTOCOL, DESCRIBE_PROTOCOL, encodeFrame, frameBytes } from '../../src/codec/index.ts'
import type { Message } from '../../src/codec/index.ts'
import { stillServes, victimWithWitness as victim } from '../helpers/witness.ts'
import type { Victim } from '../helpers/witness.ts'
import { dialRaw, outcome, startAdversary } from '../helpers/adversary.ts'

const T0 = 1_764_000_000_000_000

/** The victim of these tests: also a push-only in port `stim`; the open timeout long enough (2 s) that a busy machine delivers the hostile bytes first (the timeout case waits for it). */
async function victimWithWitness (t: ExecutionContext): Promise<Victim> {
  return await victim(t, { limits: { openTimeoutMs: 2000 }, ports: [{ name: 'stim', direction: 'in', channels: 8, push: '*' }] })
}

function closeCode (messages: Message[]): unknown {
  const c = messages.find(m => m.type === 'close')
  return c?.type === 'close' ? c.code : undefined
}

const openPush: Message = { type: 'open', mode: 'push', port: 'stim' }

const cases: Array<{ title: string, bytes: () => Uint8Array, code: string, pushFirst?: boolean }> = [
  { title: 'non-minimal length prefix', bytes: () => Uint8Array.of(0x81, 0x00, 0xa0), code: 'malformed-frame' },
  { title: 'zero-length frame', bytes: () => Uint8Array.of(0x00), code: 'malformed-frame' },
  { title: 'length prefix longer than 4 bytes', bytes: () => Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x01), code: 'malformed-frame' },
  { title: 'oversize frame announced', bytes: () => Uint8Array.of(0x81, 0x80, 0x40), code: 'frame-too-large' },
  { title: 'not CBOR', bytes: () => frameBytes(Uint8Array.of(0xff, 0xfe)), code: 'invalid-cbor' },
  { title: 'trailing bytes after the item', bytes: () => frameBytes(Uint8Array.of(0xa1, 0x00, 0x01, 0x00)), code: 'invalid-cbor' },
  { title: 'indefinite-length map', bytes: () => frameBytes(Uint8Array.of(0xbf, 0x00, 0x01, 0xff)), code: 'invalid-cbor' },
  { title: 'unknown message type', bytes: () => frameBytes(Uint8Array.of(0xa1, 0x00, 0x18, 0x63)), code: 'unknown-message-type' },
  { title: 'top-level array', bytes: () => frameBytes(Uint8Array.of(0x81, 0x03)), code: 'invalid-message' },
  { title: 'batch before open', bytes: () => encodeFrame({ type: 'batch', seq: 0, base: T0, count: 1, channels: Uint32Array.of(0), times: Float64Array.of(T0) }), code: 'unexpected-message' },
  { title: 'second open before the answer is read', bytes: () => new Uint8Array([...encodeFrame(openPush), ...encodeFrame(openPush)]), code: 'unexpected-message' },
  {
    title: 'pushed batch with a channel out of range',
    bytes: () => new Uint8Array([...encodeFrame(openPush), ...encodeFrame({ type: 'batch', seq: 0, base: T0, count: 1, channels: Uint32Array.of(8), times: Float64Array.of(T0) })]),
    code: 'channel-out-of-range'
  },
  {
    title: 'pushed batches going back in time',
    bytes: () => new Uint8Array([...encodeFrame(openPush),
      ...encodeFrame({ type: 'batch', seq: 0, base: T0 + 10, count: 1, channels: Uint32Array.of(1), times: Float64Array.of(T0 + 10) }),
      ...encodeFrame({ type: 'batch', seq: 1, base: T0, count: 1, channels: Uint32Array.of(1), times: Float64Array.of(T0) })]),
    code: 'time-regression'
  },
  {
    title: 'pushed batch with a sequence number going back',
    bytes: () => new Uint8Array([...encodeFrame(openPush),
      ...encodeFrame({ type: 'batch', seq: 5, base: T0, count: 1, channels: Uint32Array.of(1), times: Float64Array.of(T0) }),
      ...encodeFrame({ type: 'batch', seq: 5, base: T0, count: 1, channels: Uint32Array.of(1), times: Float64Array.of(T0) })]),
    code: 'invalid-sequence'
  },
  {
    // Spec §9.2.4 (revision 3): a hostile peer made the node count a gap of more than 2^53 events this way.
    title: 'pushed batch whose seq + count exceeds 2^53 − 1',
    bytes: () => new Uint8Array([...encodeFrame(openPush), ...encodeFrame({ type: 'batch', seq: Number.MAX_SAFE_INTEGER, base: T0, count: 1, channels: Uint32Array.of(1), times: Float64Array.of(T0) })]),
    code: 'invalid-message'
  },
  {
    title: 'pushed loss notice whose seq + count exceeds 2^53 − 1',
    bytes: () => new Uint8Array([...encodeFrame(openPush),
      ...encodeFrame({ type: 'batch', seq: 0, base: T0, count: 1, channels: Uint32Array.of(1), times: Float64Array.of(T0) }),
      ...encodeFrame({ type: 'loss', seq: 1, count: Number.MAX_SAFE_INTEGER, reason: 'other' })]),
    code: 'invalid-message'
  },
  { title: 'open with a delay of 2^53 − 1 µs', bytes: () => encodeFrame({ ...openPush, delay: Number.MAX_SAFE_INTEGER }), code: 'invalid-message' },
  { title: 'push open with max-events below 4096', bytes: () => encodeFrame({ ...openPush, maxEvents: 10 }), code: 'invalid-message' },
  {
    title: 'pushed weighted values into a spike port',
    bytes: () => new Uint8Array([...encodeFrame(openPush), ...encodeFrame({ type: 'batch', seq: 0, base: T0, count: 1, channels: Uint32Array.of(1), times: Float64Array.of(T0), values: Float32Array.of(1) })]),
    code: 'kind-mismatch'
  }
]

for (const c of cases) {
  test(`bad input: ${c.title} → ${c.code}, stream reset, node keeps serving`, async t => {
    const { node, witness, addr } = await victimWithWitness(t)
    const adversary = await startAdversary(t)
    const stream = await dialRaw(adversary, addr, EVENTS_PROTOCOL)
    const result = outcome(stream)
    stream.send(c.bytes())
    const r = await result
    t.is(closeCode(r.messages), c.code)
    t.is(r.end, 'reset')
    await stillServes(t, node, witness)
  })
}

test('bad input: a batch beyond 2^53 − 1 after a valid one leaves the in port\'s counts exact', async t => {
  const { node, witness, addr } = await victimWithWitness(t)
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, addr, EVENTS_PROTOCOL)
  const result = outcome(stream)
  stream.send(new Uint8Array([...encodeFrame(openPush),
    ...encodeFrame({ type: 'batch', seq: 0, base: T0, count: 1, channels: Uint32Array.of(1), times: Float64Array.of(T0) }),
    ...encodeFrame({ type: 'batch', seq: Number.MAX_SAFE_INTEGER - 1, base: T0, count: 2, channels: Uint32Array.of(1, 2), times: Float64Array.of(T0, T0) })]))
  const r = await result
  t.is(closeCode(r.messages), 'invalid-message')
  t.is(r.end, 'reset')
  const stats = node.inPort('stim').stats
  t.is(stats.events, 1)
  t.is(stats.gapEvents, 0)
  await stillServes(t, node, witness)
})

test('bad input: truncated frame then end of stream → malformed-frame', async t => {
  const { node, witness, addr } = await victimWithWitness(t)
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, addr, EVENTS_PROTOCOL)
  const result = outcome(stream)
  const full = encodeFrame(openPush)
  stream.send(full.subarray(0, full.length - 3))
  await stream.close()
  const r = await result
  t.is(r.end, 'reset')
  await stillServes(t, node, witness)
})

test('bad input: no open within the open timeout → timeout', async t => {
  const { node, witness, addr } = await victimWithWitness(t)
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, addr, EVENTS_PROTOCOL)
  const r = await outcome(stream)
  t.is(closeCode(r.messages), 'timeout')
  t.is(r.end, 'reset')
  await stillServes(t, node, witness)
})

test('bad input: garbage on the describe protocol', async t => {
  const { node, witness, addr } = await victimWithWitness(t)
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, addr, DESCRIBE_PROTOCOL)
  const result = outcome(stream)
  stream.send(frameBytes(Uint8Array.of(0x1c)))
  const r = await result
  t.is(closeCode(r.messages), 'invalid-cbor')
  await stillServes(t, node, witness)
})

test('unknown protocol version is refused by negotiation', async t => {
  const { node, witness, addr } = await victimWithWitness(t)
  const adversary = await startAdversary(t)
  const err = await t.throwsAsync(dialRaw(adversary, addr, '/spikewire/events/2.0.0'))
  t.regex(err!.name + err!.message, /Unsupported|protocol/i)
  await stillServes(t, node, witness)
})

test('a peer opening hundreds of streams is limited and the node keeps serving', async t => {
  const { node, witness, addr } = await victimWithWitness(t)
  const adversary = await startAdversary(t)
  const results = await Promise.allSettled(Array.from({ length: 300 }, async () => {
    const s = await dialRaw(adversary, addr, EVENTS_PROTOCOL)
    const r = outcome(s, 8000)
    s.send(encodeFrame({ type: 'open', mode: 'subscribe', port: 'spikes' }))
    return await r
  }))
  const answered = results.filter(r => r.status === 'fulfilled').map(r => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof outcome>>>).value)
  const accepted = answered.filter(o => o.messages.some(m => m.type === 'accept')).length
  const tooMany = answered.filter(o => o.messages.some(m => m.type === 'reject' && m.code === 'too-many-streams')).length
  t.true(accepted <= 64, `accepted ${accepted}`)
  t.true(tooMany + (300 - answered.length) + answered.filter(o => o.messages.length === 0).length >= 300 - 64)
  t.true(node.refusals.opens >= tooMany)
  await stillServes(t, node, witness)
})
