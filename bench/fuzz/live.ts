/**
 * The live targets: mutated frames against a running node's events, describe and clock handlers over
 * real libp2p streams (TCP, Noise, Yamux on loopback), while a witness node subscribes to the victim's
 * out port. Each stream carries an optional valid prefix (an open) and one to three fuzzed frames, then a
 * close{normal}, and the outcome is what the node answers: close{code} or reject{code} (the code is
 * counted), a clean end, or nothing (a hang).
 *
 * A crash here: a stream not ended within the deadline, a close or reject with internal-error (the node
 * caught something that is not a typed error), the node's process ending, the witness seeing a gap, a
 * loss or a reconnect, the witness not getting every emitted event, or the node not answering describe and
 * clock requests at the end.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p, Stream } from '@libp2p/interface'
import { Prng } from '../../src/base/prng.ts'
import {
  CLOCK_PROTOCOL, DESCRIBE_PROTOCOL, EVENTS_PROTOCOL, FrameDecoder, decodeMessage, encodeFrame
} from '../../src/codec/index.ts'
import type { Message } from '../../src/codec/index.ts'
import { createNode } from '../../src/hosting/start.ts'
import type { SpikewireNode } from '../../src/node/node.ts'
import type { Subscription } from '../../src/protocols/events/subscription.ts'
import { writeTree } from './cbor-tree.ts'
import type { CNode } from './cbor-tree.ts'
import type { Corpus, Seed } from './corpus.ts'
import { mutateBody, mutateStream, prefix } from './mutate.ts'
import type { MutateOptions } from './mutate.ts'
import { sortKeys } from './decoder.ts'
import type { Finding, TargetReport } from './decoder.ts'
import { CHANNELS, IN_PORT, OUT_PORT } from './victim.ts'
import type { Victim } from './victim.ts'

export const LIVE_TARGETS = ['live.events', 'live.describe', 'live.clock'] as const
export type LiveTarget = typeof LIVE_TARGETS[number]

export interface LiveOptions {
  /** Fuzzed frames per target. */
  frames: number
  seed: number
  corpus: Corpus
  /** A stream must end within this after its last byte was sent, ms. */
  deadlineMs?: number
  /** Streams in flight per target. */
  concurrency?: number
}

export interface WitnessReport {
  events: number
  emitted: number
  gapEvents: number
  lostEvents: number
  reconnects: number
  /** Largest time between two batches the witness received during the fuzzing, ms. */
  maxGapMs: number
  /** The node answered a describe and a clock request after the fuzzing. */
  stillServing: boolean
  /** Why the witness check failed, if it did. */
  problems: string[]
}

const PROTOCOLS: Record<LiveTarget, string> = {
  'live.events': EVENTS_PROTOCOL,
  'live.describe': DESCRIBE_PROTOCOL,
  'live.clock': CLOCK_PROTOCOL
}

const CLOSE_NORMAL = encodeFrame({ type: 'close', code: 'normal' })

async function client (): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxInboundStreams: 1024, maxOutboundStreams: 1024 })]
  })
}

function framed (body: Uint8Array): Uint8Array {
  const p = prefix(body.length)
  const out = new Uint8Array(p.length + body.length)
  out.set(p)
  out.set(body, p.length)
  return out
}

function concat (parts: Uint8Array[]): Uint8Array {
  return new Uint8ArrayList(...parts).subarray()
}

