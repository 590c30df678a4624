/**
 * The decoder targets: mutated frames against src/codec in this thread. Each frame's input comes from its
 * own generator (the run's seed forked by the frame index), so any frame can be replayed alone.
 *
 * Outcomes of a frame: accepted, rejected with a registry code (SpikewireError), or a crash — anything
 * else thrown, or a frame that takes longer than the deadline. An accepted frame also goes through an
 * oracle that does not trust the decoder: the message must re-encode and decode to itself, and its bytes,
 * read by the fuzzer's own parser, must hold no map key that is not an unsigned integer in the maps the
 * spec defines (§7.3) and no float or negative integer in a defined field other than a model parameter's
 * value (§7.1). A failed oracle is a finding too.
 */
import { Prng } from '../../src/base/prng.ts'
import {
  ErrorCode, FrameDecoder, SpikewireError, decodeMessage, encodeMessage, messageToJson
} from '../../src/codec/index.ts'
import type { DecodeOptions, KindName, Message } from '../../src/codec/index.ts'
import { parseTree } from './cbor-tree.ts'
import type { CNode } from './cbor-tree.ts'
import { loadCorpus, typeOf } from './corpus.ts'
import type { Corpus, Seed } from './corpus.ts'
import { mutateBody, mutateStream } from './mutate.ts'
import type { MutateOptions } from './mutate.ts'

export const DECODER_TARGETS = ['codec.frame', 'codec.message', 'codec.batch'] as const
export type DecoderTarget = typeof DECODER_TARGETS[number]

export interface Finding {
  kind: 'crash' | 'hang' | 'oracle'
  /** Index of the first frame that showed it (replay with the same seed and target). */
  frame: number
  /** Error class and message (numbers blanked), or the oracle's complaint. */
  signature: string
  /** The input, hex (first 1 KiB). */
  hex: string
  count: number
}

export interface TargetReport {
  bench: 'fuzz'
  target: string
  frames: number
  crashes: number
  /** Accepted frames whose message failed the oracle. */
  oracleFailures: number
  accepted: number
  uniqueErrors: Record<string, number>
  framesPerSec: number
  maxFrameMs: number
  seconds: number
  seed: number
  findings: Finding[]
}

export interface DecoderRunOptions {
  frames: number
  seed: number
  /** A frame slower than this is a hang (crash), ms. */
  deadlineMs?: number
  /** First frame index (a run resumed after a hang starts past it). */
  from?: number
  /** Progress for a watchdog in another thread: [0] = index of the frame being run. */
  progress?: Int32Array
  corpus?: Corpus
}

const hex = (b: Uint8Array): string => Buffer.from(b.subarray(0, 1024)).toString('hex')

function randomOptions (rng: Prng, seed: Seed | undefined): DecodeOptions {
  if (seed !== undefined && rng.int(10) < 7) return seed.options
  const o: DecodeOptions = {}
  if (rng.int(2) === 0) o.kind = (['spike', 'weighted'] as KindName[])[rng.int(2)]
  if (rng.int(2) === 0) o.channels = [1, 8, 16, 300, 0xffff_ffff][rng.int(5)]
  if (rng.int(3) === 0) o.maxEvents = [4096, 65536][rng.int(2)]
  if (rng.int(4) === 0) o.filter = new Set([0, 2, 4, 100])
  return o
}

/** A thrown value that is a registry-coded SpikewireError: its code; otherwise undefined. */
export function registryCode (err: unknown): string | undefined {
  return err instanceof SpikewireError && Object.hasOwn(ErrorCode, err.code) ? err.code : undefined
}

export function signatureOf (err: unknown): string {
  const name = err instanceof Error ? err.name : typeof err
  const message = err instanceof Error ? err.message : String(err)
  return `${name}: ${message.replace(/\d+/g, 'N').slice(0, 160)}`
}

/** The keys spec §8 defines for each message type (key 0 aside); values of other keys are ignored (§7.4). */
const KNOWN_KEYS: Record<number, number[]> = {
  1: [], 2: [1, 2, 3, 4, 5, 6], 3: [1, 2, 3, 4, 5, 6], 4: [1, 2, 3, 4, 5], 5: [1, 2], 6: [1, 2, 3, 4, 5, 6], 7: [1, 2],
  8: [1, 2, 3], 9: [1, 2], 10: [1, 2], 11: [1, 2, 3, 4]
}

type Check = (key: number, value: CNode) => string | undefined

/** A map whose keys the spec defines: every key an unsigned integer (§7.3), known keys' values checked. */
function checkMap (n: CNode, known: number[], check: Check): string | undefined {
  if (n.t !== 'map') return undefined
  for (const [k, v] of n.v) {
    if (k.t !== 'uint') return `accepted a map key of type ${k.t}`
    const key = Number(k.v)
    if (key === 0 || !known.includes(key)) continue
    const p = check(key, v)
    if (p !== undefined) return p
  }
  return undefined
}

