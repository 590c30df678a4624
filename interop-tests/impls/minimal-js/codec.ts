#!/usr/bin/env node
/**
 * The codec entry point of the minimal implementation (interop-tests/README.md, "Codec entry point"). It
 * covers what a subscriber decodes: framing, CBOR, descriptions and the events messages it receives, and
 * whole streams replayed through its subscriber. Opens and clock messages are not decoded here.
 */
import { buffer } from 'node:stream/consumers'
import type { Stream } from '@libp2p/interface'
import { batchEvents, batchJson } from './columns.ts'
import { WireError } from './errors.ts'
import { FrameReader, MAX_FRAME, frame } from './frames.ts'
import { decodeMessage } from './messages.ts'
import { Subscriber } from './subscriber.ts'

interface Context { kind?: 'spike' | 'weighted', channels?: number, max_events?: number, max_frame?: number, filter?: number[] }
type Answer = Record<string, unknown>

const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'))

function message (body: Uint8Array, c: Context): Answer {
  const m = decodeMessage(body)
  if (m.type === 'batch') {
    const ev = batchEvents(m, { kind: c.kind, channels: c.channels, maxEvents: c.max_events ?? 65536, filter: c.filter === undefined ? undefined : new Set(c.filter) })
    return { message: batchJson(m), events: ev.channels.map((ch, i) => ev.values === undefined ? [ch, ev.times[i]] : [ch, ev.times[i], ev.values[i]]) }
  }
  if (m.type === 'open' || m.type === 'clock-request' || m.type === 'clock-response') return { error: 'unsupported-input', message: `minimal-js does not decode ${m.type}` }
  return { message: m }
}

/** A stand-in for a libp2p stream: replays frames into a Subscriber and keeps what it would send. */
class ReplayStream extends EventTarget {
  status = 'open'
  writeStatus = 'writable'
  send (): boolean { return true }
  pause (): void {}
  resume (): void {}
  async close (): Promise<void> { this.writeStatus = 'closed' }
  abort (): void { this.status = 'reset' }
}

function stream (bytes: Uint8Array, c: Context): Answer {
  const s = new ReplayStream()
  const sub = new Subscriber(s as unknown as Stream, { port: undefined, channels: c.filter, maxEvents: c.max_events ?? 4096 })
  const frames = new FrameReader().push(bytes)
  for (const f of frames) {
    const evt = new Event('message') as Event & { data: Uint8Array }
    evt.data = frame(f)
    s.dispatchEvent(evt)
    const o = sub.outcome
    if (o?.end === 'failed' && s.status === 'reset') return { error: o.code, fail_at: sub.stats.messages - 1 }
  }
  return { ok: true, gap: sub.stats.gap }
}

function answer (input: string, bytes: Uint8Array, c: Context): Answer {
  try {
    if (input === 'message') return message(bytes, c)
    if (input === 'frame') {
      const r = new FrameReader(c.max_frame ?? MAX_FRAME)
      const bodies = r.push(bytes)
      r.end()
      return bodies.length === 1 ? message(bodies[0], c) : { error: 'unsupported-input', message: `${bodies.length} frames` }
    }
    if (input === 'stream') return stream(bytes, c)
    return { error: 'unsupported-input' }
  } catch (err) {
    return err instanceof WireError ? { error: err.code } : { error: 'internal-error', message: (err as Error).message }
  }
}

const raw = await buffer(process.stdin)
if (process.env.SW_CODEC_MODE === 'lines') {
  for (const line of raw.toString('utf8').split('\n')) {
    if (line.trim() === '') continue
    const req = JSON.parse(line) as { id: string, input: string, hex: string, context?: Context }
    process.stdout.write(JSON.stringify({ id: req.id, ...answer(req.input, fromHex(req.hex), req.context ?? {}) }) + '\n')
  }
} else {
  const bytes = process.env.SW_CODEC_ENCODING === 'raw' ? new Uint8Array(raw) : fromHex(raw.toString('utf8'))
  process.stdout.write(JSON.stringify(answer(process.env.SW_CODEC_INPUT ?? 'message', bytes, JSON.parse(process.env.SW_CODEC_CONTEXT ?? '{}') as Context)) + '\n')
}