function generatedOpen (rng: Prng): CNode {
  const pick = <T>(list: readonly T[]): T => list[rng.int(list.length)]
  const u = (v: number | bigint): CNode => ({ t: 'uint', v: BigInt(v) })
  const entries: Array<[CNode, CNode]> = [
    [u(0), u(3)],
    [u(1), u(pick([1, 2, 2, 0, 3]))],
    [u(2), { t: 'text', v: new TextEncoder().encode(pick([OUT_PORT, IN_PORT, IN_PORT, 'nope', 'a', 'x'.repeat(64)])) }]
  ]
  const filter = pick([undefined, [0], [CHANNELS - 1], [CHANNELS], [0, 5, 9], [3, 2], [], [2 ** 32 - 1]])
  if (filter !== undefined) entries.push([u(3), { t: 'array', v: filter.map(c => u(c)) }])
  const delay = pick([undefined, 0, 40_000, 2 ** 53 - 1, 2n ** 53n])
  if (delay !== undefined) entries.push([u(4), u(delay)])
  const maxEvents = pick([undefined, 4096, 4095, 10, 65536, 2 ** 32])
  if (maxEvents !== undefined) entries.push([u(5), u(maxEvents)])
  return { t: 'map', v: entries }
}

interface StreamPlan {
  bytes: Uint8Array
  /** Fuzzed frames in it (the valid prefix and the trailing close are not counted). */
  frames: number
}

/** What goes on one stream of a target. */
function plan (target: LiveTarget, rng: Prng, corpus: Corpus, all: MutateOptions, typed: (types: number[]) => MutateOptions): StreamPlan {
  const n = 1 + rng.int(3)
  const parts: Uint8Array[] = []
  let mo = all
  if (target === 'live.events') {
    const r = rng.int(10)
    if (r < 4) {
      parts.push(encodeFrame({ type: 'open', mode: 'push', port: IN_PORT }))
      mo = typed([6, 7, 8, 9])
    } else if (r < 6) {
      parts.push(encodeFrame({ type: 'open', mode: 'subscribe', port: OUT_PORT }))
    } else if (r < 8) {
      mo = typed([3])
    } else if (r < 9) {
      // An open built field by field: ports and modes that exist or not, filters and limits at their edges.
      parts.push(framed(writeTree(generatedOpen(rng))))
      mo = typed([6, 7, 8, 9])
    }
  } else if (target === 'live.describe') {
    if (rng.int(2) === 0) mo = typed([1])
  } else if (rng.int(10) < 7) mo = typed([10])
  for (let i = 0; i < n; i++) {
    parts.push(rng.int(8) === 0 ? mutateStream(rng, mo, corpus.frames) : framed(mutateBody(rng, mo).bytes))
  }
  if (target !== 'live.describe') parts.push(CLOSE_NORMAL)
  return { bytes: concat(parts), frames: n }
}

interface Outcome {
  /** close{code} or reject{code} from the node, or undefined. */
  code?: string
  end: 'closed' | 'reset' | 'hang'
  messages: number
}

async function runStream (node: Libp2p, addr: string, protocol: string, bytes: Uint8Array, deadlineMs: number): Promise<Outcome> {
  let stream: Stream
  try {
    stream = await node.dialProtocol(multiaddr(addr), protocol, { signal: AbortSignal.timeout(deadlineMs) })
  } catch (err) {
    // A refused stream (a per-connection limit) is the node's right; the caller watches for a node that
    // refuses everything.
    return { code: `dial-failed:${(err as Error).name}`, end: 'reset', messages: 0 }
  }
  const decoder = new FrameDecoder({ maxFrameBytes: 1024 * 1024 })
  let code: string | undefined
  let messages = 0
  stream.addEventListener('message', e => {
    try {
      for (const body of decoder.push(e.data)) {
        const m: Message = decodeMessage(body)
        messages++
        if ((m.type === 'close' || m.type === 'reject') && code === undefined) code = typeof m.code === 'string' ? m.code : `unregistered-${m.code}`
      }
    } catch {
      code ??= 'garbage-from-node'
    }
  })
  const ended = new Promise<Outcome['end']>(resolve => {
    const t = setTimeout(() => { resolve('hang') }, deadlineMs)
    stream.addEventListener('close', e => { clearTimeout(t); resolve(e.error === undefined ? 'closed' : 'reset') })
  })
  stream.addEventListener('remoteCloseWrite', () => { void stream.close().catch(() => {}) })
  try {
    if (!stream.send(bytes)) await stream.onDrain({ signal: AbortSignal.timeout(deadlineMs) })
    void stream.close({ signal: AbortSignal.timeout(deadlineMs) }).catch(() => {})
  } catch {
    // the node reset the stream while we were writing: the outcome says how
  }
  const end = await ended
  if (end === 'hang') stream.abort(new Error('fuzz: stream did not end in time'))
  return { code, end, messages }
}

