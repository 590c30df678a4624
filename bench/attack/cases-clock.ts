/**
 * The clock protocol attacks (issue 11, hostile items 1 and 7): requests flooded on streams whose replies
 * are never read, slowloris clock streams, a read flood, and a clock server answering every request with
 * an invalid reply while its peer pushes into the target (the target's clock sync must back off).
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { CLOCK_PROTOCOL, EVENTS_PROTOCOL, FrameDecoder, decodeMessage, encodeFrame } from '../../src/codec/index.ts'
import { setImmediate as yieldTurn } from 'node:timers/promises'
import { hostilePeer, openStream, sleep } from './hostile.ts'
import type { HostileStream } from './hostile.ts'
import type { AttackCase, CaseContext, Check, Level } from './suite.ts'
import { clockIdleMs } from './target.ts'

const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000)

/** `n` clock requests in one buffer, ids from `firstId`. */
function requests (n: number, firstId: number): Uint8Array {
  const frames = Array.from({ length: n }, (_, i) => encodeFrame({ type: 'clock-request', id: (firstId + i) % 0xffff_ffff + 1, t1: nowUs() }))
  return new Uint8ArrayList(...frames).subarray()
}

/** Clock streams per connection the target serves (its libp2p limit); more need more connections. */
const CLOCK_STREAMS_PER_CONNECTION = 4

export const clockUnread: AttackCase = {
  name: 'clock-unread',
  item: 1,
  what: 'clock requests flooded on 8 streams (2 peers) whose replies are never read',
  async run (ctx) {
    const end = performance.now() + ctx.ms(8000, 4000)
    const streams: HostileStream[] = []
    for (let p = 0; p < 2; p++) {
      const peer = ctx.own(await hostilePeer())
      for (let i = 0; i < CLOCK_STREAMS_PER_CONNECTION; i++) {
        const s = await openStream(peer, ctx.target.addr, CLOCK_PROTOCOL, { decode: false })
        // No window updates: the target's replies pile up on its side of the stream.
        s.stream.pause()
        streams.push(s)
      }
    }
    const chunk = requests(1024, 0)
    let bytes = 0
    let stalled = 0
    await Promise.all(streams.map(async s => {
      while (performance.now() < end && s.open) {
        if (await s.send(chunk, end)) bytes += chunk.length
        else if (s.open) stalled++
        // Let the connection write: without a turn of the event loop, sends pile up in this process.
        await yieldTurn()
      }
    }))
    const ended = streams.filter(s => !s.open).length
    return {
      checks: [],
      details: { streams: streams.length, requestsSent: Math.round(bytes / (chunk.length / 1024)), endedByTarget: ended, sendStalls: stalled }
    }
  }
}

export const clockSlowloris: AttackCase = {
  name: 'clock-slowloris',
  item: 1,
  what: '16 clock streams (4 peers) that send one byte of a frame and then nothing',
  async run (ctx) {
    // Watch for the target's idle limit and 3 s more (10 s more when it has none: the streams should end by then).
    const idle = clockIdleMs(ctx.short)
    const observeMs = (idle ?? 10_000) + 3000
    const streams: HostileStream[] = []
    for (let p = 0; p < 4; p++) {
      const peer = ctx.own(await hostilePeer())
      for (let i = 0; i < CLOCK_STREAMS_PER_CONNECTION; i++) {
        const s = await openStream(peer, ctx.target.addr, CLOCK_PROTOCOL)
        s.stream.send(Uint8Array.of(10)) // a length prefix: 10 bytes follow (they never do)
        streams.push(s)
      }
    }
    const end = performance.now() + observeMs
    while (performance.now() < end && streams.some(s => s.open)) await sleep(100)
    const ended = streams.filter(s => !s.open)
    const lifetimes = ended.map(s => s.endedAt - s.openedAt).sort((a, b) => a - b)
    const check: Check = {
      name: 'slowStreamsClosed',
      level: ended.length === streams.length ? 'held' : ended.length > 0 ? 'degraded' : 'failed',
      value: `${ended.length}/${streams.length}`,
      criterion: `the target ends every idle clock stream within ${observeMs / 1000} s: all held, some degraded, none failed`
    }
    return {
      checks: [check],
      details: { streams: streams.length, endedByTarget: ended.length, clockIdleMs: idle ?? null, observedS: observeMs / 1000, medianLifetimeMs: Math.round(lifetimes[Math.floor(lifetimes.length / 2)] ?? -1) }
    }
  }
}

