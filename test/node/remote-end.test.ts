/**
 * Spec §9.2.10, abnormal end: "a stream whose remote write side ends without a close has failed; the end
 * reports this locally and sends nothing." Over real nodes: a raw peer that ends its write side without a
 * close, as a subscriber, as a pusher and before its open, gets its stream reset and nothing more (no
 * batch, no watermark, no close), while the node keeps serving a well-behaved subscriber. And the
 * reference's own subscription treats a publisher that does the same as a failed stream, and so do its
 * subscription and push link when their connection is killed under them.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import type { Stream } from '@libp2p/interface'
import { EVENTS_PROTOCOL, FrameDecoder, StreamError, decodeMessage, encodeFrame } from '../../src/codec/index.ts'
import type { Message } from '../../src/codec/index.ts'
import type { SpikewireNode } from '../../src/node/node.ts'
import { createDelayProxy } from '../../src/netem/index.ts'
import type { DelayProxy } from '../../src/netem/index.ts'
import { dialRaw, startAdversary } from '../helpers/adversary.ts'
import { nowUs, startNode, until } from '../helpers/nodes.ts'

/** A raw stream's view: every message with the time it arrived, and how and when the stream ended. */
interface Watched {
  messages: Array<{ msg: Message, at: number }>
  /** 'reset' or 'closed' once the stream has ended. */
  end: 'reset' | 'closed' | undefined
  endedAt: number
}

function watch (stream: Stream, decode: { kind?: 'spike' | 'weighted', channels?: number } = {}): Watched {
  const w: Watched = { messages: [], end: undefined, endedAt: 0 }
  const decoder = new FrameDecoder()
  stream.addEventListener('message', e => {
    for (const body of decoder.push(e.data)) w.messages.push({ msg: decodeMessage(body, decode), at: Date.now() })
  })
  stream.addEventListener('close', e => {
    w.end = e.error === undefined ? 'closed' : 'reset'
    w.endedAt = Date.now()
  })
  return w
}

const types = (w: Watched): string[] => w.messages.map(m => m.msg.type)

/** A publisher emitting on every channel every 5 ms, and a witness subscriber that counts what it gets. */
async function publisherWithWitness (t: ExecutionContext): Promise<{ node: SpikewireNode, witness: () => number }> {
  const node = await startNode(t, {
    name: 'pub',
    ports: [{ name: 'spikes', direction: 'out', channels: 4 }, { name: 'stim', direction: 'in', channels: 4, push: '*' }],
    watermarkIntervalMs: 20
  })
  const emitter = setInterval(() => {
    const now = nowUs(node)
    for (let c = 0; c < 4; c++) node.outPort('spikes').emit(c, now)
  }, 5)
  t.teardown(() => { clearInterval(emitter) })
  const other = await startNode(t, { name: 'witness' })
  const sub = other.subscribe(node.multiaddrs[0], 'spikes')
  let got = 0
  sub.onBatch(d => { got += d.batch.count })
  await sub.ready()
  return { node, witness: () => got }
}

async function witnessStillServed (node: SpikewireNode, witness: () => number): Promise<void> {
  const before = witness()
  await until(() => witness() > before + 100, 20_000, 'the witness to keep receiving')
  void node
}

test('a subscriber that ends its write side without a close gets a reset and nothing more', async t => {
  const { node, witness } = await publisherWithWitness(t)
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, node.multiaddrs[0], EVENTS_PROTOCOL)
  const w = watch(stream, { kind: 'spike', channels: 4 })
  stream.send(encodeFrame({ type: 'open', mode: 'subscribe', port: 'spikes' }))
  await until(() => types(w).includes('batch') && types(w).includes('watermark'), 20_000, 'batches and watermarks')
  t.is(node.outPort('spikes').stats.streams, 2)

  await stream.close() // the write side ends; no close message was sent
  const closedAt = Date.now()
  await until(() => w.end !== undefined, 20_000, 'the node to end the stream')
  t.is(w.end, 'reset', 'the node resets the failed stream')
  t.false(types(w).includes('close'), 'the node sends no close on a failed stream (§9.2.10)')
  const after = w.messages.filter(m => m.at > w.endedAt)
  t.deepEqual(after, [], 'nothing arrives after the reset')
  t.log(`reset ${w.endedAt - closedAt} ms after the write side ended; ${w.messages.filter(m => m.at >= closedAt).length} messages in between`)
  await until(() => node.outPort('spikes').stats.streams === 1, 20_000, 'the sender to be detached')
  await witnessStillServed(node, witness)
})

