/**
 * Replay of an XDF recording: each recorded spikewire stream becomes an out port of a node again, and its
 * events are emitted paced in real time (or `speed` times faster), every interval kept: an event recorded at
 * T (µs, the publisher's clock) is emitted with time start + (T − T0) / speed, rounded to the µs, where T0 is
 * the earliest recorded time of the file. At speed 1 every interval is the recorded one exactly.
 */
import { logger } from '@libp2p/logger'
import { PORT_NAME_PATTERN } from '../codec/constants.ts'
import type { KindName } from '../codec/constants.ts'
import type { ModelInfo, Param } from '../codec/messages.ts'
import type { SpikewireNode } from '../node/node.ts'
import type { OutPort } from '../ports/out-port.ts'
import { child, textAt } from '../xdf/xml.ts'
import type { XdfFile, XdfStream } from '../xdf/reader.ts'

const log = logger('spikewire:replay')

export interface ReplayStream {
  stream: XdfStream
  port: string
  kind: KindName
  channels: number
  model: ModelInfo | undefined
  /** Event times, integer µs since the epoch (time_origin_us + stamp · 1e6), as recorded. */
  timesUs: Float64Array
}

/** The recorded spikewire streams of a file, with the port each is served as (unique names: -2, -3 … on repeats). */
export function replayStreams (file: XdfFile): ReplayStream[] {
  const used = new Set<string>()
  const out: ReplayStream[] = []
  for (const s of file.streams) {
    const sw = child(s.header.desc, 'spikewire')
    const kind = textAt(sw, 'kind')
    if (sw === undefined || (kind !== 'spike' && kind !== 'weighted')) continue
    const f = s.header.channelFormat
    if (kind === 'spike' ? s.header.channelCount !== 1 || f === 'string' : s.header.channelCount !== 2 || f === 'string') continue
    let base = textAt(sw, 'port') ?? s.header.name
    if (!PORT_NAME_PATTERN.test(base)) base = `stream-${s.id}`
    let port = base
    for (let k = 2; used.has(port); k++) port = `${base}-${k}`
    used.add(port)
    const channels = Number(textAt(sw, 'channels'))
    let maxCh = -1
    for (const c of s.columns[0]) if (c > maxCh) maxCh = c
    const m = child(sw, 'model')
    const model: ModelInfo | undefined = m === undefined
      ? undefined
      : {
          name: textAt(m, 'name') ?? '',
          params: m.children.filter(c => c.name === 'param').map(p => [textAt(p, 'name') ?? '', Number(textAt(p, 'value')), textAt(p, 'unit') ?? ''] as Param).filter(p => Number.isFinite(p[1]))
        }
    const origin = Number(textAt(sw, 'time_origin_us') ?? '0')
    const timesUs = new Float64Array(s.count)
    for (let i = 0; i < s.count; i++) timesUs[i] = (Number.isFinite(origin) ? origin : 0) + Math.round(s.times[i] * 1e6)
    out.push({ stream: s, port, kind, channels: Number.isInteger(channels) && channels > maxCh ? channels : maxCh + 1, model, timesUs })
  }
  return out
}

export interface ReplayInit {
  node: SpikewireNode
  streams: ReplayStream[]
  /** Playback speed (default 1). */
  speed?: number
  /** Events are emitted this early, µs (default 2000): the emitted time is exact, only the send is early. */
  leadUs?: number
  signal?: AbortSignal
}

export interface ReplayStats {
  port: string
  events: number
  emitted: number
  refused: number
}

/** Add the out ports (before the node is reachable for subscribers). */
export function addReplayPorts (node: SpikewireNode, streams: ReplayStream[]): Map<string, OutPort> {
  const ports = new Map<string, OutPort>()
  for (const s of streams) ports.set(s.port, node.addOutPort({ name: s.port, channels: Math.max(1, s.channels), kind: s.kind, model: s.model }))
  return ports
}

/** Emit every event at its time; resolves when all are emitted (or the signal aborts). */
export async function replay (init: ReplayInit, ports: Map<string, OutPort>): Promise<ReplayStats[]> {
  const { node, streams } = init
  const speed = init.speed ?? 1
  const lead = init.leadUs ?? 2000
  let t0 = Infinity
  for (const s of streams) if (s.timesUs.length > 0) t0 = Math.min(t0, s.timesUs[0])
  const start = Math.round(node.clock.nowUs() + 50_000)
  const next = streams.map(() => 0)
  const due = (s: ReplayStream, i: number): number => start + Math.round((s.timesUs[i] - t0) / speed)
  const stats = streams.map(s => ({ port: s.port, events: s.timesUs.length, emitted: 0, refused: 0 }))
  let sinceYield = 0
  for (;;) {
    if (init.signal?.aborted === true) break
    // The stream whose next event is due first.
    let k = -1
    let kDue = Infinity
    for (let j = 0; j < streams.length; j++) {
      if (next[j] < streams[j].timesUs.length) {
        const d = due(streams[j], next[j])
        if (d < kDue) { kDue = d; k = j }
      }
    }
    if (k < 0) break
    const wait = kDue - lead - node.clock.nowUs()
    if (wait > 0) {
      await new Promise(resolve => setTimeout(resolve, Math.max(1, Math.floor(wait / 1000))))
      continue
    }
    const s = streams[k]
    const port = ports.get(s.port)!
    const i = next[k]++
    const ch = s.stream.columns[0][i]
    const ok = s.kind === 'spike' ? port.emit(ch, kDue) : port.emit(ch, kDue, s.stream.columns[1][i])
    if (ok) stats[k].emitted++
    else stats[k].refused++
    // Let the ports' flushes run between long runs of due events.
    if (++sinceYield >= 1000) {
      sinceYield = 0
      await new Promise(resolve => setImmediate(resolve))
    }
  }
  for (const p of ports.values()) p.flush()
  log('replay done: %o', stats)
  return stats
}
