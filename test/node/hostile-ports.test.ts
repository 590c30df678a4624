/**
 * Hostile or absent consumers of ports over real connections (issue 11, "Hostile peers" 2 and the
 * per-stream memory bound): an `in` port that nobody reads keeps at most its byte bound, drops and counts
 * the rest, never pauses its pushers, and flows again once a reader comes; a subscriber that does not
 * read costs its publisher at most the queue's byte bound. Bounds are asserted on queue sizes and
 * counters, never on process memory or speed.
 */
import test from 'ava'
import { EVENTS_PROTOCOL, FrameDecoder, decodeMessage, encodeFrame } from '../../src/codec/index.ts'
import type { Message } from '../../src/codec/index.ts'
import type { SpikewireNode } from '../../src/node/node.ts'
import type { Delivery } from '../../src/wire/inbox.ts'
import { dialRaw, outcome, startAdversary } from '../helpers/adversary.ts'
import { nowUs, startNode, until } from '../helpers/nodes.ts'

function closeCode (messages: Message[]): unknown {
  const c = messages.find(m => m.type === 'close')
  return c?.type === 'close' ? c.code : undefined
}

/**
 * Emit `count` events on `port` of `node` from `from` on, yielding to the event loop between chunks. Each
 * chunk starts at the clock at the latest, so no event falls behind the port's idle watermark (the clock
 * minus its lateness), which a loaded machine may advance between two chunks.
 */
async function emit (node: SpikewireNode, port: string, count: number, from: number): Promise<number> {
  const out = node.outPort(port)
  let t = from
  for (let k = 0; k < count; k++) {
    if (k % 4096 === 0) t = Math.max(t, nowUs(node))
    out.emit(k % 64, t++)
    if (k % 4096 === 4095) await new Promise(resolve => setImmediate(resolve))
  }
  out.flush()
  return t
}

test('an in port nobody reads keeps what fits its byte bound and drops what arrives beyond it, never pauses the pusher, and flows again for a later reader', async t => {
  const inboxBytes = 256 * 1024
  const sink = await startNode(t, { name: 'sink', limits: { inboxBytes }, ports: [{ name: 'stim', direction: 'in', channels: 64, push: '*' }] })
  const pusher = await startNode(t, { name: 'pusher', ports: [{ name: 'drive', direction: 'out', channels: 64 }] })
  const link = pusher.push('drive', sink.multiaddrs[0], 'stim')
  await link.ready()
  const inPort = sink.inPort('stim')
  const first = 200_000
  let t0 = await emit(pusher, 'drive', first, nowUs(pusher))
  t.is(pusher.outPort('drive').stats.refused, 0)
  await until(() => inPort.stats.events === first, 20_000, 'every pushed event to be read off the stream').catch(err => {
    t.log(JSON.stringify({ in: inPort.stats, inbox: inPort.inbox.stats, link: link.stats, out: pusher.outPort('drive').stats }))
    throw err
  })
  const s = inPort.stats
  t.true(s.droppedEvents > 0, 'events beyond the bound were dropped')
  t.true(s.queuedBytes <= inboxBytes, `the inbox holds ${s.queuedBytes} bytes`)
  t.false(inPort.inbox.stats.paused, 'the pusher was never paused')
  t.is(link.stats.dropped, 0, 'the pusher did not have to drop anything')

  // A reader that comes later gets what is queued, then every event pushed from then on.
  let read = 0
  const queuedEvents = first - s.droppedEvents
  const reader = (async () => {
    for await (const d of inPort as AsyncIterable<Delivery>) {
      read += d.batch.count
      if (read >= queuedEvents + 50_000) break
    }
  })()
  await until(() => read === queuedEvents, 20_000, 'the reader to get the queued events')
  t0 = await emit(pusher, 'drive', 50_000, t0)
  await reader
  t.is(read, queuedEvents + 50_000, 'every later push reached the reader')
  t.is(inPort.stats.droppedEvents, s.droppedEvents, 'nothing dropped while read')

  // The reader is gone: pushes are still read off the stream (counted, then dropped), never wedged.
  await emit(pusher, 'drive', 100_000, t0)
  await until(() => inPort.stats.events === first + 150_000, 20_000, 'pushes after the reader left to be read')
  const after = inPort.stats
  t.true(after.droppedEvents > s.droppedEvents, 'unread again: the excess is dropped and counted')
  t.true(after.queuedBytes <= inboxBytes)
  t.is(after.lostEvents + after.gapEvents, 0, 'the pusher never had to drop')
})