/** The hex of the first float anywhere in the tree, keys included, that is a NaN other than f9 7e 00 (§7.1). */
function findOtherNaN (n: CNode): string | undefined {
  switch (n.t) {
    case 'float': {
      const view = new DataView(n.bits.buffer, n.bits.byteOffset, n.bits.byteLength)
      // A binary16 NaN: exponent bits all set and a fraction that is not zero.
      const isNaN = n.bits.length === 2 ? (view.getUint16(0) & 0x7fff) > 0x7c00
        : Number.isNaN(n.bits.length === 4 ? view.getFloat32(0) : view.getFloat64(0))
      const text = Buffer.from(n.bits).toString('hex')
      return isNaN && text !== '7e00' ? text : undefined
    }
    case 'array':
      for (const x of n.v) { const p = findOtherNaN(x); if (p !== undefined) return p }
      return undefined
    case 'map':
      for (const [k, v] of n.v) { const p = findOtherNaN(k) ?? findOtherNaN(v); if (p !== undefined) return p }
      return undefined
    case 'tag':
      return findOtherNaN(n.v)
    default:
      return undefined
  }
}

/** A field value: no float and no negative integer anywhere in it (§7.1). */
function checkPlain (n: CNode): string | undefined {
  if (n.t === 'float') return 'accepted a float in a field that is not a parameter value'
  if (n.t === 'nint') return 'accepted a negative integer in a field that is not a parameter value'
  if (n.t === 'array') for (const x of n.v) { const p = checkPlain(x); if (p !== undefined) return p }
  return undefined
}

function checkModel (n: CNode): string | undefined {
  return checkMap(n, [1, 2], (k, v) => {
    if (k !== 2 || v.t !== 'array') return checkPlain(v)
    for (const param of v.v) {
      // [name, value, unit]: the value may be any integer or a float (§8.2).
      if (param.t === 'array') for (const [i, x] of param.v.entries()) { const p = i === 1 ? undefined : checkPlain(x); if (p !== undefined) return p }
    }
    return undefined
  })
}

/**
 * What the decoder accepted, read independently: map keys, and the CBOR types of the fields the spec
 * defines (an unsigned integer field must be major type 0 even when a float would hold the same value).
 */
export function oracleBytes (bytes: Uint8Array): string | undefined {
  let tree: CNode
  try {
    tree = parseTree(bytes)
  } catch {
    return 'accepted bytes the fuzzer cannot parse as one CBOR item'
  }
  const type = typeOf(tree)
  if (tree.t !== 'map' || type === undefined) return 'accepted an item that is not a map with a message type'
  const nan = findOtherNaN(tree)
  if (nan !== undefined) return `accepted a NaN encoded as ${nan}, not f9 7e 00`
  if (type === 11) {
    // §8.10: a clock response's t3 is not less than its t2.
    const t2 = tree.v.find(([k]) => k.t === 'uint' && k.v === 3n)?.[1]
    const t3 = tree.v.find(([k]) => k.t === 'uint' && k.v === 4n)?.[1]
    if (t2?.t === 'uint' && t3?.t === 'uint' && t3.v < t2.v) return 'accepted a clock response with t3 < t2'
  }
  return checkMap(tree, KNOWN_KEYS[type] ?? [], (k, v) => {
    if (type === 2 && k === 3 && v.t === 'array') {
      for (const port of v.v) {
        const p = checkMap(port, [1, 2, 3, 4, 5], (pk, pv) => pk === 5 ? checkModel(pv) : checkPlain(pv))
        if (p !== undefined) return p
      }
      return undefined
    }
    return type === 2 && k === 5 ? checkModel(v) : checkPlain(v)
  })
}

function oracle (bytes: Uint8Array, msg: Message, options: DecodeOptions): string | undefined {
  const p = oracleBytes(bytes)
  if (p !== undefined) return p
  let again: Message
  try {
    again = decodeMessage(encodeMessage(msg), options)
  } catch (err) {
    return `accepted message does not re-encode and decode: ${signatureOf(err)}`
  }
  if (JSON.stringify(messageToJson(again)) !== JSON.stringify(messageToJson(msg))) return 'accepted message changes when re-encoded'
  return undefined
}

interface Input {
  bytes: Uint8Array
  run: () => Message[]
  options: DecodeOptions
}

