/**
 * Opening an events stream, the cases spec revision 3 settled, over real nodes on loopback:
 * - §9.2.3: an acceptor that receives close before it has answered sends nothing and closes its write side;
 *   a close that crossed its reject is ignored;
 * - §9.2.2: an opener treats close{code} instead of an answer like reject{code}, and does not retry an open
 *   refused as invalid-message;
 * - §8.5: a reject with code 0 is invalid-message.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import type { Libp2p } from '@libp2p/interface'
import {
  EVENTS_PROTOCOL, FrameDecoder, RejectedError, RemoteCloseError, SpikewireError, decodeMessage, encodeFrame
} from '../../../src/codec/index.ts'
import type { Message } from '../../../src/codec/index.ts'
import { openEventsStream } from '../../../src/protocols/events/events-client.ts'
import { dialRaw, outcome, startAdversary } from '../../helpers/adversary.ts'
import { startNode, until } from '../../helpers/nodes.ts'

interface Script {
  server: Libp2p
  /** Messages received, one array per stream, in the order the streams were opened. */
  streams: Message[][]
  /** How each stream ended: 'closed' (both write sides closed) or 'reset'. */
  ends: string[]
}

/**
 * A scripted acceptor: for each message received, `answer` gives the frames to send back; `reset` says
 * whether to reset the stream after them (as after close{code}) or to close its write side (as after reject).
 */
async function scripted (t: ExecutionContext, answer: (msg: Message) => { send: Message[], end?: 'reset' | 'close' }): Promise<Script> {
  const server = await startAdversary(t)
  const streams: Message[][] = []
  const ends: string[] = []
  await server.handle(EVENTS_PROTOCOL, stream => {
    const got: Message[] = []
    const i = streams.push(got) - 1
    stream.addEventListener('close', evt => { ends[i] = evt.error === undefined ? 'closed' : 'reset' })
    const decoder = new FrameDecoder()
    stream.addEventListener('message', evt => {
      try {
        for (const body of decoder.push(evt.data)) {
          const msg = decodeMessage(body)
          got.push(msg)
          if (msg.type !== 'open') continue
          const a = answer(msg)
          for (const reply of a.send) stream.send(encodeFrame(reply))
          if (a.end === 'reset') stream.abort(new Error('scripted reset'))
          else if (a.end === 'close') void stream.close().catch(() => {})
        }
      } catch (err) {
        stream.abort(err as Error)
      }
    })
    stream.addEventListener('remoteCloseWrite', () => { void stream.close().catch(() => {}) })
  })
  return { server, streams, ends }
}

const ports = [{ name: 'spikes', direction: 'out' as const, channels: 4 }]

test('an acceptor that receives close before the open answers nothing and closes its write side', async t => {
  const node = await startNode(t, { name: 'acceptor', ports })
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, node.multiaddrs[0], EVENTS_PROTOCOL)
  const result = outcome(stream)
  stream.send(encodeFrame({ type: 'close', code: 'normal' }))
  const r = await result
  t.deepEqual(r.messages, [], 'no accept, no reject, no close')
  t.is(r.end, 'closed', 'a clean end, not a reset')
})

test('an acceptor ignores a close that crossed its reject', async t => {
  const node = await startNode(t, { name: 'acceptor', ports })
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, node.multiaddrs[0], EVENTS_PROTOCOL)
  const result = outcome(stream)
  stream.send(new Uint8Array([
    ...encodeFrame({ type: 'open', mode: 'subscribe', port: 'nothing-here' }),
    ...encodeFrame({ type: 'close', code: 'timeout' })
  ]))
  const r = await result
  t.deepEqual(r.messages.map(m => m.type), ['reject'])
  t.like(r.messages[0], { type: 'reject', code: 'unknown-port' })
  t.is(r.end, 'closed')
})

test('anything but a close after the acceptor\'s reject is still an error: the stream is reset', async t => {
  const node = await startNode(t, { name: 'acceptor', ports })
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, node.multiaddrs[0], EVENTS_PROTOCOL)
  const result = outcome(stream)
  stream.send(new Uint8Array([
    ...encodeFrame({ type: 'open', mode: 'subscribe', port: 'nothing-here' }),
    ...encodeFrame({ type: 'watermark', seq: 0, time: 1 })
  ]))
  const r = await result
  t.deepEqual(r.messages.map(m => m.type), ['reject'], 'its write side is closed: no close{unexpected-message} (§5.3)')
  t.like(r.messages[0], { type: 'reject', code: 'unknown-port' })
  t.is(r.end, 'reset', 'the error resets the stream')
})

for (const form of ['close', 'reject'] as const) {
  test(`an open refused as invalid-message by ${form} is not retried`, async t => {
    const s = await scripted(t, () => form === 'close'
      ? { send: [{ type: 'close', code: 'invalid-message', reason: 'scripted' }], end: 'reset' }
      : { send: [{ type: 'reject', code: 'invalid-message', reason: 'scripted' }], end: 'close' })
    const node = await startNode(t, { name: 'opener' }, { clockSync: false })
    const sub = node.subscribe(s.server.getMultiaddrs()[0], 'spikes', { reconnect: { initialDelayMs: 20, maxAttempts: 5 } })
    await t.throwsAsync(sub.ready())
    await sub.done()
    t.is(sub.state, 'closed')
    t.true(form === 'close' ? sub.error instanceof RemoteCloseError : sub.error instanceof RejectedError, String(sub.error))
    t.is((sub.error as SpikewireError).code, 'invalid-message')
    t.is(s.streams.length, 1, 'one open, no retry')
    if (form === 'reject') {
      await until(() => s.ends[0] !== undefined, 20_000, 'the stream to end')
      t.is(s.ends[0], 'closed', 'the opener closed its write side after the reject (§9.2.3), no reset')
    }
  })
}

test('a refusal that may pass (close{too-many-streams} instead of an answer) is retried', async t => {
  const s = await scripted(t, () => ({ send: [{ type: 'close', code: 'too-many-streams' }], end: 'reset' }))
  const node = await startNode(t, { name: 'opener' }, { clockSync: false })
  const sub = node.subscribe(s.server.getMultiaddrs()[0], 'spikes', { reconnect: { initialDelayMs: 20, maxAttempts: 2 } })
  await until(() => s.streams.length >= 2, 20_000, 'a second open')
  await sub.close()
  t.pass()
})

test('a reject with code 0 fails the open with invalid-message, and the opener says so', async t => {
  const s = await scripted(t, () => ({ send: [{ type: 'reject', code: 'normal' }] }))
  const client = await startAdversary(t)
  const err = await t.throwsAsync(openEventsStream(client, s.server.getMultiaddrs()[0], { type: 'open', mode: 'subscribe', port: 'spikes' }))
  t.true(err instanceof SpikewireError, String(err))
  t.false(err instanceof RejectedError, 'not a refusal with code normal')
  t.is((err as SpikewireError).code, 'invalid-message')
  await until(() => s.streams[0]?.some(m => m.type === 'close') === true, 20_000, 'the opener\'s close')
  t.like(s.streams[0].find(m => m.type === 'close'), { type: 'close', code: 'invalid-message' })
})