test('an in port nobody reads still checks the batches it drops: a bad one past the bound ends the stream with its code', async t => {
  const inboxBytes = 64 * 1024
  const sink = await startNode(t, { name: 'sink', limits: { inboxBytes }, ports: [{ name: 'stim', direction: 'in', channels: 64, push: '*' }] })
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, sink.multiaddrs[0], EVENTS_PROTOCOL)
  const result = outcome(stream, 20_000)
  const n = 1000
  const T0 = nowUs(sink)
  const batch = (seq: number, channel: number): Uint8Array => encodeFrame({
    type: 'batch', seq, base: T0 + seq, count: n, channels: new Uint32Array(n).fill(channel), times: Float64Array.from({ length: n }, (_, i) => T0 + seq + i)
  })
  // 20 batches of 1,000 events (about 12 KB each in memory): the inbox keeps 5, the rest arrive while it is full.
  const frames = [encodeFrame({ type: 'open', mode: 'push', port: 'stim', source: 'flood' })]
  for (let k = 0; k < 20; k++) frames.push(batch(k * n, k % 64))
  stream.send(new Uint8Array(frames.flatMap(f => [...f])))
  const inPort = sink.inPort('stim')
  await until(() => inPort.stats.events === 20 * n, 20_000, 'the batches to be read off the stream')
  t.true(inPort.inbox.dropsNext, 'full and unread: the next batch is checked in reused buffers, then dropped')
  const dropped = inPort.stats.droppedEvents
  t.true(dropped > 0 && inPort.stats.queuedBytes <= inboxBytes, JSON.stringify(inPort.stats))
  stream.send(batch(20 * n, 64)) // channel 64 of a 64-channel port
  const r = await result
  t.is(closeCode(r.messages), 'channel-out-of-range')
  t.is(r.end, 'reset')
  t.is(inPort.stats.events, 20 * n, 'the bad batch was not counted')
  t.is(inPort.stats.droppedEvents, dropped)
})

test('a subscriber that does not read costs the publisher at most its queue byte bound, then slow-consumer', async t => {
  const queueBytes = 64 * 1024
  const pub = await startNode(t, { name: 'pub', limits: { queueBytes, slowConsumerMs: 2000 }, ports: [{ name: 'spikes', direction: 'out', channels: 64 }] })
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, pub.multiaddrs[0], EVENTS_PROTOCOL)
  const accepted = new Promise<Message>(resolve => {
    const decoder = new FrameDecoder()
    stream.addEventListener('message', e => { for (const f of decoder.push(e.data)) resolve(decodeMessage(f)) })
  })
  stream.send(encodeFrame({ type: 'open', mode: 'subscribe', port: 'spikes' }))
  t.is((await accepted).type, 'accept')
  stream.pause() // never read again
  const closed = new Promise<void>(resolve => { stream.addEventListener('close', () => { resolve() }) })
  let gone = false
  void closed.then(() => { gone = true })
  const port = pub.outPort('spikes')
  let maxQueued = 0
  let dropped = 0
  let tNext = nowUs(pub)
  const end = Date.now() + 20_000
  while (!gone && Date.now() < end) {
    tNext = await emit(pub, 'spikes', 20_000, tNext)
    for (const x of port.senders) {
      maxQueued = Math.max(maxQueued, x.stats.queuedBytes)
      dropped = Math.max(dropped, x.stats.dropped)
    }
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  t.true(gone, 'the publisher closed the stream')
  t.true(dropped > 0, 'the publisher dropped (and counted) what did not fit')
  t.true(maxQueued <= queueBytes, `the queue held at most ${maxQueued} bytes`)
  t.is(port.senders.size, 0)
})
