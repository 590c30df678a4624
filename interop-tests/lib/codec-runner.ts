/**
 * The codec runner: drives an implementation's codec entry point over every vector (README, "Codec
 * entry point"). A request names the input kind and carries the bytes as hex with the vector's context:
 *
 * - "message": the CBOR item (cbor_hex). Output: {"message": <JSON mapping>, "events"?: [...]} or
 *   {"error": "<code>"}.
 * - "frame": the bytes on the stream (frame_hex), ending after the last byte. Output as for "message".
 * - "stream": the event receiver's frames after its open (each messages_hex item with its length
 *   prefix). Output: {"ok": true, "gap": n} or {"error": "<code>", "fail_at": i}.
 *
 * - "encode" (only for entries with `"encode": true`): a valid vector's JSON `message` (unless the vector
 *   is decode_only), with `framed` true for framing vectors. Output: {"hex": "<the bytes>"}, compared with
 *   the vector's frame_hex (framed) or cbor_hex. Reported as the vector id followed by " (encode)".
 *
 * Single-shot: one process per vector; SW_CODEC_INPUT, SW_CODEC_CONTEXT (JSON) in the environment, the hex
 * on stdin (SW_CODEC_ENCODING=raw for raw bytes), one JSON line out. Lines mode (manifest `"lines": true`):
 * one process, SW_CODEC_MODE=lines, one JSON request per stdin line {"id", "input", "hex", "context"}, one
 * JSON answer per stdout line with the same "id".
 */
import { isDeepStrictEqual } from 'node:util'
import type { Impl } from './manifest.ts'
import { ImplProcess } from './proc.ts'
import type { CodecResult } from './report.ts'
import { frameHex, loadIndex, loadVector } from './vectors.ts'
import type { Vector, VectorContext } from './vectors.ts'

export interface CodecRequest {
  id: string
  input: 'message' | 'frame' | 'stream'
  hex: string
  context: VectorContext
}

export interface EncodeRequest {
  id: string
  input: 'encode'
  message: Record<string, unknown>
  framed: boolean
}

const ENCODE_SUFFIX = ' (encode)'

/** The encode request of a vector, or undefined when the vector has no message to encode. */
export function encodeRequestFor (v: Vector): EncodeRequest | undefined {
  if (v.fail || v.message === undefined || v.decode_only === true || v.messages_hex !== undefined) return undefined
  return { id: v.id + ENCODE_SUFFIX, input: 'encode', message: v.message, framed: v.frame_hex !== undefined }
}

/** The reason an encode answer is wrong, or undefined. */
export function judgeEncode (v: Vector, out: Record<string, unknown> | undefined): string | undefined {
  if (out === undefined) return 'no answer'
  const want = v.frame_hex ?? v.cbor_hex
  return out.hex === want ? undefined : `want hex ${want?.slice(0, 120)}, got ${JSON.stringify(out).slice(0, 300)}`
}

export function requestFor (v: Vector): CodecRequest {
  const context = v.context ?? {}
  if (v.messages_hex !== undefined) return { id: v.id, input: 'stream', hex: v.messages_hex.map(frameHex).join(''), context }
  if (v.frame_hex !== undefined) return { id: v.id, input: 'frame', hex: v.frame_hex, context }
  return { id: v.id, input: 'message', hex: v.cbor_hex!, context }
}

/** The reason an answer is wrong, or undefined. */
export function judgeAnswer (v: Vector, out: Record<string, unknown> | undefined): string | undefined {
  if (out === undefined) return 'no answer'
  const got = JSON.stringify(out).slice(0, 300)
  if (v.messages_hex !== undefined) {
    if (v.fail) return out.error === v.code && out.fail_at === v.fail_at ? undefined : `want {"error":"${v.code}","fail_at":${v.fail_at}}, got ${got}`
    return out.ok === true && (v.gap === undefined || out.gap === v.gap) ? undefined : `want {"ok":true,"gap":${v.gap ?? 0}}, got ${got}`
  }
  if (v.fail) return out.error === v.code ? undefined : `want {"error":"${v.code}"}, got ${got}`
  if (!isDeepStrictEqual(out.message, v.message)) return `want message ${JSON.stringify(v.message).slice(0, 200)}, got ${got}`
  if (v.events !== undefined && out.events !== undefined && !isDeepStrictEqual(out.events, v.events)) return `events differ: got ${JSON.stringify(out.events).slice(0, 200)}`
  return undefined
}

