/**
 * Adversarial cases: the failure vectors turned into instructions for an adversarial peer, which writes
 * the bytes on a live events stream, and the outcome the implementation under test must produce.
 *
 * A case is explicit enough for an adversary in any language to be a byte pump:
 * - `open`: (adversary dials) frames to write first; the adversary then waits for the accept.
 * - `port`: (adversary listens) the port the dialer under test opens for this case; the adversary
 *   waits for that open before it writes anything.
 * - `frames`: written in order, one write each: hex strings, or a padded batch (oversize cases).
 * - `end_write`: close the write side after the frames.
 */
import type { Impl } from './manifest.ts'
import { areaOf, frameHex, loadIndex, loadVector } from './vectors.ts'
import type { Vector } from './vectors.ts'
import { acceptHex, closeHex, openHex, renamePortInAccept, smallBatchHex, watermarkHex, T0 } from './wire.ts'

/** A frame built by the adversary: the map `batch_hex` gets key 99 with zero bytes up to `body_length`. */
export interface PaddedFrame {
  pad_batch_hex: string
  body_length: number
  /** Write only the length prefix (the body never comes). */
  prefix_only?: boolean
}

export type FrameSpec = string | PaddedFrame

export interface Expectation {
  /** true: the implementation under test must end the stream with `code`. */
  fail: boolean
  code?: string
  /** A reject with the code (then a closed write side) is also right (§9.2.2, invalid opens). */
  reject_ok?: boolean
  /** The case is rejected by reject{code}, not close{code} (open-fail-12). */
  reject_only?: boolean
  /** The implementation had closed its write side before the fault: a reset without close is right. */
  close_optional?: boolean
  /** Valid cases: the unreported gap the dialer under test must count. */
  gap?: number
  /** Valid cases: the dialer under test must see the open refused. */
  rejected?: boolean
  /** Valid cases: events the implementation under test must receive. */
  events?: number
}

export interface AdversaryCase {
  id: string
  open?: string
  port?: string
  /** For the dialer under test: how it must open `port`. */
  subscribe?: { channels?: number[], max_events: number }
  frames: FrameSpec[]
  end_write: boolean
  expect: Expectation
}

/** What the adversary saw on one case's stream (its result line lists these). */
export interface CaseOutcome {
  id: string
  /** Adversary dialed: the implementation accepted the open before the faulty bytes. */
  accepted?: boolean
  /** Adversary listened: the open it received, in the vectors' JSON mapping. */
  open?: Record<string, unknown>
  /** Messages the implementation sent, in order: type, and code for close and reject. */
  received: Array<{ type: string, code?: string | number }>
  end: 'reset' | 'closed' | 'timeout'
  error?: string
}

const STIM: Record<'spike' | 'weighted', string> = { spike: 'stim', weighted: 'wstim' }

function framesOfVector (v: Vector): string[] {
  if (v.frame_hex !== undefined) return [v.frame_hex]
  return [frameHex(v.cbor_hex!)]
}

function failIds (areas: string[]): Vector[] {
  return loadIndex().filter(e => e.fail && areas.includes(e.area)).map(e => loadVector(e.id))
}

function frameLimitOk (v: Vector, impl: Impl): boolean {
  return v.context?.max_frame === undefined || v.context.max_frame === impl.maxFrameBytes
}

/**
 * Cases for a listener under test: the adversary dials it. Framing, CBOR, open and close failures are the
 * first bytes of a stream; batch, watermark, loss and stream failures follow an accepted push.
 */
