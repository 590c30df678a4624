/**
 * The page's parts that need no DOM, run in Node: the view's own libp2p peer (WebSockets only, dialling only
 * its target), the session (describe, clock, subscriptions), the per-port model and the frame meter.
 */
import test from 'ava'
import { multiaddr } from '@multiformats/multiaddr'
import { SystemClock } from '../../src/base/clock.ts'
import { isBrowserDialable } from '../../src/view/config.ts'
import { FrameMeter } from '../../src/view/frames.ts'
import { createViewPeer, dialAllowed } from '../../src/view/peer.ts'
import { EventFeed } from '../../src/view/feed.ts'
import { PortView, RING_EVENTS } from '../../src/view/port-view.ts'
import { UnknownPortError, choosePorts, openViewSession } from '../../src/view/session.ts'
import type { Batch } from '../../src/codec/index.ts'
import { startNode, until } from '../helpers/nodes.ts'

const PEER = '12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9jLBJj6aqdhTM'

function batch (channels: number[], times: number[]): Batch {
  return { type: 'batch', seq: 0, base: times[0] ?? 0, count: channels.length, channels: Uint32Array.from(channels), times: Float64Array.from(times) }
}

test('which addresses a browser can dial, and the dial filter allows the target only', t => {
  t.true(isBrowserDialable(`/ip4/127.0.0.1/tcp/4002/ws/p2p/${PEER}`))
  t.true(isBrowserDialable(`/dns4/lab.example/tcp/443/wss/p2p/${PEER}`))
  t.true(isBrowserDialable(`/dns4/lab.example/tcp/443/tls/ws/p2p/${PEER}`))
  t.false(isBrowserDialable(`/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`))
  t.false(isBrowserDialable('/ip4/127.0.0.1/tcp/4002/ws'))
  t.false(isBrowserDialable(`/ip4/1.2.3.4/tcp/4002/ws/p2p/${PEER}/p2p-circuit/p2p/${PEER}`))
  const allowed = dialAllowed(`/ip4/127.0.0.1/tcp/4002/ws/p2p/${PEER}`)
  t.true(allowed(multiaddr('/ip4/127.0.0.1/tcp/4002/ws')))
  t.true(allowed(multiaddr(`/ip4/127.0.0.1/tcp/4002/ws/p2p/${PEER}`)))
  t.false(allowed(multiaddr('/ip4/127.0.0.1/tcp/4003/ws')))
  t.false(allowed(multiaddr('/ip4/10.0.0.1/tcp/4002/ws')))
  t.false(allowed(multiaddr('/ip4/127.0.0.1/tcp/4002')))
})

test('a port view counts events and rates, and counts events since a time until its ring forgets them', t => {
  const v = new PortView('p', 4)
  v.add(batch([0, 1, 1, 3, 9], [10, 20, 20, 30, 40]), 0)
  t.is(v.events, 5)
  t.is(v.batches, 1)
  t.is(v.countSince(20), 4)
  t.is(v.countSince(21), 2)
  t.is(v.countSince(0), 5)
  t.is(v.countSince(41), 0)
  v.tick(1_000_000)
  t.deepEqual([...v.rates], [1, 2, 0, 1], 'per channel, events/s over the first second (channel 9 is out of range)')
  v.tick(3_500_000)
  t.deepEqual([...v.rates], [0, 0, 0, 0], 'a second with nothing after a long silence')
  const big = new PortView('big', 1)
  const n = RING_EVENTS + 10
  big.add(batch(new Array<number>(n).fill(0), Array.from({ length: n }, (_, i) => i)), 0)
  t.is(big.oldest, 10)
  t.is(big.countSince(100), n - 100)
  t.is(big.countSince(5), undefined, 'events that old may have been forgotten')
})

test('events skipped before they reached the page are counted, and nothing older is held after them', t => {
  const v = new PortView('p', 2)
  v.add(batch([0, 1], [10, 20]), 0)
  t.is(v.countSince(0), 2)
  v.skip(5)
  t.is(v.events, 7)
  t.is(v.oldest, 7)
  t.is(v.countSince(0), undefined, 'events before the skip are not held')
  v.add({ count: 2, times: Float64Array.of(30, 40), channels: Uint32Array.of(1, 1), locals: Float64Array.of(1030, 1040) }, 0)
  t.is(v.countSince(35), 1)
  t.deepEqual([v.locals[7], v.locals[8]], [1030, 1040], 'local times kept beside the node\'s')
  t.deepEqual([v.locals[0], v.locals[1]], [10, 20], 'a batch without local times is drawn at its own times')
})

