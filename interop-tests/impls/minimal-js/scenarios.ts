/**
 * What the minimal implementation does as the dialer of each scenario it supports. Each function
 * returns the fields of its result line (interop-tests/scenarios/*.ts names them).
 */
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { FrameReader, frame } from './frames.ts'
import { expectedEvents } from './generator.ts'
import type { Spec } from './generator.ts'
import { decodeMessage, encodeDescribeRequest } from './messages.ts'
import type { Rendezvous } from './rendezvous.ts'
import { Subscriber } from './subscriber.ts'
import type { Outcome, SubscribeInit } from './subscriber.ts'

export const EVENTS = '/spikewire/events/1.0.0'
const DESCRIBE = '/spikewire/describe/1.0.0'

export interface Run {
  libp2p: Libp2p
  addr: string
  params: Record<string, unknown>
  rv: Rendezvous
  /** ms left before the run's deadline. */
  left: () => number
}

type Fields = Record<string, unknown>

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function until (fn: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) return false
    await sleep(5)
  }
  return true
}

async function race<T> (p: Promise<T>, ms: number): Promise<T | undefined> {
  return await Promise.race([p, sleep(ms).then(() => undefined)])
}

async function subscribe (r: Run, init: SubscribeInit): Promise<Subscriber> {
  const stream = await r.libp2p.dialProtocol(multiaddr(r.addr), EVENTS, { signal: AbortSignal.timeout(5000) })
  return new Subscriber(stream, init)
}

function spec (p: Fields, seed = p.seed as number): Spec {
  return { seed, n: p.n as number, channels: p.channels as number, max_gap_us: p.max_gap_us as number, min_gap_us: p.min_gap_us as number | undefined, weighted: p.kind === 'weighted' }
}

/** Counts events that differ from the generator's, by sequence number; t0 is event 0's time. */
function checker (s: Spec): { check: (seq: number, ch: number[], t: number[], v?: number[]) => void, state: { mismatches: number, examples: string[], t0?: number } } {
  const want = expectedEvents(s)
  const state: { mismatches: number, examples: string[], t0?: number } = { mismatches: 0, examples: [] }
  return {
    state,
    check: (seq, ch, t, v) => {
      for (let i = 0; i < ch.length; i++) {
        const k = seq + i
        if (k === 0) state.t0 = t[i]
        const w = want[k]
        const t0 = state.t0 ?? (w === undefined ? 0 : t[i] - w.offset)
        if (w === undefined || w.channel !== ch[i] || t0 + w.offset !== t[i] || w.value !== v?.[i]) {
          state.mismatches++
          if (state.examples.length < 3) state.examples.push(`event ${k}: got [${ch[i]}, ${t[i]}, ${v?.[i]}]`)
        }
      }
    }
  }
}

export async function describe (r: Run): Promise<Fields> {
  const conn = await r.libp2p.dial(multiaddr(r.addr), { signal: AbortSignal.timeout(5000) })
  const stream = await conn.newStream(DESCRIBE, { signal: AbortSignal.timeout(5000) })
  const reader = new FrameReader()
  const got = new Promise<Fields>((resolve, reject) => {
    stream.addEventListener('message', e => {
      try {
        const bodies = reader.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())
        if (bodies.length > 0) resolve(decodeMessage(bodies[0]))
      } catch (err) {
        reject(err as Error)
      }
    })
    stream.addEventListener('close', () => { reject(new Error('the describe stream ended without a description')) })
  })
  stream.send(frame(encodeDescribeRequest()))
  const d = await got
  await stream.close().catch(() => {})
  if (d.type !== 'description') throw new Error(`expected a description, got ${d.type}`)
  return { description: d, peer: conn.remotePeer.toString() }
}

