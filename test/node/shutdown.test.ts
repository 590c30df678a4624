/**
 * Spec §9.2.10, shutdown: "A node that shuts down SHOULD send close{shutdown} on each of its open events
 * streams." Over real connections, with scripted peers that record the close they receive: a node's stop()
 * ends its push links and its own subscriptions with close{shutdown}, and the streams peers opened to it
 * too; an application's link.close() or subscription.close() stays close{normal}.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import type { Libp2p } from '@libp2p/interface'
import { EVENTS_PROTOCOL, FrameDecoder, decodeMessage, encodeFrame } from '../../src/codec/index.ts'
import type { Close, Message } from '../../src/codec/index.ts'
import { dialRaw, outcome, startAdversary } from '../helpers/adversary.ts'
import { startNode, until } from '../helpers/nodes.ts'

const T = 1_800_000_000_000_000
/** Without clock sync the events stream is the only stream between the two peers. */
const quiet = { clockSync: false } as const

/** A scripted acceptor: accepts every open (push into an in port, or subscribe to an out port) and records the closes it receives. */
async function acceptor (t: ExecutionContext): Promise<{ peer: Libp2p, closes: Close[], opens: () => number }> {
  const peer = await startAdversary(t)
  const closes: Close[] = []
  let opens = 0
  await peer.handle(EVENTS_PROTOCOL, stream => {
    const decoder = new FrameDecoder()
    stream.addEventListener('message', evt => {
      try {
        for (const body of decoder.push(evt.data)) {
          const msg: Message = decodeMessage(body, { kind: 'spike', channels: 1 })
          if (msg.type === 'open') {
            opens++
            stream.send(encodeFrame(msg.mode === 'push'
              ? { type: 'accept', port: msg.port, kind: 'spike', channels: 1, time: T, maxEvents: 4096 }
              : { type: 'accept', port: msg.port, kind: 'spike', channels: 1, time: T }))
          } else if (msg.type === 'close') {
            closes.push(msg)
            void stream.close().catch(() => {})
          }
        }
      } catch (err) {
        stream.abort(err as Error)
      }
    })
  })
  return { peer, closes, opens: () => opens }
}

test('stopping a node ends its push links with close{shutdown}', async t => {
  const rx = await acceptor(t)
  const tx = await startNode(t, { name: 'tx', ports: [{ name: 'drive', direction: 'out', channels: 1 }] }, quiet)
  const link = tx.push('drive', rx.peer.getMultiaddrs()[0], 'stim', { reconnect: false })
  await link.ready()
  await tx.stop()
  await until(() => rx.closes.length > 0, 20_000, 'the receiver to get a close')
  t.deepEqual(rx.closes.map(c => c.code), ['shutdown'])
  t.is(link.state, 'closed')
})

test('closing a push link sends close{normal}', async t => {
  const rx = await acceptor(t)
  const tx = await startNode(t, { name: 'tx', ports: [{ name: 'drive', direction: 'out', channels: 1 }] }, quiet)
  const link = tx.push('drive', rx.peer.getMultiaddrs()[0], 'stim', { reconnect: false })
  await link.ready()
  await link.close()
  await until(() => rx.closes.length > 0, 20_000, 'the receiver to get a close')
  t.deepEqual(rx.closes.map(c => c.code), ['normal'])
})

test('stopping a node ends its own subscriptions with close{shutdown}; unsubscribing sends close{normal}', async t => {
  const pub = await acceptor(t)
  const node = await startNode(t, { name: 'sub' }, quiet)
  const kept = node.subscribe(pub.peer.getMultiaddrs()[0], 'a', { reconnect: false })
  const left = node.subscribe(pub.peer.getMultiaddrs()[0], 'b', { reconnect: false })
  await Promise.all([kept.ready(), left.ready()])
  await left.close()
  await until(() => pub.closes.length === 1, 20_000, 'the close of the unsubscribed stream')
  t.is(pub.closes[0].code, 'normal')
  await node.stop()
  await until(() => pub.closes.length === 2, 20_000, 'the close of the stopped node')
  t.is(pub.closes[1].code, 'shutdown')
  t.is(pub.opens(), 2)
})

