#!/usr/bin/env node
/**
 * The codec entry point of the TypeScript implementation (interop-tests/README.md, "Codec entry point"):
 * decode a vector's bytes with the reference codec and print the JSON mapping or {"error": code}.
 *
 *   single:  SW_CODEC_INPUT=message|frame|stream SW_CODEC_CONTEXT='{…}' node codec.ts < hex
 *   lines:   SW_CODEC_MODE=lines node codec.ts < requests.jsonl      ({"id","input","hex","context"} per line)
 */
import { buffer } from 'node:stream/consumers'
import {
  SpikewireError, batchEventsToJson, decodeMessage, fromHex, messageToJson, splitFrames
} from '../../../src/index.ts'
import type { DecodeOptions } from '../../../src/index.ts'
import { replayReceiverStream } from '../../../src/wire/replay.ts'
import type { VectorContext } from '../../lib/vectors.ts'

type Answer = Record<string, unknown>

function options (c: VectorContext): DecodeOptions {
  const o: DecodeOptions = {}
  if (c.kind !== undefined) o.kind = c.kind
  if (c.channels !== undefined) o.channels = c.channels
  if (c.max_events !== undefined) o.maxEvents = c.max_events
  if (c.filter !== undefined) o.filter = new Set(c.filter)
  return o
}

function fail (err: unknown): Answer {
  if (err instanceof SpikewireError) return { error: err.code }
  return { error: 'internal-error', message: (err as Error).message }
}

function decodeOne (body: Uint8Array, c: VectorContext): Answer {
  const m = decodeMessage(body, options(c))
  return m.type === 'batch' ? { message: messageToJson(m), events: batchEventsToJson(m) } : { message: messageToJson(m) }
}

export function answer (input: string, bytes: Uint8Array, c: VectorContext): Answer {
  try {
    if (input === 'message') return decodeOne(bytes, c)
    if (input === 'frame') {
      const frames = splitFrames(bytes, { maxFrameBytes: c.max_frame })
      if (frames.length !== 1) return { error: 'unsupported-input', message: `${frames.length} frames` }
      return decodeOne(frames[0], c)
    }
    if (input === 'stream') {
      const r = replayReceiverStream(splitFrames(bytes), { maxEvents: c.max_events, filter: c.filter })
      return r.ok ? { ok: true, gap: r.gap } : { error: r.code, fail_at: r.failAt }
    }
    return { error: 'unsupported-input', message: `unknown input "${input}"` }
  } catch (err) {
    return fail(err)
  }
}

const raw = await buffer(process.stdin)
const stdin = raw.toString('utf8')
if (process.env.SW_CODEC_MODE === 'lines') {
  for (const line of stdin.split('\n')) {
    if (line.trim() === '') continue
    let id: unknown
    try {
      const req = JSON.parse(line) as { id: string, input: string, hex: string, context?: VectorContext }
      id = req.id
      process.stdout.write(JSON.stringify({ id, ...answer(req.input, fromHex(req.hex), req.context ?? {}) }) + '\n')
    } catch (err) {
      process.stdout.write(JSON.stringify({ id, error: 'unsupported-input', message: (err as Error).message }) + '\n')
    }
  }
} else {
  const context = JSON.parse(process.env.SW_CODEC_CONTEXT ?? '{}') as VectorContext
  const bytes = process.env.SW_CODEC_ENCODING === 'raw' ? new Uint8Array(raw) : fromHex(stdin.replace(/\s+/g, ''))
  process.stdout.write(JSON.stringify(answer(process.env.SW_CODEC_INPUT ?? 'message', bytes, context)) + '\n')
}