export function casesForListener (iut: Impl): { cases: AdversaryCase[], skipped: string[] } {
  const cases: AdversaryCase[] = []
  const skipped: string[] = []
  for (const v of failIds(['framing', 'cbor', 'open', 'close'])) {
    if (!frameLimitOk(v, iut)) {
      skipped.push(`${v.id}: the listener's max frame is ${iut.maxFrameBytes}, the vector's ${v.context!.max_frame}`)
      continue
    }
    const area = areaOf(v.id)
    cases.push({
      id: v.id,
      frames: framesOfVector(v),
      end_write: area === 'framing',
      expect: {
        fail: true,
        code: v.code,
        reject_ok: area === 'open' && v.code === 'invalid-message',
        reject_only: area === 'open' && v.code !== 'invalid-message'
      }
    })
  }
  for (const v of failIds(['batch', 'watermark', 'loss'])) {
    const kind = v.context?.kind ?? 'spike'
    cases.push({
      id: v.id,
      open: frameHex(openHex('push', STIM[kind], v.context?.filter)),
      frames: framesOfVector(v),
      end_write: false,
      expect: { fail: true, code: v.code }
    })
  }
  for (const v of failIds(['stream'])) {
    const msgs = v.messages_hex!.slice(0, v.fail_at! + 1)
    const first = v.messages![0].type
    if (first === 'reject') {
      skipped.push(`${v.id}: starts with a reject, which only an acceptor sends`)
      continue
    }
    const pushed = first === 'accept'
    const sent = pushed ? msgs.slice(1) : msgs
    const sentTypes = (pushed ? v.messages!.slice(1) : v.messages!).slice(0, sent.length - 1).map(m => m.type)
    cases.push({
      id: v.id,
      open: pushed ? frameHex(openHex('push', STIM[v.context?.kind ?? 'spike'], v.context?.filter)) : undefined,
      frames: sent.map(frameHex),
      end_write: false,
      expect: { fail: true, code: v.code, close_optional: sentTypes.includes('close') }
    })
  }
  return { cases, skipped }
}

/**
 * Cases for a dialer under test: it subscribes to a port named after each case on the adversary, which
 * answers with the vector's bytes instead of (or after) an accept. Valid stream vectors are included as
 * controls: the dialer must accept them and count their gap.
 */
export function casesForDialer (iut: Impl): { cases: AdversaryCase[], skipped: string[] } {
  const cases: AdversaryCase[] = []
  const skipped: string[] = []
  const portOf = (id: string): string => `v-${id}`
  for (const v of failIds(['framing', 'cbor', 'accept', 'reject', 'close'])) {
    if (!frameLimitOk(v, iut)) {
      skipped.push(`${v.id}: the dialer's max frame is ${iut.maxFrameBytes}, the vector's ${v.context!.max_frame}`)
      continue
    }
    cases.push({
      id: v.id,
      port: portOf(v.id),
      subscribe: { max_events: 4096 },
      frames: framesOfVector(v),
      end_write: areaOf(v.id) === 'framing',
      expect: { fail: true, code: v.code }
    })
  }
  for (const v of failIds(['batch', 'watermark', 'loss'])) {
    const ctx = v.context ?? {}
    const sub: AdversaryCase['subscribe'] = { max_events: ctx.max_events ?? 4096 }
    if (ctx.filter !== undefined) sub.channels = ctx.filter
    cases.push({
      id: v.id,
      port: portOf(v.id),
      subscribe: sub,
      frames: [frameHex(acceptHex(portOf(v.id), ctx.kind ?? 'spike', ctx.channels ?? 16)), ...framesOfVector(v)],
      end_write: false,
      expect: { fail: true, code: v.code }
    })
  }
  for (const e of loadIndex().filter(x => x.area === 'stream')) {
    const v = loadVector(e.id)
    const port = portOf(v.id)
    const sub: AdversaryCase['subscribe'] = { max_events: v.context?.max_events ?? 4096 }
    if (v.context?.filter !== undefined) sub.channels = v.context.filter
    const msgs = v.messages_hex!.map((h, i) => v.messages![i].type === 'accept' ? renamePortInAccept(h, String(v.messages![i].port), port) : h)
    const types = v.messages!.map(m => m.type)
    if (v.fail) {
      const upTo = msgs.slice(0, v.fail_at! + 1)
      const before = types.slice(0, v.fail_at!)
      cases.push({
        id: v.id,
        port,
        subscribe: sub,
        frames: upTo.map(frameHex),
        end_write: false,
        expect: { fail: true, code: v.code, close_optional: before.includes('close') || before.includes('reject') }
      })
    } else {
      const last = types[types.length - 1]
      const ends = last === 'close' || last === 'reject'
      cases.push({
        id: v.id,
        port,
        subscribe: sub,
        frames: [...msgs, ...(ends ? [] : [closeHex(0)])].map(frameHex),
        end_write: true,
        expect: { fail: false, gap: v.gap ?? 0, rejected: last === 'reject' }
      })
    }
  }
  return { cases, skipped }
}

