/**
 * The events protocol attacks (issue 11, hostile items 2, 3, 5 and 6): big pushes into an `in` port nobody
 * consumes, one peer opening 70 subscriptions, 16 reading subscriptions from one peer, and sequence numbers
 * or a delay beyond 2^53 − 1.
 */
import { EVENTS_PROTOCOL, encodeFrame, encodePackedBatch, packColumns } from '../../src/codec/index.ts'
import type { PackedColumns } from '../../src/codec/index.ts'
import { LIMITS } from '../../src/wire/defaults.ts'
import { setImmediate as yieldTurn } from 'node:timers/promises'
import { hostilePeer, openStream, sleep } from './hostile.ts'
import { HostileStream } from './hostile.ts'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { MEMORY, probeSummary, share } from './suite.ts'
import type { AttackCase, CaseContext, Check, Level } from './suite.ts'
import { CHANNELS } from './target.ts'

const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000)
const MAX_SAFE = Number.MAX_SAFE_INTEGER

/** `n` events on pseudo-random channels, all at one time: packed once, framed per batch with its seq and base. */
function packedEvents (n: number): PackedColumns {
  const channels = new Uint32Array(n)
  let x = 7
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    channels[i] = (x >>> 16) % CHANNELS
  }
  const p = packColumns(channels, new Float64Array(n), undefined, 0, n, 0)
  return { base: 0, count: n, ch: p.ch.slice(), dt: p.dt.slice() }
}

/** Open a stream of `mode` on `port`; resolves with the stream and the target's first answer. */
async function open (peer: Libp2p, ctx: CaseContext, fields: Record<string, unknown>): Promise<{ s: HostileStream, answer: string }> {
  let s: HostileStream
  try {
    s = await openStream(peer, ctx.target.addr, EVENTS_PROTOCOL)
  } catch (err) {
    return { s: HostileStream.failed(), answer: `error:${(err as Error).name}` }
  }
  s.stream.send(encodeFrame({ type: 'open', ...fields } as never))
  const m = await s.first(['accept', 'reject', 'close'], 5000)
  const answer = m === undefined ? (s.open ? 'none' : 'ended') : m.type === 'accept' ? 'accept' : `${m.type}:${String(s.code)}`
  return { s, answer }
}

export const inboxFlood: AttackCase = {
  name: 'inbox-flood',
  item: 2,
  what: '65,536-event pushes on 2 streams into an in port nobody consumes, then a new pusher',
  async run (ctx) {
    const base = await ctx.targetRetained()
    const end = performance.now() + ctx.ms(8000, 4000)
    const peer = ctx.own(await hostilePeer())
    const events = packedEvents(65_536)
    const streams = await Promise.all([0, 1].map(async i => await open(peer, ctx, { mode: 'push', port: 'sink', source: `flood${i}` })))
    let batches = 0
    let stalls = 0
    let last = 0
    // What the target retains while both streams push (their windows full): sampled two thirds in.
    // Its memory as the process sees it (no collection) just before: RSS = V8 heap + buffers + the rest.
    let usage: NodeJS.MemoryUsage | undefined
    const sample = sleep((end - performance.now()) * 2 / 3).then(async () => {
      usage = (await ctx.targetStats()).memory
      return await ctx.targetRetained()
    })
    await Promise.all(streams.map(async ({ s, answer }) => {
      if (answer !== 'accept') return
      let seq = 0
      while (performance.now() < end && s.open) {
        const base = last = Math.max(nowUs(), last)
        const ok = await s.send(encodePackedBatch(seq, { ...events, base }, true), Math.min(end, performance.now() + 2000))
        if (ok) {
          batches++
          seq += events.count
        } else if (s.open) stalls++
        await yieldTurn()
      }
    }))
    const during = await sample
    const growth = Math.round((during.retainedMB - base.retainedMB) * 10) / 10
    const mb = (x: number): number => Math.round(x / 104857.6) / 10
    const usageMB = usage === undefined ? undefined : { rss: mb(usage.rss), heapTotal: mb(usage.heapTotal), heapUsed: mb(usage.heapUsed), external: mb(usage.external), arrayBuffers: mb(usage.arrayBuffers) }
    const flood = { batches, events: batches * events.count, memoryDuringMB: usageMB, sendStalls: stalls, answers: streams.map(x => x.answer), endedByTarget: streams.filter(x => !x.s.open).length }
    // The flooders leave (what they pushed stays with the port); then a newcomer pushes 100 events: the port
    // must still read them (or refuse them with a code), never wedge.
    for (const { s } of streams) s.abort()
    const left = performance.now() + 5000
    while ((await ctx.targetStats()).sink.streams > 0 && performance.now() < left) await sleep(100)
    const before = (await ctx.targetStats()).sink
    const newcomer = ctx.own(await hostilePeer())
    const probe = await open(newcomer, ctx, { mode: 'push', port: 'sink', source: 'newcomer' })
    const small = packedEvents(100)
    if (probe.answer === 'accept') probe.s.stream.send(encodePackedBatch(0, { ...small, base: Math.max(nowUs(), last) }, true))
    let counted = 0
    const deadline = performance.now() + 5000
    while (probe.answer === 'accept' && performance.now() < deadline) {
      counted = (await ctx.targetStats()).sink.events - before.events
      if (counted >= 100 || probe.s.code !== undefined) break
      await sleep(100)
    }
    const refusedWithCode = probe.answer !== 'accept' && probe.answer.includes(':')
    const served = counted >= 100 || refusedWithCode || probe.s.code !== undefined
    return {
      checks: [
        { name: 'newPusherServed', level: served ? 'held' : 'failed', value: { answer: probe.answer, counted, code: probe.s.code }, criterion: "a new pusher's 100 events are read by the port within 5 s, or refused with a code" },
        {
          name: 'retainedWhileFlooding',
          level: growth <= MEMORY.heldMB ? 'held' : growth <= MEMORY.degradedMB ? 'degraded' : 'failed',
          value: { growthMB: growth, before: base, during },
          criterion: `what the target retains while both streams push, minus before the case: ≤ ${MEMORY.heldMB} MB held, ≤ ${MEMORY.degradedMB} MB degraded, else failed`
        }
      ],
      details: { flood, sinkAfter: (await ctx.targetStats()).sink }
    }
  }
}

