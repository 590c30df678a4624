/**
 * What `spikewire node` prints while it runs: link and subscription status changes, gaps and losses,
 * refusals, and periodic port/link statistics.
 */
import type { Hosted } from '../hosting/start.ts'
import type { SpikewireNode } from '../node/node.ts'
import type { PushLink } from '../protocols/events/push-link.ts'
import type { Subscription } from '../protocols/events/subscription.ts'
import { statusJson, statusText } from './format.ts'
import type { Lines } from './output.ts'

/** Print the lifecycle of every configured subscription and push link, and every refusal. */
export function watchNode (hosted: Hosted, lines: Lines): void {
  const { node } = hosted
  for (const { config: c, subscription } of hosted.subscriptions) watchSubscription(subscription, c.from, c.port, c.to, lines)
  for (const { config: c, link } of hosted.links) watchLink(link, c.from, c.to, c.port, lines)
  node.addEventListener('relay', e => {
    const r = e.detail
    const text = r.state === 'reserved' ? `reserved, reachable at ${r.addresses.join(', ')}` : `${r.state}${r.lastError === undefined ? '' : ` (${r.lastError})`}`
    lines.print({ event: 'relay', ...r }, `relay ${r.relay}: ${text}`)
  })
  node.addEventListener('refused', e => {
    const r = e.detail
    const what = r.what === 'open' ? `an open of port ${r.port ?? '?'}` : r.what === 'connection' ? 'a connection' : `a ${r.what} stream`
    lines.print({ event: 'refused', ...r }, `refused ${what} from ${r.peer}: ${r.code} (${r.reason})`)
  })
}

function watchSubscription (s: Subscription, from: string, port: string, to: string, lines: Lines): void {
  const name = `subscription ${from} ${port} -> ${to}`
  const ids = { from, port, to }
  lines.print({ event: 'subscription', ...ids, ...statusJson({ state: s.state, attempt: 0 }) }, `${name}: ${s.state}`)
  s.addEventListener('status', e => {
    lines.print({ event: 'subscription', ...ids, ...statusJson(e.detail) }, `${name}: ${statusText(e.detail)}`)
  })
  s.addEventListener('gap', e => {
    const g = e.detail
    if (g.reason === 'sequence') {
      lines.print({ event: 'gap', ...ids, reason: g.reason, missing: g.missing }, `${name}: ${g.missing ?? '?'} events missing`)
    } else {
      const ms = ((g.toUs ?? 0) - (g.fromUs ?? 0)) / 1000
      lines.print({ event: 'gap', ...ids, reason: g.reason, gap_ms: ms }, `${name}: back after ${ms.toFixed(1)} ms without data`)
    }
  })
  s.addEventListener('loss', e => {
    lines.print({ event: 'loss', ...ids, count: e.detail.count, reason: e.detail.reason }, `${name}: publisher dropped ${e.detail.count} events (${String(e.detail.reason)})`)
  })
}

function watchLink (l: PushLink, from: string, to: string, port: string, lines: Lines): void {
  const name = `link ${from} -> ${to} ${port}`
  const ids = { from, to, port }
  lines.print({ event: 'link', ...ids, ...statusJson({ state: l.state, attempt: 0 }) }, `${name}: ${l.state}`)
  l.addEventListener('status', e => {
    lines.print({ event: 'link', ...ids, ...statusJson(e.detail) }, `${name}: ${statusText(e.detail)}`)
  })
}

/** Prints statistics with per-second rates since the previous call. */
export class StatsReporter {
  readonly #node: SpikewireNode
  readonly #lines: Lines
  readonly #last = new Map<string, number>()
  readonly #partLines: (parts: Record<string, unknown>) => string[]
  #lastUs: number

