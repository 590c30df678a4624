/**
 * FramedStream (src/wire/framed.ts) on in-memory stream pairs: frames in order whatever the chunking,
 * backpressure passed through, and every fault turned into close{code} then a reset (spec §5, §9).
 */
import test from 'ava'
import { streamPair } from '@libp2p/utils'
import { SpikewireError, StreamError, encodeFrame } from '../../src/codec/index.ts'
import type { ErrorCodeName, Message } from '../../src/codec/index.ts'
import { FramedStream } from '../../src/wire/framed.ts'
import { memoryStreamPair, settle } from '../helpers/memory-stream.ts'
import { observe } from './helpers.ts'

const messages: Message[] = [
  { type: 'describe-request' },
  { type: 'clock-request', id: 1, t1: 1_700_000_000_000_000 },
  { type: 'watermark', seq: 0, time: 1_700_000_000_000_000 },
  { type: 'close', code: 'normal' }
]

test('messages arrive whole and in order over a libp2p stream pair', async t => {
  const [a, b] = await streamPair()
  const got: Message[] = []
  const done = Promise.withResolvers<void>()
  const rx = new FramedStream(b, { onMessage: m => { got.push(m); if (got.length === 3) done.resolve() } })
  const tx = new FramedStream(a, {})
  for (const m of messages.slice(0, 3)) t.true(tx.send(m))
  await done.promise
  t.deepEqual(got, messages.slice(0, 3))
  t.true(rx.open)
  t.is(rx.failure, undefined)
})

test('a frame split into single bytes is decoded once it is whole', async t => {
  const [a, b] = memoryStreamPair()
  const got: Message[] = []
  const framed = new FramedStream(b, { onMessage: m => { got.push(m) } })
  const bytes = new Uint8Array([...encodeFrame(messages[1]), ...encodeFrame(messages[2])])
  for (const byte of bytes) a.send(Uint8Array.of(byte))
  await settle()
  t.deepEqual(got, messages.slice(1, 3))
  t.true(framed.open)
})

test('onData is called before the message is decoded and handled', async t => {
  const [a, b] = memoryStreamPair()
  const order: string[] = []
  const framed = new FramedStream(b, { onData: () => order.push('data'), onMessage: m => order.push(m.type) })
  a.send(encodeFrame(messages[0]))
  await settle()
  t.deepEqual(order, ['data', 'describe-request'])
  t.true(framed.open)
})

test('close() sends close{normal}, closes the write side, and the stream ends without an error', async t => {
  const [a, b] = memoryStreamPair()
  const seen = observe(b)
  const closed = Promise.withResolvers<Error | undefined>()
  const framed = new FramedStream(a, { onClose: err => { closed.resolve(err) } })
  const remote = new FramedStream(b, { onRemoteEnd: () => { void remote.close() } })
  await framed.close('normal')
  t.is(await closed.promise, undefined)
  t.deepEqual(seen.messages, [{ type: 'close', code: 'normal' }])
  t.false(framed.open)
})

test('send() returns false while the transport is full; drain() resolves once it has room', async t => {
  const [a, b] = memoryStreamPair()
  const got: Message[] = []
  const framed = new FramedStream(a, {})
  void new FramedStream(b, { onMessage: m => { got.push(m) } })
  a.block()
  t.false(framed.send(messages[0]), 'the write that fills the transport reports it')
  t.true(framed.needsDrain)
  t.false(framed.send(messages[1]), 'later writes are buffered and report it too')
  let drained = false
  const drain = framed.drain().then(() => { drained = true })
  await settle()
  t.false(drained)
  a.unblock()
  await drain
  t.false(framed.needsDrain)
  await settle()
  t.deepEqual(got, messages.slice(0, 2))
})

test('pause() holds received frames until resume()', async t => {
  const [a, b] = memoryStreamPair()
  const got: Message[] = []
  const framed = new FramedStream(b, { onMessage: m => { got.push(m) } })
  framed.pause()
  a.send(encodeFrame(messages[0]))
  await settle()
  t.deepEqual(got, [])
  t.is(b.pauses, 1)
  framed.resume()
  await settle()
  t.deepEqual(got, [messages[0]])
  t.is(b.resumes, 1)
})