export const slots: AttackCase = {
  name: 'slots',
  item: 3,
  what: 'one peer opens 70 subscriptions (reading them), then a newcomer subscribes',
  async run (ctx) {
    const peer = await connected(ctx)
    const opens = await Promise.all(Array.from({ length: 70 }, async () => await open(peer, ctx, { mode: 'subscribe', port: 'spikes' })))
    const accepted = opens.filter(o => o.answer === 'accept').length
    const tooMany = opens.filter(o => o.answer === 'reject:too-many-streams').length
    const until = performance.now() + ctx.ms(4000, 2000)
    const probes = await ctx.probeUntil('subscribe', until)
    const ps = probeSummary(probes)
    const limit = LIMITS.maxStreamsPerPeer.default
    const stats = await ctx.targetStats()
    const checks: Check[] = [
      {
        name: 'perPeerLimit',
        level: accepted <= limit && accepted + tooMany === opens.length ? 'held' : 'failed',
        value: { accepted, tooManyStreams: tooMany },
        criterion: `at most ${limit} (limits.maxStreamsPerPeer) accepted, every other open refused with too-many-streams`
      },
      share('newcomersSubscribed', ps.ok, ps.n, 'newcomers whose subscription delivers a batch within 5 s')
    ]
    return { checks, details: { answers: count(opens.map(o => o.answer)), probes: ps, subscribersAtTarget: stats.subscribers } }
  }
}

export const fanout: AttackCase = {
  name: 'fanout',
  item: 5,
  what: '16 reading subscriptions from one peer to the ~2,000 events/s port',
  async run (ctx) {
    const peer = await connected(ctx)
    const opens = await Promise.all(Array.from({ length: 16 }, async () => await open(peer, ctx, { mode: 'subscribe', port: 'spikes' })))
    await sleep(ctx.ms(8000, 4000))
    const received = opens.reduce((s, o) => s + o.s.received, 0)
    return {
      checks: [],
      details: { answers: count(opens.map(o => o.answer)), bytesReceived: received, endedByTarget: opens.filter(o => !o.s.open).length }
    }
  }
}

export const seqOverflow: AttackCase = {
  name: 'seq-overflow',
  item: 6,
  what: 'a batch with seq + count > 2^53 − 1, and an open with delay 2^53 − 1',
  async run (ctx) {
    const peer = ctx.own(await hostilePeer())
    const push = await open(peer, ctx, { mode: 'push', port: 'sink', source: 'overflow' })
    let seqCode: unknown = push.answer
    if (push.answer === 'accept') {
      push.s.stream.send(encodePackedBatch(MAX_SAFE - 50, { ...packedEvents(100), base: nowUs() }, true))
      await push.s.first(['close'], 5000)
      seqCode = push.s.code ?? (push.s.open ? 'accepted' : 'ended without a code')
    }
    const delayed = await open(peer, ctx, { mode: 'push', port: 'sink', source: 'delay', delay: MAX_SAFE })
    const level = (v: unknown): Level => v === 'invalid-message' || v === 'reject:invalid-message' || v === 'close:invalid-message' ? 'held' : 'failed'
    return {
      checks: [
        { name: 'seqOverflowRefused', level: level(seqCode), value: seqCode, criterion: 'a batch with seq + count > 2^53 − 1 ends the stream with invalid-message' },
        { name: 'delayOverflowRefused', level: level(delayed.answer), value: delayed.answer, criterion: 'an open with delay 2^53 − 1 is refused with invalid-message' }
      ],
      details: {}
    }
  }
}

/** A hostile peer with one connection to the target already open (so that parallel opens share it). */
async function connected (ctx: CaseContext): Promise<Libp2p> {
  const peer = ctx.own(await hostilePeer())
  await peer.dial(multiaddr(ctx.target.addr), { signal: AbortSignal.timeout(10_000) })
  return peer
}

function count (xs: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const x of xs) out[x] = (out[x] ?? 0) + 1
  return out
}