  /** `partLines` turns the counts of attached parts (node.stats().parts, e.g. a gateway's) into text lines. */
  constructor (node: SpikewireNode, lines: Lines, partLines: (parts: Record<string, unknown>) => string[] = () => []) {
    this.#node = node
    this.#lines = lines
    this.#partLines = partLines
    this.#lastUs = node.clock.nowUs()
  }

  /** Print one report; `final` marks the one printed when the node stops. */
  report (final = false): void {
    const now = this.#node.clock.nowUs()
    const dt = Math.max(now - this.#lastUs, 1) / 1e6
    this.#lastUs = now
    const rate = (key: string, total: number): number => {
      const r = (total - (this.#last.get(key) ?? 0)) / dt
      this.#last.set(key, total)
      return Math.round(r * 10) / 10
    }
    const human: string[] = []
    const ports: Array<Record<string, unknown>> = []
    for (const [name, { port }] of this.#node.outPorts) {
      const s = port.stats
      const r = rate(`out/${name}`, s.emitted)
      ports.push({ name, direction: 'out', ...s, rate: r })
      human.push(`stats out ${name}: ${s.emitted} emitted (${r}/s), ${s.streams} streams, ${s.refused} refused`)
    }
    for (const [name, port] of this.#node.inPorts) {
      const s = port.stats
      const r = rate(`in/${name}`, s.events)
      ports.push({ name, direction: 'in', ...s, rate: r })
      human.push(`stats in ${name}: ${s.events} received (${r}/s), ${s.streams} streams, ${s.gapEvents} missing, ${s.lostEvents} lost`)
    }
    const links = [...this.#node.links].map((l, i) => {
      const r = rate(`link/${i}`, l.stats.events)
      human.push(`stats link ${l.port.name} -> ${l.remotePort}: ${l.state}, ${l.stats.events} sent (${r}/s), ${l.stats.dropped} dropped, ${l.stats.connects} connects`)
      return { from: l.port.name, port: l.remotePort, state: l.state, ...l.stats, rate: r }
    })
    const subscriptions = [...this.#node.subscriptions].map((s, i) => {
      const r = rate(`sub/${i}`, s.stats.events)
      human.push(`stats subscription ${s.port}: ${s.state}, ${s.stats.events} received (${r}/s), ${s.stats.gapEvents} missing, ${s.stats.lostEvents} lost, ${s.stats.reconnectGaps} reconnects`)
      return { port: s.port, peer: s.peer, state: s.state, ...s.stats, rate: r }
    })
    const refused = this.#node.refusals
    if (refused.connections + refused.opens + refused.describe + refused.clock > 0) {
      human.push(`stats refused: ${refused.connections} connections (allow list), ${refused.opens} opens, ${refused.describe} describe streams, ${refused.clock} clock streams`)
    }
    // The connection guard's counts (spec §11.4): sockets and connections refused per address or peer, idle
    // connections closed.
    const all = this.#node.stats()
    const guard = all.connections
    if (guard !== undefined && guard.refusedPending + guard.refusedAddress + guard.refusedPeer + guard.prunedIdle + guard.prunedPressure > 0) {
      human.push(`stats connections: ${guard.refusedPending + guard.refusedAddress} sockets refused before the handshake ` +
        `(${guard.refusedPending} too many handshakes, ${guard.refusedAddress} too many connections from one address), ` +
        `${guard.refusedPeer} connections refused (too many from one peer), ` +
        `${guard.prunedIdle + guard.prunedPressure} idle connections closed (${guard.prunedPressure} to make room); ` +
        `${guard.inbound} inbound, ${guard.pending} handshaking now`)
    }
    if (all.parts !== undefined) human.push(...this.#partLines(all.parts))
    if (human.length === 0) human.push('stats: no ports, links or subscriptions')
    this.#lines.print({ event: 'stats', ...(final ? { final: true } : {}), ports, links, subscriptions, refused, ...(guard === undefined ? {} : { connections: guard }), ...(all.parts === undefined ? {} : { parts: all.parts }) }, human.join('\n'))
  }
}
