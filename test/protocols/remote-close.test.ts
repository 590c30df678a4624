/**
 * A peer's close{code} reaches the application as a RemoteCloseError carrying the registry code, from every
 * client: subscription, push link, events open, describe, clock sync. Refusals stay RejectedErrors.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import type { Libp2p } from '@libp2p/interface'
import {
  CLOCK_PROTOCOL, DESCRIBE_PROTOCOL, EVENTS_PROTOCOL, FrameDecoder, RejectedError, RemoteCloseError, SpikewireError,
  decodeMessage, encodeFrame
} from '../../src/codec/index.ts'
import type { ErrorCodeName, Message } from '../../src/codec/index.ts'
import { describeRemote } from '../../src/protocols/describe/describe.ts'
import { PeerClock } from '../../src/protocols/clock/peer-clock.ts'
import { openEventsStream } from '../../src/protocols/events/events-client.ts'
import { SystemClock } from '../../src/base/clock.ts'
import { startAdversary } from '../helpers/adversary.ts'
import { startNode } from '../helpers/nodes.ts'

/** A scripted listener: for each message received, `answer` gives the frames to send back (or none). */
async function scripted (t: ExecutionContext, protocol: string, answer: (msg: Message) => Message[]): Promise<Libp2p> {
  const server = await startAdversary(t)
  await server.handle(protocol, stream => {
    const decoder = new FrameDecoder()
    stream.addEventListener('message', evt => {
      try {
        for (const body of decoder.push(evt.data)) {
          for (const reply of answer(decodeMessage(body))) stream.send(encodeFrame(reply))
        }
      } catch (err) {
        stream.abort(err as Error)
      }
    })
    stream.addEventListener('remoteCloseWrite', () => { void stream.close().catch(() => {}) })
  })
  return server
}

/**
 * Nodes for the shutdown cases run without clock sync, so the only stream on the connection is the one
 * under test and stop() has nothing else in flight when it sends close{shutdown}.
 */
const quiet = { clockSync: false } as const

function assertRemoteClose (t: ExecutionContext, err: unknown, code: ErrorCodeName, wireCode: number): void {
  t.true(err instanceof RemoteCloseError, `got ${String(err)}`)
  t.true(err instanceof SpikewireError)
  const e = err as RemoteCloseError
  t.is(e.name, 'RemoteCloseError')
  t.is(e.code, code)
  t.is(e.wireCode, wireCode)
}

test('a subscription to a port it may not use fails with RejectedError code unauthorized', async t => {
  const pub = await startNode(t, { name: 'pub', ports: [{ name: 'private', direction: 'out', channels: 1, subscribe: [] }] })
  const sub = await startNode(t, { name: 'sub' })
  const s = sub.subscribe(pub.multiaddrs[0], 'private')
  const err = await t.throwsAsync(s.ready())
  t.true(err instanceof RejectedError)
  t.is((err as RejectedError).code, 'unauthorized')
  t.is((err as RejectedError).wireCode, 17)
  t.is(s.error, err)
  t.is(s.state, 'closed')
})

test('a publisher that shuts down ends a subscription with RemoteCloseError code shutdown', async t => {
  const pub = await startNode(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 1 }] }, quiet)
  const sub = await startNode(t, { name: 'sub' }, quiet)
  const s = sub.subscribe(pub.multiaddrs[0], 'spikes', { reconnect: false })
  await s.ready()
  await pub.stop()
  await s.done()
  assertRemoteClose(t, s.error, 'shutdown', 21)
  t.is(s.state, 'closed')
})

test('a reconnecting subscription reports the remote close code in its retrying status', async t => {
  const pub = await startNode(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 1 }] }, quiet)
  const sub = await startNode(t, { name: 'sub' }, quiet)
  const s = sub.subscribe(pub.multiaddrs[0], 'spikes', { reconnect: { initialDelayMs: 50, maxAttempts: 1 } })
  const retrying = new Promise<Error | undefined>(resolve => {
    s.addEventListener('status', e => { if (e.detail.state === 'retrying') resolve(e.detail.error) })
  })
  await s.ready()
  await pub.stop()
  assertRemoteClose(t, await retrying, 'shutdown', 21)
  await s.close()
})

test('a receiver that closes with shutdown ends a push link with RemoteCloseError', async t => {
  // A scripted receiver: a node's stop() can lose its close{shutdown} to a pusher whose watermarks are still
  // unread when the socket closes (TCP then resets), so the receiver here is exact about what it sends.
  const rx = await scripted(t, EVENTS_PROTOCOL, msg => msg.type !== 'open' ? [] : [
    { type: 'accept', port: msg.port, kind: 'spike', channels: 1, time: 1_700_000_000_000_000, maxEvents: 4096 },
    { type: 'close', code: 'shutdown', reason: 'stopping' }
  ])
  const tx = await startNode(t, { name: 'tx', ports: [{ name: 'drive', direction: 'out', channels: 1 }] }, quiet)
  const link = tx.push('drive', rx.getMultiaddrs()[0], 'stim', { reconnect: false })
  await link.ready()
  await link.done()
  assertRemoteClose(t, link.error, 'shutdown', 21)
  t.is((link.error as RemoteCloseError).reason, 'stopping')
})

test('close{code} instead of accept rejects the open with RemoteCloseError', async t => {
  const server = await scripted(t, EVENTS_PROTOCOL, () => [{ type: 'close', code: 'too-many-streams', reason: 'full' }])
  const client = await startAdversary(t)
  const err = await t.throwsAsync(openEventsStream(client, server.getMultiaddrs()[0], { type: 'open', mode: 'subscribe', port: 'x' }))
  assertRemoteClose(t, err, 'too-many-streams', 18)
  t.is((err as RemoteCloseError).reason, 'full')
})

test('an unregistered close code keeps its number', async t => {
  const server = await scripted(t, EVENTS_PROTOCOL, () => [{ type: 'close', code: 4000 }])
  const client = await startAdversary(t)
  const err = await t.throwsAsync(openEventsStream(client, server.getMultiaddrs()[0], { type: 'open', mode: 'subscribe', port: 'x' }))
  assertRemoteClose(t, err, 'internal-error', 4000)
})

test('close{code} instead of a description rejects describe with RemoteCloseError', async t => {
  const server = await scripted(t, DESCRIBE_PROTOCOL, () => [{ type: 'close', code: 'unsupported' }])
  const client = await startAdversary(t)
  const err = await t.throwsAsync(describeRemote(client, server.getMultiaddrs()[0]))
  assertRemoteClose(t, err, 'unsupported', 22)
})

test('a clock server that closes with shutdown ends the clock sync with RemoteCloseError', async t => {
  const server = await scripted(t, CLOCK_PROTOCOL, msg => msg.type === 'clock-request' ? [{ type: 'close', code: 'shutdown' }] : [])
  const client = await startAdversary(t)
  const pc = new PeerClock(client, server.getMultiaddrs()[0], new SystemClock(), { reconnect: false })
  t.teardown(async () => { await pc.close() })
  await pc.done()
  assertRemoteClose(t, pc.error, 'shutdown', 21)
  await t.throwsAsync(pc.ready())
})