/** A witness: a real spikewire node subscribed to the victim's out port. */
export class Witness {
  readonly node: SpikewireNode
  readonly sub: Subscription
  #lastBatch = 0
  maxGapMs = 0
  #watching = false

  private constructor (node: SpikewireNode, sub: Subscription) {
    this.node = node
    this.sub = sub
    sub.onBatch(() => {
      const now = performance.now()
      if (this.#watching && this.#lastBatch > 0) this.maxGapMs = Math.max(this.maxGapMs, now - this.#lastBatch)
      this.#lastBatch = now
    })
  }

  /** Subscribe to the victim's out port, then start its emitter: the witness must get every event. */
  static async start (victim: Victim): Promise<Witness> {
    const node = await createNode({ name: 'fuzz-witness', listen: ['/ip4/127.0.0.1/tcp/0'] })
    const sub = node.subscribe(victim.addr, OUT_PORT)
    await sub.ready()
    await victim.emit()
    return new Witness(node, sub)
  }

  watch (on: boolean): void {
    this.#watching = on
    this.#lastBatch = performance.now()
  }

  /** After the fuzzing: let the witness catch up with the emitter and check that nothing went missing. */
  async check (victim: Victim): Promise<WitnessReport> {
    this.watch(false)
    const problems: string[] = []
    await victim.quiet()
    const emitted = await victim.emitted()
    const end = Date.now() + 20_000
    while (this.sub.stats.events < emitted && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 20))
    const s = this.sub.stats
    if (s.events !== emitted) problems.push(`witness got ${s.events} of ${emitted} events`)
    if (s.gapEvents > 0) problems.push(`witness saw ${s.gapEvents} missing events`)
    if (s.lostEvents > 0) problems.push(`witness got loss notices for ${s.lostEvents} events`)
    if (s.reconnectGaps > 0) problems.push(`witness reconnected ${s.reconnectGaps} times`)
    let stillServing = false
    try {
      const d = await this.node.describe(victim.addr, { signal: AbortSignal.timeout(20_000) })
      const lib = await client()
      try {
        const o = await runStream(lib, victim.addr, CLOCK_PROTOCOL, concat([encodeFrame({ type: 'clock-request', id: 7, t1: 1 }), CLOSE_NORMAL]), 20_000)
        stillServing = d.ports.length === 2 && o.messages >= 1 && o.end !== 'hang'
      } finally {
        await lib.stop()
      }
    } catch (err) {
      problems.push(`the node no longer answers: ${(err as Error).message}`)
    }
    if (!stillServing && problems.length === 0) problems.push('the node did not answer describe and clock after the fuzzing')
    const exited = victim.exited()
    if (exited !== undefined) problems.push(`the node's process ended: ${exited}`)
    return {
      events: s.events, emitted, gapEvents: s.gapEvents, lostEvents: s.lostEvents, reconnects: s.reconnectGaps,
      maxGapMs: Math.round(this.maxGapMs), stillServing, problems
    }
  }

  async stop (): Promise<void> {
    await this.node.stop()
  }
}