const faults: Array<{ name: string, bytes: Uint8Array, code: ErrorCodeName, maxFrameBytes?: number }> = [
  { name: 'an oversize frame', bytes: Uint8Array.of(0x84, 0x80, 0x04), code: 'frame-too-large', maxFrameBytes: 4096 },
  { name: 'a zero-length frame', bytes: Uint8Array.of(0x00), code: 'malformed-frame' },
  { name: 'bytes that are not CBOR', bytes: Uint8Array.of(0x02, 0xff, 0xff), code: 'invalid-cbor' },
  { name: 'a CBOR item that is not a message', bytes: Uint8Array.of(0x01, 0x80), code: 'invalid-message' }
]

for (const f of faults) {
  test(`${f.name} → close{${f.code}} to the peer, then a reset`, async t => {
    const [a, b] = memoryStreamPair()
    const seen = observe(a)
    const closed = Promise.withResolvers<Error | undefined>()
    const got: Message[] = []
    const framed = new FramedStream(b, { maxFrameBytes: f.maxFrameBytes, onMessage: m => { got.push(m) }, onClose: err => { closed.resolve(err) } })
    a.send(f.bytes)
    const err = await closed.promise
    t.true(err instanceof SpikewireError)
    t.is((err as SpikewireError).code, f.code)
    t.is(framed.failure?.code, f.code)
    t.deepEqual(got, [], 'nothing reaches the handler')
    t.not(await seen.ended, undefined, 'the peer sees a reset, not a clean close')
    t.is(seen.messages.length, 1)
    t.like(seen.messages[0], { type: 'close', code: f.code })
    t.is(a.status, 'reset')
  })
}

test('a frame cut short by the end of the stream → malformed-frame', async t => {
  const [a, b] = memoryStreamPair()
  const closed = Promise.withResolvers<Error | undefined>()
  const framed = new FramedStream(b, { onClose: err => { closed.resolve(err) } })
  const frame = encodeFrame(messages[1])
  a.send(frame.subarray(0, frame.length - 2))
  await a.close()
  const err = await closed.promise
  t.is((err as SpikewireError).code, 'malformed-frame')
  t.is(framed.failure?.code, 'malformed-frame')
})

test('a handler that throws fails the stream with its code and does not crash the process', async t => {
  const [a, b] = memoryStreamPair()
  const seen = observe(a)
  const closed = Promise.withResolvers<Error | undefined>()
  const framed = new FramedStream(b, {
    onMessage: () => { throw new StreamError('unexpected-message', 'not now') },
    onClose: err => { closed.resolve(err) }
  })
  a.send(encodeFrame(messages[0]))
  t.is(((await closed.promise) as SpikewireError).code, 'unexpected-message')
  await seen.ended
  t.like(seen.messages[0], { type: 'close', code: 'unexpected-message' })
  t.false(framed.open)
})

test('a handler that throws a plain Error fails the stream with internal-error', async t => {
  const [a, b] = memoryStreamPair()
  const closed = Promise.withResolvers<Error | undefined>()
  void new FramedStream(b, { onMessage: () => { throw new TypeError('bug') }, onClose: err => { closed.resolve(err) } })
  a.send(encodeFrame(messages[0]))
  t.is(((await closed.promise) as SpikewireError).code, 'internal-error')
})

test('a throwing onClose listener is contained', async t => {
  const [a, b] = memoryStreamPair()
  const framed = new FramedStream(b, { onClose: () => { throw new Error('listener bug') } })
  a.abort(new Error('gone'))
  await settle()
  t.false(framed.open)
})

test('a message after the peer\'s close → unexpected-message', async t => {
  const [a, b] = memoryStreamPair()
  const got: Message[] = []
  const closed = Promise.withResolvers<Error | undefined>()
  const framed = new FramedStream(b, { onMessage: m => { got.push(m) }, onClose: err => { closed.resolve(err) } })
  a.send(new Uint8Array([...encodeFrame({ type: 'close', code: 'normal' }), ...encodeFrame(messages[0])]))
  t.is(((await closed.promise) as SpikewireError).code, 'unexpected-message')
  t.deepEqual(got, [{ type: 'close', code: 'normal' }])
  t.is(framed.failure?.code, 'unexpected-message')
})