test('the worker\'s feed hands over every event since the last take, local times beside, and counts what it cannot keep', t => {
  const f = new EventFeed(10)
  f.add(batch([0, 1, 2], [100, 200, 300]), x => x + 5)
  f.add(batch([3], [400]), x => x + 5)
  t.is(f.pending, 4)
  const a = f.take()
  t.deepEqual({ skipped: a.skipped, count: a.count, times: [...a.times], locals: [...a.locals], channels: [...a.channels] },
    { skipped: 0, count: 4, times: [100, 200, 300, 400], locals: [105, 205, 305, 405], channels: [0, 1, 2, 3] })
  t.is(f.take().count, 0, 'taken once')
  // 5 batches of 4 into a feed that keeps 10: whole batches go from the front, the last take trims to 10.
  for (let b = 0; b < 5; b++) f.add(batch([b, b, b, b], [b * 10, b * 10 + 1, b * 10 + 2, b * 10 + 3]), x => x)
  t.true(f.pending <= 10 + 4)
  const c = f.take()
  t.is(c.count, 10)
  t.is(c.skipped, 10)
  t.deepEqual([...c.times], [22, 23, 30, 31, 32, 33, 40, 41, 42, 43], 'the newest events')
  t.is(f.events, 24)
  t.is(f.batches, 7)
  f.add(batch([], []), x => x)
  t.is(f.batches, 8)
  t.is(f.take().skipped, 0, 'skips are reported once')
})

test('the frame meter counts long frames against the median interval and the display intervals they missed', t => {
  const m = new FrameMeter()
  let ms = 0
  for (let i = 0; i < 100; i++) m.frame(ms += 16.7)
  m.frame(ms += 50.1)
  m.frame(ms + 16.7)
  const r = m.report()
  t.is(r.frames, 101)
  t.is(r.longFrames, 1)
  t.is(r.droppedFrames, 2)
  t.is(r.displayIntervalMs, r.p50Ms)
  t.true(Math.abs(r.p50Ms - 16.7) < 1e-6)
  m.reset()
  t.is(m.report().frames, 0)
})

test('a view session over /ws: description, clock, every out port by default, counts that match the node', async t => {
  const node = await startNode(t, {
    name: 'session-pub',
    listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'],
    ports: [{ name: 'a', direction: 'out', channels: 4 }, { name: 'b', direction: 'out', channels: 2 }, { name: 'in', direction: 'in', channels: 1 }]
  })
  const ws = node.libp2p.getMultiaddrs().map(a => a.toString()).find(a => a.includes('/ws/'))!
  t.throws(() => choosePorts({ type: 'description', name: 'x', role: 'other', software: 's', ports: [] }, ['a']), { instanceOf: UnknownPortError })
  const libp2p = await createViewPeer(ws)
  t.teardown(async () => { await libp2p.stop() })
  const session = await openViewSession(libp2p, ws, [], new SystemClock())
  t.is(session.description.name, 'session-pub')
  t.deepEqual(session.ports.map(p => p.info.name), ['a', 'b'])
  const views = session.ports.map(p => {
    const v = new PortView(p.info.name, p.info.channels)
    p.sub.onBatch(d => { v.add(d.batch, 0) })
    return v
  })
  await Promise.all(session.ports.map(async p => { await p.sub.ready() }))
  const t0 = Math.round(node.clock.nowUs())
  for (let i = 0; i < 500; i++) node.outPort('a').emit(i % 4, t0 + i)
  for (let i = 0; i < 300; i++) node.outPort('b').emit(i % 2, t0 + i)
  await until(() => views[0].events === 500 && views[1].events === 300, 20_000, 'the events in the session')
  await until(() => session.time.estimated, 20_000, 'a clock estimate')
  t.true(Number.isFinite(session.time.estimate()!.uncertaintyUs))
  t.is(views[0].countSince(t0 + 250), 250)
  t.true(session.ports.every(p => p.sub.stats.gapEvents === 0 && p.sub.stats.lostEvents === 0))
  await session.close()
})

test('the page and its worker bundle for the browser; the libp2p peer is in the worker only', async t => {
  const { buildView } = await import('../../src/cli/view-bundle.ts')
  const { page, worker, inputs } = await buildView()
  const layers = (files: string[]): string[] => [...new Set(files.filter(i => i.startsWith('src/')).map(i => i.split('/')[1]))].sort()
  t.deepEqual(layers(inputs.worker), ['base', 'codec', 'ports', 'protocols', 'view', 'wire'], 'from base, codec, wire, ports and protocols only (no node/, timing/, hosting/)')
  t.deepEqual(layers(inputs.page), ['base', 'protocols', 'view'])
  t.deepEqual(inputs.page.filter(i => i.includes('node_modules/')), [], 'the main thread holds no network code')
  t.deepEqual(inputs.page.filter(i => i.startsWith('src/protocols/')).sort(), ['src/protocols/clock/errors.ts', 'src/protocols/clock/latency.ts'], 'of the protocols, the latency tracker only')
  for (const files of [inputs.page, inputs.worker]) t.false(files.some(i => i.startsWith('node:')), 'no Node built-in')
  t.true(inputs.worker.some(i => i.includes('@libp2p/websockets/dist/src/listener.browser.js')), 'the WebSockets transport in its browser form')
  t.true(worker.byteLength > 100_000)
  t.true(page.byteLength < 50_000, `page ${page.byteLength} bytes`)
})