test('a pusher that ends its write side without a close gets a reset; the in port drops the stream', async t => {
  const { node, witness } = await publisherWithWitness(t)
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, node.multiaddrs[0], EVENTS_PROTOCOL)
  const w = watch(stream)
  stream.send(encodeFrame({ type: 'open', mode: 'push', port: 'stim' }))
  await until(() => types(w).includes('accept'), 20_000, 'accept')
  const T = nowUs(node)
  stream.send(encodeFrame({ type: 'batch', seq: 0, base: T, count: 1, channels: Uint32Array.of(1), times: Float64Array.of(T) }))
  await until(() => node.inPort('stim').stats.events === 1, 20_000, 'the pushed event')
  t.is(node.inPort('stim').stats.streams, 1)
  await stream.close()
  await until(() => w.end !== undefined, 20_000, 'the node to end the stream')
  t.is(w.end, 'reset')
  t.deepEqual(types(w), ['accept'], 'nothing after accept: no close on a failed stream')
  await until(() => node.inPort('stim').stats.streams === 0, 20_000, 'the receiver to be detached')
  await witnessStillServed(node, witness)
})

test('a peer that ends its write side before its open gets a reset at once, not after the open timeout', async t => {
  const { node, witness } = await publisherWithWitness(t)
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, node.multiaddrs[0], EVENTS_PROTOCOL)
  const w = watch(stream)
  await stream.close()
  // The open timeout is 10 s: a reset well before it is this rule, not the timeout.
  await until(() => w.end !== undefined, 8000, 'the node to end the stream')
  t.is(w.end, 'reset')
  t.deepEqual(types(w), [], 'no close{timeout}, nothing')
  await witnessStillServed(node, witness)
})

test('a subscriber that closes properly still gets a clean end (close{normal} answered, no reset)', async t => {
  const { node } = await publisherWithWitness(t)
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, node.multiaddrs[0], EVENTS_PROTOCOL)
  const w = watch(stream, { kind: 'spike', channels: 4 })
  stream.send(encodeFrame({ type: 'open', mode: 'subscribe', port: 'spikes' }))
  await until(() => types(w).includes('batch'), 20_000, 'a batch')
  stream.send(encodeFrame({ type: 'close', code: 'normal' }))
  await stream.close()
  await until(() => w.end !== undefined, 20_000, 'the stream to end')
  t.is(w.end, 'closed')
  await until(() => node.outPort('spikes').stats.streams === 1, 20_000, 'the sender to be detached')
})

test('a publisher that ends its write side without a close fails the subscription; the subscriber sends nothing', async t => {
  const server = await startAdversary(t)
  const seen: { messages: Message[], end: 'reset' | 'closed' | undefined } = { messages: [], end: undefined }
  const T = 1_800_000_000_000_000
  await server.handle(EVENTS_PROTOCOL, stream => {
    const decoder = new FrameDecoder()
    stream.addEventListener('close', e => { seen.end = e.error === undefined ? 'closed' : 'reset' })
    stream.addEventListener('message', evt => {
      for (const body of decoder.push(evt.data)) {
        const msg = decodeMessage(body)
        seen.messages.push(msg)
        if (msg.type !== 'open') continue
        stream.send(encodeFrame({ type: 'accept', port: msg.port, kind: 'spike', channels: 1, time: T }))
        stream.send(encodeFrame({ type: 'watermark', seq: 0, time: T }))
        void stream.close() // ends the write side without a close
      }
    })
  })
  const client = await startNode(t, { name: 'sub' }, { clockSync: false })
  const sub = client.subscribe(server.getMultiaddrs()[0], 'spikes', { reconnect: false })
  await sub.ready()
  await sub.done()
  t.true(sub.error instanceof StreamError, String(sub.error))
  t.is((sub.error as StreamError).code, 'unexpected-message')
  t.is(sub.stats.watermarks, 1, 'what came before the end was handled')
  await until(() => seen.end !== undefined, 20_000, 'the server side to end')
  t.is(seen.end, 'reset')
  t.deepEqual(seen.messages.map(m => m.type), ['open'], 'the subscriber sent no close on the failed stream')
})