test('fail() is idempotent and send() after it returns false', async t => {
  const [a, b] = memoryStreamPair()
  const seen = observe(a)
  const framed = new FramedStream(b, {})
  framed.fail(new StreamError('timeout', 'first'))
  framed.fail(new StreamError('internal-error', 'second'))
  t.is(framed.failure?.code, 'timeout')
  t.false(framed.send(messages[0]))
  await seen.ended
  t.deepEqual(seen.messages.map(m => m.type === 'close' && m.code), ['timeout'])
})

test('closeRequired: a remote end without a close fails the stream, resets it and sends nothing', async t => {
  const [a, b] = memoryStreamPair()
  const seen = observe(a)
  const closed = Promise.withResolvers<Error | undefined>()
  let remoteEnded = false
  const framed = new FramedStream(b, { closeRequired: true, onRemoteEnd: () => { remoteEnded = true }, onClose: err => { closed.resolve(err) } })
  a.send(encodeFrame(messages[2]))
  await a.close()
  const err = await closed.promise
  t.true(err instanceof StreamError)
  t.is((err as StreamError).code, 'unexpected-message')
  t.is(framed.failure as Error | undefined, err)
  t.false(remoteEnded, 'not a clean end')
  t.not(await seen.ended, undefined, 'the peer sees a reset')
  t.deepEqual(seen.messages, [], 'no close is sent on a failed stream (spec §9.2.10)')
})

test('closeRequired: a remote end after its close is a clean end', async t => {
  const [a, b] = memoryStreamPair()
  let remoteEnded = false
  const framed = new FramedStream(b, { closeRequired: true, onRemoteEnd: () => { remoteEnded = true } })
  a.send(encodeFrame({ type: 'close', code: 'normal' }))
  await a.close()
  await settle()
  t.true(remoteEnded)
  t.true(framed.peerClosed)
  t.is(framed.failure, undefined)
})

test('closeRequired: a remote end after this end sent its close is a clean end (the peer answers a non-normal close so)', async t => {
  const [a, b] = memoryStreamPair()
  const closed = Promise.withResolvers<Error | undefined>()
  const framed = new FramedStream(b, { closeRequired: true, onClose: err => { closed.resolve(err) } })
  const remote = new FramedStream(a, { onRemoteEnd: () => { void a.close() } })
  void remote
  await framed.close('shutdown')
  t.is(await closed.promise, undefined)
  t.is(framed.failure, undefined)
})

test('frames held while paused are handled before the remote end: a close in the paused buffer counts', async t => {
  const [a, b] = memoryStreamPair()
  const got: Message[] = []
  let remoteEnded = false
  const framed = new FramedStream(b, { closeRequired: true, onMessage: m => { got.push(m) }, onRemoteEnd: () => { remoteEnded = true } })
  framed.pause()
  a.send(new Uint8Array([...encodeFrame(messages[2]), ...encodeFrame({ type: 'close', code: 'normal' })]))
  await a.close()
  await settle()
  t.deepEqual(got, [], 'nothing handled while paused')
  t.false(remoteEnded, 'the end waits for the held frames')
  framed.resume()
  await settle()
  t.deepEqual(got.map(m => m.type), ['watermark', 'close'])
  t.true(remoteEnded)
  t.is(framed.failure, undefined)
})

test('a stream aborted with something that is not an Error reaches onClose as a StreamError', async t => {
  const [a] = memoryStreamPair()
  const closed = Promise.withResolvers<Error | undefined>()
  const framed = new FramedStream(a, { onClose: err => { closed.resolve(err) } })
  a.abort(new Event('connection-closed') as unknown as Error)
  const err = await closed.promise
  t.true(err instanceof StreamError)
  t.is((err as StreamError).code, 'unexpected-message')
  t.regex(err!.message, /connection-closed/)
  t.false(framed.open)
})