export const clockReadFlood: AttackCase = {
  name: 'clock-read-flood',
  item: 1,
  what: 'clock requests as fast as the target answers, on 4 streams whose replies are read',
  async run (ctx) {
    const ms = ctx.ms(6000, 3000)
    const end = performance.now() + ms
    const peer = ctx.own(await hostilePeer())
    let answers = 0
    const streams: HostileStream[] = []
    for (let i = 0; i < CLOCK_STREAMS_PER_CONNECTION; i++) {
      const s = await openStream(peer, ctx.target.addr, CLOCK_PROTOCOL, { decode: false })
      streams.push(s)
    }
    await Promise.all(streams.map(async s => {
      // Keep about 256 requests outstanding on each stream.
      const decoder = new FrameDecoder()
      let outstanding = 0
      let wake: (() => void) | undefined
      s.stream.addEventListener('message', e => {
        for (const f of decoder.push(e.data)) {
          if (decodeMessage(f).type === 'clock-response') {
            answers++
            outstanding--
          }
        }
        if (outstanding < 128) wake?.()
      })
      let id = 0
      while (performance.now() < end && s.open) {
        if (outstanding < 128) {
          await s.send(requests(128, id), end)
          id += 128
          outstanding += 128
        } else {
          await new Promise<void>(resolve => {
            wake = resolve
            setTimeout(resolve, 50)
          })
        }
      }
    }))
    return {
      checks: [],
      details: { streams: streams.length, answered: answers, answeredPerS: Math.round(answers / (ms / 1000)), endedByTarget: streams.filter(s => !s.open).length }
    }
  }
}

export const clockReplies: AttackCase = {
  name: 'clock-replies',
  item: 7,
  what: 'a peer pushes into the target and answers its clock requests with invalid replies (t3 before t2)',
  async run (ctx: CaseContext) {
    const ms = ctx.ms(10_000, 6000)
    const peer = ctx.own(await hostilePeer({ listen: true }))
    const opened: number[] = []
    await peer.handle(CLOCK_PROTOCOL, stream => {
      opened.push(performance.now())
      const decoder = new FrameDecoder()
      stream.addEventListener('message', e => {
        try {
          for (const f of decoder.push(e.data)) {
            const m = decodeMessage(f)
            if (m.type !== 'clock-request') continue
            const t = nowUs()
            stream.send(encodeFrame({ type: 'clock-response', id: m.id, t1: m.t1, t2: t + 1000, t3: t }))
          }
        } catch {
          stream.abort(new Error('bad request'))
        }
      })
    }, { maxInboundStreams: 1024 })
    const t0 = performance.now()
    const push = await openStream(peer, ctx.target.addr, EVENTS_PROTOCOL)
    push.stream.send(encodeFrame({ type: 'open', mode: 'push', port: 'sink', source: 'clock-liar' }))
    const accepted = await push.first(['accept', 'reject'], 5000)
    // Keep the push stream alive with a watermark now and then (no batch sent: the next seq is 0).
    while (performance.now() - t0 < ms && push.open) {
      push.stream.send(encodeFrame({ type: 'watermark', seq: 0, time: nowUs() }))
      await sleep(200)
    }
    const half = t0 + ms / 2
    const late = opened.filter(t => t >= half).length
    const rate = late / (ms / 2000)
    const level: Level = rate <= 1 ? 'held' : rate <= 3 ? 'degraded' : 'failed'
    return {
      checks: [{ name: 'clockReopenRate', level, value: Math.round(rate * 10) / 10, criterion: 'clock streams the target opens per second in the second half: ≤ 1 held, ≤ 3 degraded, else failed' }],
      details: { pushAccepted: accepted?.type === 'accept', clockStreams: opened.length, windowS: ms / 1000 }
    }
  }
}
