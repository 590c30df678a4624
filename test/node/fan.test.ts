import test from 'ava'
import { startNode, until, nowUs } from '../helpers/nodes.ts'
import { RejectedError } from '../../src/protocols/events/events-client.ts'
import { ConfigError } from '../../src/node/errors.ts'
import { parseConfig } from '../../src/hosting/config.ts'

test('fan-out: 8 subscribers each get every event; a filtered one gets only its channels', async t => {
  const pub = await startNode(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 16 }] })
  const subs = await Promise.all(Array.from({ length: 8 }, async (_, i) => await startNode(t, { name: `sub${i}` })))
  const counts = new Array<number>(8).fill(0)
  const sums = new Array<number>(8).fill(0)
  const streams = subs.map((s, i) => {
    const sub = s.subscribe(pub.multiaddrs[0], 'spikes', i === 7 ? { channels: [3, 4] } : {})
    sub.onBatch(d => {
      counts[i] += d.batch.count
      for (let k = 0; k < d.batch.count; k++) sums[i] += d.batch.channels[k]
    })
    return sub
  })
  await Promise.all(streams.map(async s => { await s.ready() }))
  const port = pub.outPort('spikes')
  const t0 = nowUs(pub)
  let expectedSum = 0
  let filtered = 0
  let filteredSum = 0
  for (let k = 0; k < 20_000; k++) {
    const ch = k % 16
    port.emit(ch, t0 + k)
    expectedSum += ch
    if (ch === 3 || ch === 4) { filtered++; filteredSum += ch }
    if (k % 1000 === 999) await new Promise(resolve => setImmediate(resolve))
  }
  await until(() => counts.slice(0, 7).every(c => c === 20_000) && counts[7] === filtered, 20_000, 'every subscriber')
  t.deepEqual(sums.slice(0, 7), new Array(7).fill(expectedSum))
  t.is(sums[7], filteredSum)
  for (const s of streams) t.is(s.stats.gapEvents + s.stats.lostEvents, 0)
})

test('fan-in: 3 pushers into one in port, each event delivered with its source', async t => {
  const rx = await startNode(t, { name: 'rx' })
  const txs = await Promise.all([0, 1, 2].map(async i => await startNode(t, { name: `tx${i}`, ports: [{ name: `out${i}`, direction: 'out', channels: 4 }] })))
  rx.addInPort({ name: 'in', channels: 4, push: txs.map(x => x.peerId) })
  const bySource = new Map<string, number>()
  rx.inPort('in').onBatch(d => { bySource.set(`${d.peer}/${d.port}`, (bySource.get(`${d.peer}/${d.port}`) ?? 0) + d.batch.count) })
  const links = txs.map((x, i) => x.push(`out${i}`, rx.multiaddrs[0], 'in'))
  await Promise.all(links.map(async l => { await l.ready() }))
  for (let k = 0; k < 3000; k++) {
    const i = k % 3
    txs[i].outPort(`out${i}`).emit(k % 4, nowUs(txs[i]))
  }
  await until(() => [...bySource.values()].reduce((a, b) => a + b, 0) === 3000, 20_000, 'all pushed events')
  t.deepEqual(new Map([...bySource].sort()), new Map(txs.map((x, i) => [`${x.peerId}/out${i}`, 1000] as [string, number]).sort()))
  t.is(rx.inPort('in').stats.gapEvents, 0)
})

test('authorisation: a peer outside the allow list cannot connect; port lists refuse with unauthorized', async t => {
  const friend = await startNode(t, { name: 'friend' })
  const stranger = await startNode(t, { name: 'stranger' })
  const guarded = await startNode(t, {
    name: 'guarded',
    allow: [friend.peerId],
    ports: [
      { name: 'open', direction: 'out', channels: 1 },
      { name: 'private', direction: 'out', channels: 1, subscribe: [] },
      { name: 'stim', direction: 'in', channels: 1 }
    ]
  })
  const refused: string[] = []
  guarded.addEventListener('refused', e => { refused.push(`${e.detail.what}:${e.detail.code}:${e.detail.port ?? ''}`) })

  // The stranger's connection is refused by the gater: describe and subscribe fail.
  await t.throwsAsync(stranger.describe(guarded.multiaddrs[0]))
  const s = stranger.subscribe(guarded.multiaddrs[0], 'open', { reconnect: { maxAttempts: 2, initialDelayMs: 10 } })
  await t.throwsAsync(s.ready())
  t.true(refused.some(r => r.startsWith('connection:unauthorized')))

  // The friend may connect, subscribe to the open port, but not to the private one nor push into stim.
  const ok = friend.subscribe(guarded.multiaddrs[0], 'open')
  await ok.ready()
  const denied = friend.subscribe(guarded.multiaddrs[0], 'private')
  const err = await t.throwsAsync(denied.ready())
  t.true(denied.error instanceof RejectedError)
  t.is((denied.error as RejectedError).code, 'unauthorized', err?.message)
  friend.addOutPort({ name: 'drive', channels: 1 })
  const push = friend.push('drive', guarded.multiaddrs[0], 'stim')
  await t.throwsAsync(push.ready())
  t.is((push.error as RejectedError).code, 'unauthorized')
  t.true(refused.includes('open:unauthorized:private'))
  t.true(refused.includes('open:unauthorized:stim'))
  t.is(guarded.refusals.opens, 2)
})