const MIB = 1024 * 1024

/** A batch of 3 events padded to `length` bytes of frame body. */
function padded (length: number, prefixOnly = false): PaddedFrame {
  const f: PaddedFrame = { pad_batch_hex: smallBatchHex(0, 3), body_length: length }
  if (prefixOnly) f.prefix_only = true
  return f
}

/**
 * Oversize frames (spec §5.2, §5.3): a frame of exactly the receiver's 1 MiB must be accepted; one byte
 * more is frame-too-large, decided from the prefix (a prefix without a body gets the same answer).
 */
export function oversizeCases (toListener: boolean): AdversaryCase[] {
  const acceptFor = (port: string): string[] => toListener ? [] : [frameHex(acceptHex(port, 'spike', 16))]
  const base = (id: string): Pick<AdversaryCase, 'id' | 'open' | 'port' | 'subscribe'> => toListener
    ? { id, open: frameHex(openHex('push', 'stim')) }
    : { id, port: `v-${id}`, subscribe: { max_events: 4096 } }
  return [
    {
      ...base('oversize-exact'),
      frames: [...acceptFor('v-oversize-exact'), padded(MIB), frameHex(watermarkHex(3, T0 + 100)), frameHex(closeHex(0))],
      end_write: true,
      expect: { fail: false, events: 3, gap: 0 }
    },
    { ...base('oversize-plus-one'), frames: [...acceptFor('v-oversize-plus-one'), padded(MIB + 1)], end_write: false, expect: { fail: true, code: 'frame-too-large' } },
    { ...base('oversize-prefix-only'), frames: [...acceptFor('v-oversize-prefix-only'), padded(16 * MIB, true)], end_write: false, expect: { fail: true, code: 'frame-too-large' } }
  ]
}

/** Judge one case from what the adversary saw; returns the reason it failed, or undefined. */
export function judgeCase (c: AdversaryCase, o: CaseOutcome | undefined): string | undefined {
  if (o === undefined) return `${c.id}: the adversary reported no outcome`
  const closes = o.received.filter(m => m.type === 'close')
  const rejects = o.received.filter(m => m.type === 'reject')
  const got = `got ${JSON.stringify(o.received)} then ${o.end}${o.error === undefined ? '' : ` (${o.error})`}`
  if (c.open !== undefined && o.accepted !== true) {
    return `${c.id}: the push open was not accepted before the case (${got})`
  }
  if (!c.expect.fail) {
    const bad = [...closes, ...rejects].find(m => m.code !== 'normal' && m.code !== 0)
    if (bad !== undefined) return `${c.id}: a valid stream was ended with ${String(bad.code)} (${got})`
    if (o.end === 'timeout') return `${c.id}: a valid stream did not end (${got})`
    return undefined
  }
  const code = c.expect.code
  if (c.expect.reject_only) {
    return rejects.some(m => m.code === code) ? undefined : `${c.id}: want reject{${code}}, ${got}`
  }
  if (c.expect.reject_ok === true && rejects.some(m => m.code === code) && o.end !== 'timeout') return undefined
  const wrong = [...closes, ...rejects].find(m => m.code !== code)
  if (wrong !== undefined) return `${c.id}: want close{${code}} and a reset, ${got}`
  if (o.end !== 'reset') return `${c.id}: want close{${code}} and a reset, ${got}`
  if (closes.length === 0 && c.expect.close_optional !== true) return `${c.id}: reset without close{${code}}, ${got}`
  return undefined
}
