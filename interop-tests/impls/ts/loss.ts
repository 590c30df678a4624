/**
 * loss-notice in the TypeScript implementation. The dialer reads its subscription through an async
 * iterator with an inbox of one batch, so that while it sleeps the library pauses the stream (read
 * backpressure) and the listener's per-stream queue overflows into loss notices.
 */
import { EventChecker } from '../../lib/generator.ts'
import type { EventSender } from '../../../src/wire/sender.ts'
import { param, sleep, waitUntil } from './context.ts'
import type { Ctx } from './context.ts'
import { emitAll, generatorSpec, nodeOf } from './events.ts'
import type { Fields } from './events.ts'
import type { Peer } from './peer.ts'

export const PAUSED = 'paused'

export async function burstWhenPaused (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const port = node.outPort(param<string>(ctx, 'port', 'string'))
  await ctx.ready()
  await waitUntil(() => port.stats.streams > 0, ctx.remainingMs(), 'a subscriber')
  await ctx.rv.get(PAUSED, ctx.remainingMs())
  // Senders leave the port when their stream ends: keep their drop counts.
  const dropped = new Map<EventSender, number>()
  const note = (): void => { for (const s of port.senders) dropped.set(s, s.stats.dropped) }
  const timer = setInterval(note, 20)
  const sent = await emitAll(port, generatorSpec(ctx), Math.round(node.clock.nowUs()))
  await ctx.done
  clearInterval(timer)
  note()
  return { sent, dropped: [...dropped.values()].reduce((a, b) => a + b, 0) }
}

export async function pausedSubscriber (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const spec = generatorSpec(ctx)
  const checker = new EventChecker(spec)
  const sub = node.subscribe(ctx.peerAddr, param<string>(ctx, 'port', 'string'), { reconnect: false, inboxCapacity: 1, maxEvents: 4096 })
  await sub.ready()
  const it = sub[Symbol.asyncIterator]()
  let consumed = 0
  const take = (r: IteratorResult<{ batch: { seq: number, count: number, channels: Uint32Array, times: Float64Array } }>): void => {
    if (r.done === true) return
    const b = r.value.batch
    for (let i = 0; i < b.count; i++) checker.check(b.seq + i, b.channels[i], b.times[i])
    consumed += b.count
  }
  // The first next() starts the iterator: from now on undelivered batches queue and pause the stream.
  const first = it.next()
  await ctx.rv.put(PAUSED, true)
  const end = Date.now() + Math.min(ctx.remainingMs(), Number(ctx.params.wait_ms ?? 10_000))
  const untilEnd = async <T>(p: Promise<T>): Promise<T | undefined> => await Promise.race([p, sleep(Math.max(0, end - Date.now())).then(() => undefined)])
  const r0 = await untilEnd(first)
  if (r0 !== undefined) take(r0)
  await sleep(param<number>(ctx, 'pause_ms', 'number'))
  const accounted = (): number => sub.stats.events + sub.stats.lostEvents + sub.stats.gapEvents
  while (Date.now() < end && !(accounted() >= spec.n && consumed >= sub.stats.events)) {
    if (consumed < sub.stats.events || sub.inbox.queued > 0) {
      const r = await untilEnd(it.next())
      if (r === undefined || r.done === true) break
      take(r)
    } else {
      await sleep(5)
    }
  }
  const fields = {
    received: consumed,
    lost: sub.stats.lostEvents,
    gap: sub.stats.gapEvents,
    loss_notices: sub.stats.lossNotices,
    mismatches: checker.mismatches,
    examples: checker.examples
  }
  await sub.close()
  return fields
}