async function runLines (impl: Impl, requests: Array<CodecRequest | EncodeRequest>, root: string): Promise<Map<string, Record<string, unknown>>> {
  const answers = new Map<string, Record<string, unknown>>()
  const p = new ImplProcess({
    command: impl.codec!.command,
    args: impl.codec!.args,
    cwd: root,
    env: { SW_CODEC_MODE: 'lines' },
    objectsOnly: true,
    stdin: requests.map(r => JSON.stringify(r)).join('\n') + '\n'
  })
  if (!await p.waitExit(120_000)) p.kill()
  for (const o of p.objects) if (typeof o.id === 'string') answers.set(o.id, o)
  return answers
}

async function runSingle (impl: Impl, req: CodecRequest | EncodeRequest, root: string): Promise<Record<string, unknown> | undefined> {
  const p = new ImplProcess({
    command: impl.codec!.command,
    args: impl.codec!.args,
    cwd: root,
    env: req.input === 'encode'
      ? { SW_CODEC_INPUT: 'encode' }
      : { SW_CODEC_INPUT: req.input, SW_CODEC_CONTEXT: JSON.stringify(req.context) },
    objectsOnly: true,
    stdin: (req.input === 'encode' ? JSON.stringify({ message: req.message, framed: req.framed }) : req.hex) + '\n'
  })
  if (!await p.waitExit(30_000)) p.kill()
  return p.lastAnswer
}

export async function runCodec (impls: Impl[], root: string, options: { only?: string[], concurrency?: number } = {}): Promise<CodecResult[]> {
  const results: CodecResult[] = []
  // Only vectors that carry bytes: clocksync vectors hold computed samples, not messages. Directory vectors
  // are messages of the relay's protocol (spec §9.4), not of a node's streams: test/relay runs them.
  const vectors = loadIndex().filter(e => e.area !== 'directory').map(e => loadVector(e.id))
    .filter(v => v.cbor_hex !== undefined || v.frame_hex !== undefined || v.messages_hex !== undefined)
    .filter(v => options.only === undefined || options.only.includes(v.id))
  for (const impl of impls.filter(i => i.codec !== undefined)) {
    const areas = impl.codec!.areas
    const applicable = vectors.filter(v => areas === undefined || areas.includes(v.id.slice(0, v.id.indexOf('-'))))
    for (const v of vectors) {
      if (!applicable.includes(v)) results.push({ impl: impl.id, vector: v.id, status: 'n/a', reason: `${impl.id}'s codec does not cover this area` })
    }
    const encodes = impl.codec!.encode
      ? applicable.map(encodeRequestFor).filter((r): r is EncodeRequest => r !== undefined)
      : []
    const requests: Array<CodecRequest | EncodeRequest> = [...applicable.map(requestFor), ...encodes]
    let answers: Map<string, Record<string, unknown>>
    if (impl.codec!.lines) {
      answers = await runLines(impl, requests, root)
    } else {
      answers = new Map()
      const queue = [...requests]
      await Promise.all(Array.from({ length: options.concurrency ?? 2 }, async () => {
        for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
          const a = await runSingle(impl, r, root)
          if (a !== undefined) answers.set(r.id, a)
        }
      }))
    }
    for (const v of applicable) {
      const why = judgeAnswer(v, answers.get(v.id))
      results.push({ impl: impl.id, vector: v.id, status: why === undefined ? 'pass' : 'fail', reason: why ?? '' })
    }
    for (const r of encodes) {
      const v = applicable.find(x => x.id + ENCODE_SUFFIX === r.id)!
      const why = judgeEncode(v, answers.get(r.id))
      results.push({ impl: impl.id, vector: r.id, status: why === undefined ? 'pass' : 'fail', reason: why ?? '' })
    }
  }
  return results
}