test('a receiver that ends its write side without a close fails the push link', async t => {
  const server = await startAdversary(t)
  await server.handle(EVENTS_PROTOCOL, stream => {
    const decoder = new FrameDecoder()
    stream.addEventListener('message', evt => {
      for (const body of decoder.push(evt.data)) {
        const msg = decodeMessage(body)
        if (msg.type !== 'open') continue
        stream.send(encodeFrame({ type: 'accept', port: msg.port, kind: 'spike', channels: 1, time: 1_800_000_000_000_000, maxEvents: 4096 }))
        void stream.close()
      }
    })
  })
  const tx = await startNode(t, { name: 'tx', ports: [{ name: 'drive', direction: 'out', channels: 1 }] }, { clockSync: false })
  const link = tx.push('drive', server.getMultiaddrs()[0], 'stim', { reconnect: false })
  await link.ready()
  await link.done()
  t.true(link.error instanceof StreamError, String(link.error))
  t.is((link.error as StreamError).code, 'unexpected-message')
  t.is(tx.outPort('drive').stats.streams, 0, 'the sender was detached')
})

/**
 * A connection killed under the stream (both TCP sockets reset by a proxy in between, no stream reset and
 * no muxer go-away): js-libp2p's Yamux then ends each stream without an error, yet no close came, so the
 * stream failed (§9.2.10) and the link reports it — not a clean close to retry after.
 */
async function proxied (t: ExecutionContext, node: SpikewireNode): Promise<{ proxy: DelayProxy, addr: string }> {
  const port = Number(/\/tcp\/(\d+)\//.exec(node.multiaddrs.find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))!)![1])
  const proxy = await createDelayProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port } })
  t.teardown(async () => { await proxy.close() })
  return { proxy, addr: `/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${node.peerId}` }
}

test('a subscription whose connection is killed fails with unexpected-message, not a clean close', async t => {
  const { node } = await publisherWithWitness(t)
  const { proxy, addr } = await proxied(t, node)
  const client = await startNode(t, { name: 'sub' }, { clockSync: false })
  const sub = client.subscribe(addr, 'spikes', { reconnect: false })
  let got = 0
  sub.onBatch(d => { got += d.batch.count })
  await sub.ready()
  await until(() => got > 20, 20_000, 'events through the proxy')
  const closes: string[] = []
  sub.addEventListener('close', e => { closes.push(String(e.detail.code)) })
  t.true(proxy.cut() >= 1)
  await sub.done()
  t.true(sub.error instanceof StreamError, String(sub.error))
  t.is((sub.error as StreamError).code, 'unexpected-message')
  t.deepEqual(closes, [], 'no close arrived')
})

test('a reconnecting subscription counts a killed connection as a failed stream, then reconnects', async t => {
  const { node } = await publisherWithWitness(t)
  const { proxy, addr } = await proxied(t, node)
  const client = await startNode(t, { name: 'sub' }, { clockSync: false })
  const sub = client.subscribe(addr, 'spikes', { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } })
  const retries: Array<{ afterSession?: boolean, error?: Error }> = []
  sub.addEventListener('status', e => { if (e.detail.state === 'retrying') retries.push(e.detail) })
  let got = 0
  sub.onBatch(d => { got += d.batch.count })
  await sub.ready()
  await until(() => got > 20, 20_000, 'events through the proxy')
  proxy.cut()
  await until(() => retries.length > 0, 20_000, 'the link to retry')
  t.true(retries[0].afterSession)
  t.true(retries[0].error instanceof StreamError, String(retries[0].error))
  t.is((retries[0].error as StreamError).code, 'unexpected-message')
  const before = got
  await until(() => got > before + 20, 20_000, 'events after the reconnect')
  await sub.close()
})

test('a push link whose connection is killed fails with unexpected-message', async t => {
  const rx = await startNode(t, { name: 'rx', ports: [{ name: 'stim', direction: 'in', channels: 1, push: '*' }] }, { clockSync: false })
  const { proxy, addr } = await proxied(t, rx)
  const tx = await startNode(t, { name: 'tx', ports: [{ name: 'drive', direction: 'out', channels: 1 }] }, { clockSync: false })
  const link = tx.push('drive', addr, 'stim', { reconnect: false })
  await link.ready()
  tx.outPort('drive').emit(0, nowUs(tx))
  await until(() => rx.inPort('stim').stats.events === 1, 20_000, 'the pushed event')
  proxy.cut()
  await link.done()
  t.true(link.error instanceof StreamError, String(link.error))
  t.is((link.error as StreamError).code, 'unexpected-message')
  t.is(tx.outPort('drive').stats.streams, 0, 'the sender was detached')
  await until(() => rx.inPort('stim').stats.streams === 0, 20_000, 'the receiver to be detached')
})
