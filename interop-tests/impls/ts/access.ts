/**
 * Who may do what, in the TypeScript implementation: describe, opens refused by authorisation, and a
 * protocol version the listener does not serve (negotiated on raw libp2p streams, since the library
 * always proposes 1.0.0).
 */
import { multiaddr } from '@multiformats/multiaddr'
import {
  EVENTS_PROTOCOL, FrameDecoder, RejectedError, decodeMessage, encodeFrame, messageToJson
} from '../../../src/index.ts'
import type { Message } from '../../../src/index.ts'
import { param } from './context.ts'
import type { Ctx } from './context.ts'
import { nodeOf } from './events.ts'
import type { Fields } from './events.ts'
import type { Peer } from './peer.ts'

export async function describeListener (ctx: Ctx, peer: Peer): Promise<Fields> {
  const { peer: remote, ...description } = await nodeOf(peer).describe(ctx.peerAddr, { signal: AbortSignal.timeout(ctx.remainingMs()) })
  return { description: messageToJson(description), peer: remote }
}

async function attempt (ready: () => Promise<void>, close: () => Promise<void>, error: () => Error | undefined): Promise<{ outcome: string, code?: string }> {
  try {
    await ready()
    await close()
    return { outcome: 'accepted' }
  } catch {
    const e = error()
    if (e instanceof RejectedError) return { outcome: 'rejected', code: e.code }
    return { outcome: 'failed', code: e?.message }
  }
}

export async function tryRefused (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const attempts = param<Array<{ mode: string, port: string }>>(ctx, 'attempts', 'array')
  const results: Fields[] = []
  for (const a of attempts) {
    if (a.mode === 'push') {
      if (!node.outPorts.has('drive')) node.addOutPort({ name: 'drive', channels: 1 })
      const l = node.push('drive', ctx.peerAddr, a.port, { reconnect: false })
      results.push({ ...a, ...await attempt(async () => { await l.ready() }, async () => { await l.close() }, () => l.error) })
    } else {
      const s = node.subscribe(ctx.peerAddr, a.port, { reconnect: false })
      results.push({ ...a, ...await attempt(async () => { await s.ready() }, async () => { await s.close() }, () => s.error) })
    }
  }
  const c = node.subscribe(ctx.peerAddr, param<string>(ctx, 'control', 'string'), { reconnect: false })
  const control = await attempt(async () => { await c.ready() }, async () => { await c.close() }, () => c.error)
  return { attempts: results, control: control.outcome }
}

/** Read messages from a raw stream until `pred` holds or the stream ends. */
async function readUntil (stream: Awaited<ReturnType<Peer['libp2p']['dialProtocol']>>, pred: (m: Message) => boolean, timeoutMs: number): Promise<Message | undefined> {
  const decoder = new FrameDecoder()
  return await new Promise(resolve => {
    const timer = setTimeout(() => { resolve(undefined) }, timeoutMs)
    const finish = (m: Message | undefined): void => {
      clearTimeout(timer)
      resolve(m)
    }
    stream.addEventListener('message', e => {
      try {
        for (const f of decoder.push(e.data)) {
          const m = decodeMessage(f)
          if (pred(m)) finish(m)
        }
      } catch {
        finish(undefined)
      }
    })
    stream.addEventListener('close', () => { finish(undefined) })
  })
}

export async function tryUnknownVersion (ctx: Ctx, peer: Peer): Promise<Fields> {
  const addr = multiaddr(ctx.peerAddr)
  const unknown = param<string>(ctx, 'unknown', 'string')
  const signal = AbortSignal.timeout(5000)
  let unknownRefused = false
  let unknownError = ''
  try {
    const s = await peer.libp2p.dialProtocol(addr, unknown, { signal })
    s.abort(new Error('not expected to be negotiated'))
  } catch (err) {
    unknownRefused = true
    unknownError = (err as Error).name
  }
  const s = await peer.libp2p.dialProtocol(addr, [unknown, EVENTS_PROTOCOL], { signal: AbortSignal.timeout(5000) })
  const answer = readUntil(s, m => m.type === 'accept' || m.type === 'reject' || m.type === 'close', 5000)
  s.send(encodeFrame({ type: 'open', mode: 'subscribe', port: param<string>(ctx, 'port', 'string') }))
  const m = await answer
  s.send(encodeFrame({ type: 'close', code: 'normal' }))
  await s.close().catch(() => {})
  return { unknown_refused: unknownRefused, unknown_error: unknownError, fallback_protocol: s.protocol, fallback_accepted: m?.type === 'accept' }
}