export async function receive (r: Run): Promise<Fields> {
  const s = spec(r.params)
  const c = checker(s)
  const sub = await subscribe(r, { port: r.params.port as string, maxEvents: 4096, onBatch: (seq, ev) => { c.check(seq, ev.channels, ev.times, ev.values) } })
  if (await sub.accepted === undefined) throw new Error('the subscription was not accepted')
  await until(() => sub.stats.received >= s.n, Math.min(r.left(), Number(r.params.wait_ms ?? 8000)))
  await race(sub.close(), 3000)
  return { received: sub.stats.received, mismatches: c.state.mismatches, examples: c.state.examples, gap: sub.stats.gap, lost: sub.stats.lost, t0: c.state.t0 }
}

export async function watermarks (r: Run): Promise<Fields> {
  const marks: Array<[number, number]> = []
  const sub = await subscribe(r, { port: r.params.port as string, onWatermark: t => { marks.push([t, performance.now()]) } })
  await sub.accepted
  await sleep(Math.min(r.left(), r.params.duration_ms as number))
  await race(sub.close(), 3000)
  let maxInterval = 0
  for (let i = 1; i < marks.length; i++) maxInterval = Math.max(maxInterval, marks[i][1] - marks[i - 1][1])
  const [first, last] = [marks[0], marks[marks.length - 1]]
  return {
    watermarks: marks.length,
    monotonic: marks.every((m, i) => i === 0 || m[0] >= marks[i - 1][0]),
    max_interval_ms: Math.round(maxInterval),
    advanced_us: marks.length > 1 ? last[0] - first[0] : 0,
    elapsed_us: marks.length > 1 ? Math.round((last[1] - first[1]) * 1000) : 0
  }
}

export async function pausedSubscriber (r: Run): Promise<Fields> {
  const s = spec(r.params)
  const c = checker(s)
  const sub = await subscribe(r, { port: r.params.port as string, maxEvents: 4096, onBatch: (seq, ev) => { c.check(seq, ev.channels, ev.times) } })
  if (await sub.accepted === undefined) throw new Error('the subscription was not accepted')
  sub.pause()
  await r.rv.put('paused', true)
  await sleep(r.params.pause_ms as number)
  sub.resume()
  await until(() => sub.stats.expected >= s.n, Math.min(r.left(), Number(r.params.wait_ms ?? 10_000)))
  await race(sub.close(), 3000)
  return { received: sub.stats.received, lost: sub.stats.lost, gap: sub.stats.gap, loss_notices: sub.stats.lossNotices, mismatches: c.state.mismatches, examples: c.state.examples }
}

export async function refused (r: Run): Promise<Fields> {
  const attempts: Fields[] = []
  const once = async (port: string): Promise<Outcome & { accepted: boolean }> => {
    const sub = await subscribe(r, { port })
    const accepted = await race(sub.accepted, 5000) !== undefined
    if (accepted) await race(sub.close(), 3000)
    return { ...(await race(sub.ended, 3000) ?? { end: 'reset' }), accepted }
  }
  for (const a of r.params.attempts as Array<{ mode: string, port: string }>) {
    if (a.mode !== 'subscribe') continue
    const o = await once(a.port)
    attempts.push({ ...a, outcome: o.accepted ? 'accepted' : o.end === 'rejected' ? 'rejected' : 'failed', code: o.code })
  }
  const control = await once(r.params.control as string)
  return { attempts, control: control.accepted ? 'accepted' : control.end }
}

export async function unknownVersion (r: Run): Promise<Fields> {
  const conn = await r.libp2p.dial(multiaddr(r.addr), { signal: AbortSignal.timeout(5000) })
  let refusedName = ''
  try {
    const s = await conn.newStream(r.params.unknown as string, { signal: AbortSignal.timeout(5000) })
    s.abort(new Error('not expected to be negotiated'))
  } catch (err) {
    refusedName = (err as Error).name
  }
  const stream = await conn.newStream([r.params.unknown as string, EVENTS], { signal: AbortSignal.timeout(5000) })
  const sub = new Subscriber(stream, { port: r.params.port as string })
  const accepted = await race(sub.accepted, 5000) !== undefined
  await race(sub.close(), 3000)
  return { unknown_refused: refusedName !== '', unknown_error: refusedName, fallback_protocol: stream.protocol, fallback_accepted: accepted }
}

