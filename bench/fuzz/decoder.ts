/**
 * The decoder targets: mutated frames against src/codec in this thread. Each frame's input comes from its
 * own generator (the run's seed forked by the frame index), so any frame can be replayed alone.
 *
 * Outcomes of a frame: accepted, rejected with a registry code (SpikewireError), or a crash — anything
 * else thrown, or a frame that takes longer than the deadline. An accepted frame also goes through an
 * oracle that does not trust the decoder: the message must re-encode and decode to itself, and its bytes
 * (read by the fuzzer's own parser) must hold no map key that is not an unsigned integer and no float or
 * negative integer outside a model parameter's value (spec §7.1). A failed oracle is a finding too.
 */
import { Prng } from '../../src/base/prng.ts'
import {
  ErrorCode, FrameDecoder, SpikewireError, decodeMessage, encodeMessage, messageToJson
} from '../../src/codec/index.ts'
import type { DecodeOptions, KindName, Message } from '../../src/codec/index.ts'
import { parseTree } from './cbor-tree.ts'
import type { CNode } from './cbor-tree.ts'
import { loadCorpus } from './corpus.ts'
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

/** Floats and negative integers are allowed only as model parameter values ([name, value, unit], §8.2). */
function oracleBytes (bytes: Uint8Array, type: string): string | undefined {
  let tree: CNode
  try {
    tree = parseTree(bytes)
  } catch {
    return 'accepted bytes the fuzzer cannot parse as one CBOR item'
  }
  let problem: string | undefined
  const visit = (n: CNode, paramValue: boolean): void => {
    if (problem !== undefined) return
    if ((n.t === 'float' || n.t === 'nint') && !paramValue) problem = `accepted a ${n.t === 'float' ? 'float' : 'negative integer'} outside a parameter value`
    else if (n.t === 'array') n.v.forEach((x, i) => { visit(x, type === 'description' && n.v.length === 3 && i === 1) })
    else if (n.t === 'map') {
      for (const [k, v] of n.v) {
        if (k.t !== 'uint') { problem = `accepted a map key of type ${k.t}`; return }
        visit(v, false)
      }
    }
  }
  visit(tree, false)
  return problem
}

function oracle (bytes: Uint8Array, msg: Message, options: DecodeOptions): string | undefined {
  const p = oracleBytes(bytes, msg.type)
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