test('stopping a node still ends the streams peers opened to it with close{shutdown}', async t => {
  const node = await startNode(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 1 }, { name: 'stim', direction: 'in', channels: 1, push: '*' }] }, quiet)
  const adversary = await startAdversary(t)
  const results = await Promise.all((['subscribe', 'push'] as const).map(async mode => {
    const stream = await dialRaw(adversary, node.multiaddrs[0], EVENTS_PROTOCOL)
    const r = outcome(stream, 20_000)
    stream.send(encodeFrame({ type: 'open', mode, port: mode === 'push' ? 'stim' : 'spikes' }))
    return { stream, r }
  }))
  await until(() => node.outPort('spikes').stats.streams === 1 && node.inPort('stim').stats.streams === 1, 20_000, 'both streams open')
  await node.stop()
  for (const [i, { r }] of results.entries()) {
    const o = await r
    const close = o.messages.find(m => m.type === 'close')
    t.is(close?.type === 'close' ? close.code : undefined, 'shutdown', `${['subscribe', 'push'][i]}: ${JSON.stringify(o)}`)
  }
})

test('on stop a subscriber first gets every event numbered for it, then close{shutdown}: no gap (§9.2.10)', async t => {
  const node = await startNode(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 8 }] }, quiet)
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, node.multiaddrs[0], EVENTS_PROTOCOL)
  const r = outcome(stream, 30_000)
  stream.send(encodeFrame({ type: 'open', mode: 'subscribe', port: 'spikes' }))
  const port = node.outPort('spikes')
  await until(() => port.stats.streams === 1, 20_000, 'the subscriber attached')
  // The subscriber stops reading: its receive window fills and the publisher queues the rest.
  stream.pause()
  const n = 150_000
  const t0 = Math.round(node.clock.nowUs())
  const channels = Uint32Array.from({ length: n }, (_, i) => i % 8)
  const times = Float64Array.from({ length: n }, (_, i) => t0 + Math.floor(i / 100))
  t.is(port.emitColumns(channels, times, undefined, n), n)
  port.flush()
  const sender = [...port.senders][0]
  await until(() => sender.stats.queuedEvents > 0, 20_000, 'events queued for the subscriber')
  const stopped = node.stop()
  await new Promise(resolve => setTimeout(resolve, 100))
  stream.resume()
  const o = await r
  await stopped
  const batches = o.messages.flatMap(m => m.type === 'batch' ? [m] : [])
  let next = 0
  for (const b of batches) {
    t.is(b.seq, next, 'batches follow each other with no gap')
    next = b.seq + b.count
  }
  t.is(next, n, 'every event numbered before the close arrived')
  t.false(o.messages.some(m => m.type === 'loss'))
  const last = o.messages[o.messages.length - 1]
  t.is(last.type === 'close' ? last.code : last.type, 'shutdown')
  t.is(sender.stats.undelivered, 0)
})

test('on stop a subscriber that does not read is reset once the flush deadline passes; what it did not get is counted', async t => {
  const node = await startNode(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 8 }] }, quiet)
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, node.multiaddrs[0], EVENTS_PROTOCOL)
  const r = outcome(stream, 30_000)
  stream.send(encodeFrame({ type: 'open', mode: 'subscribe', port: 'spikes' }))
  const port = node.outPort('spikes')
  await until(() => port.stats.streams === 1, 20_000, 'the subscriber attached')
  stream.pause()
  const n = 150_000
  const t0 = Math.round(node.clock.nowUs())
  port.emitColumns(Uint32Array.from({ length: n }, (_, i) => i % 8), Float64Array.from({ length: n }, (_, i) => t0 + Math.floor(i / 100)), undefined, n)
  port.flush()
  const sender = [...port.senders][0]
  await until(() => sender.stats.queuedEvents > 0, 20_000, 'events queued for the subscriber')
  const queued = sender.stats.queuedEvents
  await node.stop()
  t.is(sender.stats.undelivered, queued, 'the queue it never took is counted as undelivered')
  t.false(sender.open)
  stream.resume()
  t.is((await r).end, 'reset')
})