test('a slow subscriber loses events, counted on both sides, without disturbing a fast one', async t => {
  const pub = await startNode(t, { name: 'pub', limits: { queueEvents: 20_000, slowConsumerMs: 60_000 }, ports: [{ name: 'spikes', direction: 'out', channels: 1024 }] })
  const fast = await startNode(t, { name: 'fast' })
  const slow = await startNode(t, { name: 'slow', limits: { streamWindowBytes: 256 * 1024 } })
  const f = fast.subscribe(pub.multiaddrs[0], 'spikes')
  let fastGot = 0
  f.onBatch(d => { fastGot += d.batch.count })
  // The slow subscriber only reads through an async iterator with a tiny inbox that it does not drain.
  const s = slow.subscribe(pub.multiaddrs[0], 'spikes', { inboxCapacity: 2 })
  await Promise.all([f.ready(), s.ready()])
  const port = pub.outPort('spikes')
  const t0 = nowUs(pub)
  const total = 200_000
  for (let k = 0; k < total; k++) {
    port.emit(k % 1024, t0 + Math.floor(k / 100))
    if (k % 4096 === 4095) await new Promise(resolve => setImmediate(resolve))
  }
  await until(() => fastGot === total, 20_000, 'the fast subscriber')
  const senders = [...port.senders]
  const slowSender = senders.find(x => x.stats.dropped > 0)
  t.truthy(slowSender, `the slow stream dropped events: ${JSON.stringify(senders.map(x => x.stats))} inbox ${s.inbox.queued}`)
  const dropped = slowSender!.stats.dropped
  // Now read the slow subscriber to the end: what it got plus what was reported lost is everything.
  let slowGot = 0
  const reader = (async () => { for await (const d of s) slowGot += d.batch.count })()
  port.flush()
  await until(() => slowGot + s.stats.lostEvents + s.stats.gapEvents === total, 20_000, 'the slow subscriber to account for every event')
  t.is(s.stats.lostEvents, dropped, 'every dropped event was reported in loss notices')
  t.is(s.stats.gapEvents, 0, 'no unreported gap')
  t.true(s.stats.lossNotices >= 1)
  t.is(f.stats.lostEvents + f.stats.gapEvents, 0)
  await s.close()
  await reader
})

test('a subscriber that never reads is closed with slow-consumer after the configured time', async t => {
  const pub = await startNode(t, { name: 'pub', limits: { queueEvents: 10_000, slowConsumerMs: 300 }, ports: [{ name: 'spikes', direction: 'out', channels: 8 }] })
  const slow = await startNode(t, { name: 'slow' })
  const s = slow.subscribe(pub.multiaddrs[0], 'spikes', { inboxCapacity: 1, reconnect: false })
  await s.ready()
  const port = pub.outPort('spikes')
  const t0 = nowUs(pub)
  let k = 0
  const start = Date.now()
  while (port.senders.size > 0 && Date.now() - start < 10_000) {
    for (let i = 0; i < 5000; i++, k++) port.emit(k % 8, t0 + Math.floor(k / 10))
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  t.is(port.senders.size, 0, 'the publisher dropped the stream')
  await s.done()
  t.regex(String(s.error?.message), /slow-consumer|reset|closed/)
})

test('config validation names the broken field', t => {
  const err = t.throws(() => parseConfig({ name: 'x', ports: [{ name: 'Bad Name', direction: 'out', channels: 1 }] }))
  t.true(err instanceof ConfigError)
  t.regex(err!.message, /config\.ports\[0\]\.name/)
  t.regex(t.throws(() => parseConfig({ name: 'x', ports: [{ name: 'a', direction: 'in', channels: 0 }] }))!.message, /channels/)
  t.regex(t.throws(() => parseConfig({ name: 'x', bogus: 1 }))!.message, /config\.bogus/)
  t.regex(t.throws(() => parseConfig({ name: 'x', ports: [{ name: 'a', direction: 'out', channels: 1 }, { name: 'a', direction: 'in', channels: 1 }] }))!.message, /twice/)
})
