/**
 * Opening an events stream, the cases spec revision 3 settled, over real nodes on loopback:
 * - §9.2.3: an acceptor that receives close before it has answered sends nothing and closes its write side;
 *   a close that crossed its reject is ignored;
 * - §9.2.2: an opener treats close{code} instead of an answer like reject{code}, and does not retry an open
 *   refused as invalid-message;
 * - §8.5: a reject with code 0 is invalid-message;
 * - §9.2.8: a push open with a delay is refused with unsupported (this node cannot schedule deliveries);
 * - §9.2.2: the acceptor's checks run in the spec's order, the first that fails gives the code.
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

/** The node's first answer to each of `opens`, one raw stream each (from one adversary peer). */
async function answers (t: ExecutionContext, node: { multiaddrs: string[] }, opens: Message[]): Promise<Message[]> {
  const adversary = await startAdversary(t)
  return await Promise.all(opens.map(async open => {
    const stream = await dialRaw(adversary, node.multiaddrs[0], EVENTS_PROTOCOL)
    const decoder = new FrameDecoder()
    const first = new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('no answer in time')) }, 20_000)
      stream.addEventListener('message', evt => {
        const [body] = decoder.push(evt.data)
        if (body === undefined) return
        clearTimeout(timer)
        resolve(decodeMessage(body))
      })
    })
    stream.send(encodeFrame(open))
    const answer = await first
    stream.abort(new Error('done'))
    return answer
  }))
}

const stimPorts = [
  { name: 'stim', direction: 'in' as const, channels: 4, push: '*' as const },
  { name: 'closed', direction: 'in' as const, channels: 4 }
]

test('a push open with a delay is refused with unsupported: the node delivers pushed events as they arrive (§9.2.8)', async t => {
  const node = await startNode(t, { name: 'acceptor', ports: stimPorts }, { clockSync: false })
  const [withDelay, zero, without] = await answers(t, node, [
    { type: 'open', mode: 'push', port: 'stim', delay: 20_000 },
    { type: 'open', mode: 'push', port: 'stim', delay: 0 },
    { type: 'open', mode: 'push', port: 'stim' }
  ])
  t.like(withDelay, { type: 'reject', code: 'unsupported' })
  t.like(zero, { type: 'reject', code: 'unsupported' }, 'a delay of 0 is a delay too: delivery at the mapped time')
  t.like(without, { type: 'accept', port: 'stim' })
  t.is(node.stats().refusals.opens, 2)
})

test('a push link that asks for a delay is refused with unsupported and does not retry', async t => {
  const rx = await startNode(t, { name: 'rx', ports: stimPorts }, { clockSync: false })
  const tx = await startNode(t, { name: 'tx', ports: [{ name: 'drive', direction: 'out', channels: 4 }] }, { clockSync: false })
  const link = tx.push('drive', rx.multiaddrs[0], 'stim', { delay: 20_000, reconnect: { initialDelayMs: 20, maxAttempts: 5 } })
  await t.throwsAsync(link.ready())
  await link.done()
  t.true(link.error instanceof RejectedError, String(link.error))
  t.is((link.error as SpikewireError).code, 'unsupported')
  t.is(rx.stats().refusals.opens, 1, 'one open, no retry')
})

test('the acceptor checks in the order of §9.2.2: the first that fails gives the code', async t => {
  const node = await startNode(t, { name: 'acceptor', ports: stimPorts }, { clockSync: false })
  const got = await answers(t, node, [
    // unauthorized (4) before channel-out-of-range (5) and unsupported (6)
    { type: 'open', mode: 'push', port: 'closed', channels: [9], delay: 5 },
    // channel-out-of-range (5) before unsupported (6)
    { type: 'open', mode: 'push', port: 'stim', channels: [9], delay: 5 },
    // wrong-direction (3) before unauthorized (4)
    { type: 'open', mode: 'subscribe', port: 'closed' }
  ])
  t.deepEqual(got.map(m => m.type === 'reject' ? m.code : m.type), ['unauthorized', 'channel-out-of-range', 'wrong-direction'])
})
