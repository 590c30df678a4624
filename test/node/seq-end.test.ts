/**
 * Spec §9.2.4: "A sender MUST NOT let seq + count exceed 2^53 − 1; a stream that would reach this bound is
 * ended with close{normal} and a new stream is opened, starting again at 0." Over real nodes, with the
 * node's first sequence number moved near the end (CreateNodeOptions.firstSeq) so that no test sends 2^53
 * events: the sender sends every event that still has a number, then close{normal}; it never sends a batch
 * past the bound (a receiver would refuse it with invalid-message), and links and subscriptions open a new
 * stream afterwards.
 */
import test from 'ava'
import { EVENTS_PROTOCOL, encodeFrame } from '../../src/codec/index.ts'
import type { Batch, Message } from '../../src/codec/index.ts'
import type { SpikewireNode } from '../../src/node/node.ts'
import { dialRaw, outcome, startAdversary } from '../helpers/adversary.ts'
import { nowUs, startNode, until } from '../helpers/nodes.ts'

const MAX = Number.MAX_SAFE_INTEGER
/** Numbers left before the bound: events MAX − LEFT … MAX − 1 can be sent. */
const LEFT = 9
const quiet = { clockSync: false } as const

/** Emit `n` events on channel 0, one batch each (flushed at once). */
function emitEach (node: SpikewireNode, port: string, n: number): void {
  const p = node.outPort(port)
  for (let i = 0; i < n; i++) {
    p.emit(0, nowUs(node))
    p.flush()
  }
}

test('a subscriber gets every event that has a number, then close{normal}: no batch passes 2^53 − 1', async t => {
  const pub = await startNode(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 1 }] }, { ...quiet, firstSeq: MAX - LEFT })
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, pub.multiaddrs[0], EVENTS_PROTOCOL)
  const result = outcome(stream, 20_000)
  stream.send(encodeFrame({ type: 'open', mode: 'subscribe', port: 'spikes' }))
  await until(() => pub.outPort('spikes').stats.streams === 1, 20_000, 'the subscriber attached')
  emitEach(pub, 'spikes', LEFT + 3)
  const o = await result
  const batches = o.messages.filter((m): m is Batch & { type: 'batch' } => m.type === 'batch')
  t.deepEqual(batches.map(b => b.seq), Array.from({ length: LEFT }, (_, i) => MAX - LEFT + i))
  for (const b of batches) t.true(b.seq + b.count <= MAX)
  const last: Message | undefined = o.messages[o.messages.length - 1]
  t.deepEqual(last?.type === 'close' ? last.code : last?.type, 'normal')
  t.is(o.end, 'closed')
  await until(() => pub.outPort('spikes').stats.streams === 0, 20_000, 'the exhausted stream detached')
})

test('a subscription whose stream ran out of numbers opens a new one; nothing is refused as invalid', async t => {
  const pub = await startNode(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 1 }] }, { ...quiet, firstSeq: MAX - LEFT })
  const lab = await startNode(t, { name: 'lab' }, quiet)
  const sub = lab.subscribe(pub.multiaddrs[0], 'spikes', { reconnect: { initialDelayMs: 10, maxDelayMs: 200 } })
  const closes: Array<string | number> = []
  sub.addEventListener('close', e => { closes.push(e.detail.code) })
  await sub.ready()
  await until(() => pub.outPort('spikes').stats.streams === 1, 20_000, 'the subscription attached')
  emitEach(pub, 'spikes', LEFT)
  await until(() => sub.stats.events === LEFT, 20_000, 'every numbered event')
  emitEach(pub, 'spikes', 1) // no number left: the stream ends
  await until(() => sub.stats.connects === 2 && pub.outPort('spikes').stats.streams === 1, 20_000, 'a second stream')
  t.deepEqual(closes, ['normal'])
  emitEach(pub, 'spikes', 2)
  await until(() => sub.stats.events === LEFT + 2, 20_000, 'events on the new stream')
  t.is(sub.stats.lostEvents, 0)
  t.is(pub.stats().refusals.opens, 0)
  await sub.close()
})

test('a push link whose stream ran out of numbers ends it with close{normal} and pushes on a new stream', async t => {
  const rx = await startNode(t, { name: 'rx', ports: [{ name: 'stim', direction: 'in', channels: 1, push: '*' }] }, quiet)
  const tx = await startNode(t, { name: 'tx', ports: [{ name: 'drive', direction: 'out', channels: 1 }] }, { ...quiet, firstSeq: MAX - LEFT })
  const link = tx.push('drive', rx.multiaddrs[0], 'stim', { reconnect: { initialDelayMs: 10, maxDelayMs: 200 } })
  await link.ready()
  emitEach(tx, 'drive', LEFT + 1)
  await until(() => link.stats.connects === 2 && rx.inPort('stim').stats.streams === 1, 20_000, 'a second stream')
  t.is(rx.inPort('stim').stats.events, LEFT)
  t.is(link.stats.undelivered, 1)
  t.is(link.error, undefined)
  emitEach(tx, 'drive', 2)
  await until(() => rx.inPort('stim').stats.events === LEFT + 2, 20_000, 'events on the new stream')
  t.is(rx.inPort('stim').stats.lostEvents, 0)
  await link.close()
})