/** Fuzz one live target; streams run `concurrency` at a time until `frames` fuzzed frames were sent. */
export async function runLiveTarget (target: LiveTarget, victim: Victim, o: LiveOptions): Promise<TargetReport & { streams: number }> {
  const deadlineMs = o.deadlineMs ?? 20_000
  // Below the node's inbound stream limits per connection (events 256, describe 8, clock 4).
  const concurrency = o.concurrency ?? (target === 'live.events' ? 16 : 2)
  const corpus = o.corpus
  const all: MutateOptions = { seeds: corpus.messages, corpus }
  const typedCache = new Map<string, MutateOptions>()
  const typed = (types: number[]): MutateOptions => {
    const key = types.join(',')
    let mo = typedCache.get(key)
    if (mo === undefined) {
      const seeds: Seed[] = types.flatMap(t => corpus.byType.get(t) ?? [])
      mo = { seeds: seeds.length > 0 ? seeds : corpus.messages, corpus }
      typedCache.set(key, mo)
    }
    return mo
  }
  const lib = await client()
  const root = new Prng(o.seed)
  const errors: Record<string, number> = {}
  const findings = new Map<string, Finding>()
  let crashes = 0
  let accepted = 0
  let frames = 0
  let streams = 0
  let next = 0
  let maxStreamMs = 0
  let lastStreamAt = performance.now()
  let stalled = false
  const note = (signature: string, frame: number, bytes: Uint8Array): void => {
    crashes++
    const f = findings.get(signature)
    if (f !== undefined) f.count++
    else findings.set(signature, { kind: signature.startsWith('hang') ? 'hang' : 'crash', frame, signature, hex: Buffer.from(bytes.subarray(0, 1024)).toString('hex'), count: 1 })
  }
  const start = performance.now()
  const worker = async (): Promise<void> => {
    while (frames < o.frames && victim.exited() === undefined) {
      const index = next++
      const p = plan(target, root.fork(index >>> 0), corpus, all, typed)
      frames += p.frames
      streams++
      const t0 = performance.now()
      const r = await runStream(lib, victim.addr, PROTOCOLS[target], p.bytes, deadlineMs)
      maxStreamMs = Math.max(maxStreamMs, performance.now() - t0)
      if (r.code?.startsWith('dial-failed') === true) {
        // The connection may have gone (the client dials again): a node that accepts no stream for 10 s
        // has stopped serving.
        if (performance.now() - lastStreamAt > 10_000 && !stalled) {
          stalled = true
          note(`the node accepted no stream for 10 s (${r.code})`, index, p.bytes)
        }
        await new Promise(resolve => setTimeout(resolve, 20))
      } else lastStreamAt = performance.now()
      if (r.end === 'hang') note(`hang: stream not ended within ${deadlineMs} ms${r.code === undefined ? '' : ` (${r.code})`}`, index, p.bytes)
      else if (r.code === 'internal-error' || r.code === 'garbage-from-node') note(`node answered ${r.code}`, index, p.bytes)
      else if (r.code === undefined || r.code === 'normal') accepted++
      if (r.code !== undefined) errors[r.code] = (errors[r.code] ?? 0) + 1
      else errors[r.end === 'reset' ? 'reset-without-close' : 'clean-end'] = (errors[r.end === 'reset' ? 'reset-without-close' : 'clean-end'] ?? 0) + 1
    }
  }
  try {
    // One connection first: concurrent first dials may race and leave streams on a duplicate that closes.
    await lib.dial(multiaddr(victim.addr), { signal: AbortSignal.timeout(deadlineMs) })
    await Promise.all(Array.from({ length: concurrency }, worker))
  } finally {
    await lib.stop()
  }
  if (victim.exited() !== undefined) note(`the node's process ended: ${victim.exited()}`, next, new Uint8Array())
  const seconds = (performance.now() - start) / 1000
  return {
    bench: 'fuzz',
    target,
    frames,
    streams,
    crashes,
    oracleFailures: 0,
    accepted,
    uniqueErrors: sortKeys(errors),
    framesPerSec: Math.round(frames / seconds),
    maxFrameMs: Math.round(maxStreamMs),
    seconds: Number(seconds.toFixed(2)),
    seed: o.seed,
    findings: [...findings.values()]
  }
}