/** Build the input of frame `i` of a target. */
function makeInput (target: DecoderTarget, rng: Prng, corpus: Corpus, mo: { all: MutateOptions, batch: MutateOptions }): Input {
  if (target === 'codec.frame') {
    const bytes = mutateStream(rng, mo.all, corpus.frames)
    const maxFrameBytes = [undefined, 1024, 4096, 1024 * 1024][rng.int(4)]
    const options = randomOptions(rng, undefined)
    // Deliver in one to four chunks cut at random places.
    const cuts = [0, ...Array.from({ length: rng.int(4) }, () => rng.int(bytes.length + 1)).sort((a, b) => a - b), bytes.length]
    return {
      bytes,
      options,
      run: () => {
        const d = new FrameDecoder({ maxFrameBytes })
        const out: Message[] = []
        for (let k = 0; k + 1 < cuts.length; k++) {
          for (const body of d.push(bytes.subarray(cuts[k], cuts[k + 1]))) out.push(decodeMessage(body, options))
        }
        d.end()
        return out
      }
    }
  }
  const m = mutateBody(rng, target === 'codec.batch' ? mo.batch : mo.all)
  const options = randomOptions(rng, m.seed)
  return { bytes: m.bytes, options, run: () => [decodeMessage(m.bytes, options)] }
}

/** Run `frames` frames of one decoder target and report. */
export function runDecoderTarget (target: DecoderTarget, o: DecoderRunOptions): TargetReport {
  const corpus = o.corpus ?? loadCorpus()
  const mo = {
    all: { seeds: corpus.messages, corpus },
    batch: { seeds: corpus.batches, corpus, batchBias: 0.3 }
  }
  const deadlineMs = o.deadlineMs ?? 1000
  const root = new Prng(o.seed)
  const errors: Record<string, number> = {}
  const findings = new Map<string, Finding>()
  let crashes = 0
  let oracleFailures = 0
  let accepted = 0
  let maxFrameMs = 0
  const note = (kind: Finding['kind'], signature: string, frame: number, bytes: Uint8Array): void => {
    const key = `${kind} ${signature}`
    const f = findings.get(key)
    if (f !== undefined) f.count++
    else findings.set(key, { kind, frame, signature, hex: hex(bytes), count: 1 })
  }
  const from = o.from ?? 0
  // Most frames end in a thrown error: short stack traces keep the fuzzer fast (signatures use messages).
  const stackTraceLimit = Error.stackTraceLimit
  Error.stackTraceLimit = 2
  const start = performance.now()
  for (let i = from; i < o.frames; i++) {
    if (o.progress !== undefined) Atomics.store(o.progress, 0, i)
    const rng = root.fork(i >>> 0)
    const input = makeInput(target, rng, corpus, mo)
    const t0 = performance.now()
    let messages: Message[] | undefined
    try {
      messages = input.run()
    } catch (err) {
      const code = registryCode(err)
      if (code !== undefined) errors[code] = (errors[code] ?? 0) + 1
      else {
        crashes++
        note('crash', signatureOf(err), i, input.bytes)
      }
    }
    const ms = performance.now() - t0
    if (ms > maxFrameMs) maxFrameMs = ms
    if (ms > deadlineMs) {
      crashes++
      note('hang', `frame took ${Math.round(ms)} ms (deadline ${deadlineMs} ms)`, i, input.bytes)
    }
    if (messages !== undefined) {
      accepted++
      // The oracle reads one body: a frame-stream input is checked message by message through its frames.
      if (target !== 'codec.frame') {
        for (const msg of messages) {
          const p = oracle(input.bytes, msg, input.options)
          if (p !== undefined) { oracleFailures++; note('oracle', p, i, input.bytes) }
        }
      } else {
        const d = new FrameDecoder()
        const bodies = (() => { try { return [...d.push(input.bytes)] } catch { return [] } })()
        bodies.forEach((body, k) => {
          const msg = messages[k]
          if (msg === undefined) return
          const p = oracle(body, msg, input.options)
          if (p !== undefined) { oracleFailures++; note('oracle', p, i, body) }
        })
      }
    }
  }
  const seconds = (performance.now() - start) / 1000
  Error.stackTraceLimit = stackTraceLimit
  const frames = o.frames - from
  return {
    bench: 'fuzz',
    target,
    frames,
    crashes,
    oracleFailures,
    accepted,
    uniqueErrors: sortKeys(errors),
    framesPerSec: Math.round(frames / seconds),
    maxFrameMs: Number(maxFrameMs.toFixed(2)),
    seconds: Number(seconds.toFixed(2)),
    seed: o.seed,
    findings: [...findings.values()]
  }
}

export function sortKeys (r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)))
}

/** Baseline from the same run: frames per second decoding the valid vectors alone, unmutated. */
export function baselineValidVectors (corpus: Corpus, seconds: number): { frames: number, framesPerSec: number, seconds: number } {
  const valid = corpus.messages.filter(s => {
    if (s.fail) return false
    try { decodeMessage(s.bytes, s.options); return true } catch { return false }
  })
  let frames = 0
  const start = performance.now()
  let now = start
  while (now - start < seconds * 1000) {
    for (const s of valid) decodeMessage(s.bytes, s.options)
    frames += valid.length
    now = performance.now()
  }
  return { frames, framesPerSec: Math.round(frames / ((now - start) / 1000)), seconds: Number(((now - start) / 1000).toFixed(2)) }
}
