/**
 * The adversary (feature "adversary"): a bare libp2p peer that plays the cases of SW_PARAMS.cases byte
 * for byte (lib/cases.ts) and reports what the implementation under test answered. Beside the cases it
 * keeps a well-behaved stream open, to show that the peer under test keeps serving.
 */
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { EVENTS_PROTOCOL, encodeFrame, messageToJson } from '../../../src/index.ts'
import type { AdversaryCase, CaseOutcome } from '../../lib/cases.ts'
import { param, sleep } from './context.ts'
import type { Ctx } from './context.ts'
import type { Fields } from './events.ts'
import type { Peer } from './peer.ts'
import { Watch, frameBytes, write } from './wire-watch.ts'

function settings (ctx: Ctx): { cases: AdversaryCase[], timeoutMs: number, witness: string } {
  return {
    cases: param<AdversaryCase[]>(ctx, 'cases', 'array'),
    timeoutMs: Number(ctx.params.case_timeout_ms ?? 3000),
    witness: param<string>(ctx, 'witness_port', 'string')
  }
}

async function sendCase (stream: Stream, c: AdversaryCase, timeoutMs: number): Promise<string | undefined> {
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    for (const f of c.frames) await write(stream, frameBytes(f), signal)
    if (c.end_write) await stream.close({ signal })
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

/** Adversary as dialer: one stream per case, after a push open where the case has one. */
export async function adversaryDialer (ctx: Ctx, peer: Peer): Promise<Fields> {
  const { cases, timeoutMs, witness } = settings(ctx)
  const addr = multiaddr(ctx.peerAddr)
  const ws = await peer.libp2p.dialProtocol(addr, EVENTS_PROTOCOL, { signal: AbortSignal.timeout(5000) })
  const ww = new Watch(ws)
  ws.send(encodeFrame({ type: 'open', mode: 'subscribe', port: witness }))
  const witnessAccepted = await ww.waitMessages(1, timeoutMs) && ww.messages[0].type === 'accept'
  const outcomes: CaseOutcome[] = []
  for (const c of cases) {
    const s = await peer.libp2p.dialProtocol(addr, EVENTS_PROTOCOL, { signal: AbortSignal.timeout(5000) })
    const w = new Watch(s, c.expect.close_optional !== true)
    const o: CaseOutcome = { id: c.id, received: [], end: 'timeout' }
    if (c.open !== undefined) {
      await write(s, frameBytes(c.open), AbortSignal.timeout(timeoutMs))
      o.accepted = await w.waitMessages(1, timeoutMs) && w.messages[0].type === 'accept'
    }
    if (c.open === undefined || o.accepted === true) {
      const err = await sendCase(s, c, timeoutMs)
      if (err !== undefined) o.error = `writing the case: ${err}`
    } else {
      s.abort(new Error('the open was not accepted'))
    }
    o.end = await w.end(timeoutMs)
    o.received = w.received
    outcomes.push(o)
  }
  await sleep(150)
  const watermarks = ww.messages.filter(m => m.type === 'watermark').length
  const aliveAtEnd = ws.status === 'open' && !ww.messages.some(m => m.type === 'close')
  const fs = await peer.libp2p.dialProtocol(addr, EVENTS_PROTOCOL, { signal: AbortSignal.timeout(5000) })
  const fw = new Watch(fs)
  fs.send(encodeFrame({ type: 'open', mode: 'subscribe', port: witness }))
  const fresh = await fw.waitMessages(1, timeoutMs) && fw.messages[0].type === 'accept'
  for (const s of [ws, fs]) {
    if (s.status === 'open') s.send(encodeFrame({ type: 'close', code: 'normal' }))
    await s.close().catch(() => {})
  }
  return { outcomes, witness: { accepted: witnessAccepted, watermarks, alive_at_end: aliveAtEnd, fresh_accept: fresh } }
}

/** Adversary as listener: the dialer under test opens one port per case; the witness port behaves. */
export async function adversaryListener (ctx: Ctx, peer: Peer): Promise<Fields> {
  const { cases, timeoutMs, witness } = settings(ctx)
  const byPort = new Map(cases.map(c => [c.port, c]))
  const outcomes = new Map<string, CaseOutcome>()
  const w = { accepted: 0, watermarks: 0 }
  const serveWitness = async (s: Stream, watch: Watch, port: string): Promise<void> => {
    s.send(encodeFrame({ type: 'accept', port, kind: 'spike', channels: 8, time: Math.round(performance.timeOrigin * 1000 + performance.now() * 1000) }))
    w.accepted++
    while (s.status === 'open' && s.writeStatus === 'writable' && !watch.messages.some(m => m.type === 'close')) {
      s.send(encodeFrame({ type: 'watermark', seq: 0, time: Math.round(performance.timeOrigin * 1000 + performance.now() * 1000) }))
      w.watermarks++
      await sleep(50)
    }
    await s.close().catch(() => {})
  }
  const serveCase = async (s: Stream): Promise<void> => {
    // The open names the case; until it is known, a remote end of the write side is left alone.
    const watch = new Watch(s, false)
    if (!await watch.waitMessages(1, timeoutMs) || watch.messages[0].type !== 'open') {
      s.abort(new Error('no open'))
      return
    }
    const open = watch.messages[0]
    if (open.type !== 'open') return
    if (open.port === witness) return await serveWitness(s, watch, open.port)
    const c = byPort.get(open.port)
    if (c === undefined) {
      s.send(encodeFrame({ type: 'reject', code: 'unknown-port' }))
      await s.close().catch(() => {})
      return
    }
    if (c.expect.close_optional !== true) watch.closeOnRemoteEnd()
    const o: CaseOutcome = { id: c.id, open: messageToJson(open), received: [], end: 'timeout' }
    const err = await sendCase(s, c, timeoutMs)
    if (err !== undefined) o.error = `writing the case: ${err}`
    o.end = await watch.end(timeoutMs)
    o.received = watch.received.slice(1)
    outcomes.set(c.id, o)
  }
  await peer.libp2p.handle(EVENTS_PROTOCOL, stream => {
    serveCase(stream).catch(err => { ctx.log(`case stream failed: ${(err as Error).message}`) })
  }, { maxInboundStreams: 1024, maxOutboundStreams: 1024 })
  await ctx.ready()
  await ctx.done
  return {
    outcomes: cases.map(c => outcomes.get(c.id) ?? { id: c.id, received: [], end: 'timeout', error: 'the dialer never opened this case\'s port' }),
    witness: w
  }
}