export async function probe (r: Run): Promise<Fields> {
  const timeoutMs = Number(r.params.case_timeout_ms ?? 3000)
  let marks = 0
  const witness = await subscribe(r, { port: r.params.witness_port as string, onWatermark: () => { marks++ } })
  const witnessAccepted = await race(witness.accepted, 5000) !== undefined
  const probes: Fields[] = []
  for (const c of r.params.cases as Array<{ port?: string, subscribe?: { channels?: number[], max_events: number } }>) {
    if (c.port === undefined) continue
    let events = 0
    const sub = await subscribe(r, { port: c.port, channels: c.subscribe?.channels, maxEvents: c.subscribe?.max_events ?? 4096, onBatch: (_seq, ev) => { events += ev.channels.length } })
    let o = await race(sub.ended, timeoutMs)
    if (o === undefined) {
      void sub.close()
      o = { end: 'timeout' as Outcome['end'] }
    }
    probes.push({ port: c.port, end: o.end === 'reset' ? 'failed' : o.end, code: o.code, events, gap: sub.stats.gap, lost: sub.stats.lost })
  }
  const before = marks
  await sleep(300)
  const alive = marks > before
  const result = { probes, witness: { accepted: witnessAccepted, alive_at_end: alive, watermarks_after_cases: marks - before } }
  await race(witness.close(), 3000)
  return result
}

export async function reconnecting (r: Run): Promise<Fields> {
  const before = r.params.before as number
  const after = r.params.after as number
  const counts = { connects: 0, abnormal: 0, before: 0, after: 0 }
  let brokeAt = 0
  let reconnectMs = -1
  let told = false
  let current: Subscriber | undefined
  const deadline = Date.now() + Math.min(r.left(), Number(r.params.wait_ms ?? 8000))
  while (Date.now() < deadline && counts.after < after) {
    try {
      const first = counts.connects === 0
      current = await subscribe(r, { port: r.params.port as string, onBatch: (_s, ev) => { if (first) counts.before += ev.channels.length; else counts.after += ev.channels.length } })
      if (await race(current.accepted, 3000) === undefined) throw new Error('not accepted')
      counts.connects++
      if (brokeAt > 0 && reconnectMs < 0) reconnectMs = Math.round(performance.now() - brokeAt)
      for (;;) {
        if (!told && counts.before >= before) {
          told = true
          await r.rv.put('received-before', true)
        }
        const o = await race(current.ended, 20)
        if (o !== undefined) {
          if (o.end !== 'closed') {
            counts.abnormal++
            brokeAt = performance.now()
          }
          break
        }
        if (counts.after >= after || Date.now() > deadline) break
      }
    } catch {
      await sleep(50)
    }
  }
  if (current !== undefined) await race(current.close(), 2000)
  return { connects: counts.connects, abnormal_ends: counts.abnormal, events_before: counts.before, events_after: counts.after, reconnect_ms: reconnectMs }
}

export async function closeBothWays (r: Run): Promise<Fields> {
  const each = r.params.events_each as number
  const wait = (): number => Math.min(r.left(), Number(r.params.wait_ms ?? 6000))
  const phase = async (listenerCloses: boolean): Promise<Fields> => {
    let events = 0
    const sub = await subscribe(r, { port: r.params.port as string, onBatch: (_s, ev) => { events += ev.channels.length } })
    await sub.accepted
    await until(() => events >= each, wait())
    let o: Outcome | undefined
    if (listenerCloses) {
      await r.rv.put('phase2', true)
      o = await race(sub.ended, wait())
    } else {
      o = await race(sub.close(), wait())
    }
    const end = o === undefined ? 'not closed' : o.end === 'closed' ? 'clean' : o.end
    return listenerCloses ? { end, close_code: o?.code ?? 'none', events } : { end, events }
  }
  return { phase1: await phase(false), phase2: await phase(true) }
}
