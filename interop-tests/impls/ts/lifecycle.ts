/**
 * How streams end, in the TypeScript implementation: an abrupt disconnect the subscription recovers
 * from, and graceful closes initiated by either end.
 */
import type { EventSender } from '../../../src/wire/sender.ts'
import type { OutPort } from '../../../src/index.ts'
import { param, sleep, waitUntil } from './context.ts'
import type { Ctx } from './context.ts'
import { nodeOf } from './events.ts'
import type { Fields } from './events.ts'
import type { Peer } from './peer.ts'

/** Emit `perTick` events every `tickMs` while the port has a subscriber; returns a stop function. */
function steadySource (port: OutPort, now: () => number, perTick: number, tickMs: number): { stop: () => void, sent: () => number } {
  let sent = 0
  let k = 0
  const timer = setInterval(() => {
    if (port.stats.streams === 0) return
    const t = Math.round(now())
    for (let i = 0; i < perTick; i++) if (port.emit(k++ % port.channels, t)) sent++
  }, tickMs)
  return { stop: () => { clearInterval(timer) }, sent: () => sent }
}

export async function abortUnderSubscription (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const port = node.outPort(param<string>(ctx, 'port', 'string'))
  const perTick = Math.max(1, Math.round(param<number>(ctx, 'rate_hz', 'number') / 100))
  await ctx.ready()
  const source = steadySource(port, () => node.clock.nowUs(), perTick, 10)
  await ctx.rv.get('received-before', ctx.remainingMs())
  let aborted = 0
  for (const c of node.libp2p.getConnections()) {
    c.abort(new Error('abrupt disconnect (interop scenario)'))
    aborted++
  }
  await ctx.done
  source.stop()
  return { aborted_connections: aborted, sent: source.sent() }
}

export async function survivesDisconnect (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const before = param<number>(ctx, 'before', 'number')
  const after = param<number>(ctx, 'after', 'number')
  const sub = node.subscribe(ctx.peerAddr, param<string>(ctx, 'port', 'string'), { reconnect: { initialDelayMs: 50, maxDelayMs: 500 } })
  let eventsBefore = 0
  let eventsAfter = 0
  let abnormal = 0
  let brokeAt = 0
  let reconnectMs = -1
  sub.onBatch(({ batch }) => {
    if (sub.stats.connects <= 1) eventsBefore += batch.count
    else eventsAfter += batch.count
  })
  sub.addEventListener('status', e => {
    if (e.detail.state === 'retrying' && e.detail.error !== undefined && brokeAt === 0) {
      abnormal++
      brokeAt = performance.now()
    }
    if (e.detail.state === 'open' && brokeAt > 0 && reconnectMs < 0) reconnectMs = Math.round(performance.now() - brokeAt)
  })
  await sub.ready()
  const wait = Math.min(ctx.remainingMs(), Number(ctx.params.wait_ms ?? 8000))
  await waitUntil(() => eventsBefore >= before, wait, `${before} events before the break`)
  await ctx.rv.put('received-before', true)
  await waitUntil(() => eventsAfter >= after, Math.min(ctx.remainingMs(), wait), `${after} events after the reconnect`).catch(err => { ctx.log((err as Error).message) })
  const fields = { connects: sub.stats.connects, abnormal_ends: abnormal, events_before: eventsBefore, events_after: eventsAfter, reconnect_ms: reconnectMs }
  await sub.close()
  return fields
}

/** Listener: a steady source; closes its own streams gracefully once the dialer says `phase2`. */
export async function closeWhenAsked (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const port = node.outPort(param<string>(ctx, 'port', 'string'))
  await ctx.ready()
  const source = steadySource(port, () => node.clock.nowUs(), 1, 20)
  const seen = new Set<EventSender>()
  const mine = new Set<EventSender>()
  const tally = { clean_remote_closes: 0, resets: 0, own_closes: 0 }
  const watch = setInterval(() => {
    for (const s of port.senders) seen.add(s)
    for (const s of seen) {
      if (port.senders.has(s) || s.framed.stream.status === 'open') continue
      seen.delete(s)
      const clean = s.framed.failure === undefined && s.framed.stream.status === 'closed'
      if (!clean) tally.resets++
      else if (mine.has(s)) tally.own_closes++
      else tally.clean_remote_closes++
    }
  }, 10)
  await ctx.rv.get('phase2', ctx.remainingMs())
  await Promise.all([...port.senders].map(async s => {
    mine.add(s)
    s.watermark(port.watermark)
    await s.close({ signal: AbortSignal.timeout(3000) })
  }))
  await ctx.done
  await sleep(50)
  clearInterval(watch)
  source.stop()
  return tally
}

/** Dialer: phase 1 closes its own stream, phase 2 waits for the listener to close the second. */
export async function closeBothWays (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const portName = param<string>(ctx, 'port', 'string')
  const each = param<number>(ctx, 'events_each', 'number')
  const wait = (): number => Math.min(ctx.remainingMs(), Number(ctx.params.wait_ms ?? 6000))
  const endOf = (error: Error | undefined): string => error === undefined ? 'clean' : `error: ${error.message}`

  const s1 = node.subscribe(ctx.peerAddr, portName, { reconnect: false })
  let e1 = 0
  s1.onBatch(({ batch }) => { e1 += batch.count })
  await s1.ready()
  await waitUntil(() => e1 >= each, wait(), 'events on stream 1')
  await Promise.race([s1.close(), sleep(wait())])
  const phase1 = { end: s1.state === 'closed' ? endOf(s1.error) : 'not closed', events: e1 }

  const s2 = node.subscribe(ctx.peerAddr, portName, { reconnect: false })
  let e2 = 0
  s2.onBatch(({ batch }) => { e2 += batch.count })
  await s2.ready()
  await waitUntil(() => e2 >= each, wait(), 'events on stream 2')
  await ctx.rv.put('phase2', true)
  await Promise.race([s2.done(), sleep(wait())])
  const ended = s2.state === 'closed'
  // The library ends a subscription without error on close{normal} only; other codes become its error.
  const phase2 = { end: ended ? endOf(s2.error) : 'not closed', close_code: ended && s2.error === undefined ? 'normal' : String(s2.error?.message ?? 'none'), events: e2 }
  if (!ended) await s2.close()
  return { phase1, phase2 }
}
