/**
 * The 2020 UDP gateway: a UDP socket beside a spikewire node (docs/gateway-udp2020.md). Datagrams from
 * each configured sender code become events of that sender's own weighted `out` port (channel = neuron
 * id, value = event type, time rebuilt from the deltas by a Timeline); `R` datagrams register their
 * address for replies; events of the configured subscriptions leave as `S` datagrams from the same
 * socket. Every datagram that does not become an event is counted by reason and reported, never thrown.
 */
import { createSocket } from 'node:dgram'
import type { RemoteInfo, Socket } from 'node:dgram'
import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import type { Stoppable } from '../../base/service.ts'
import type { SpikewireNode } from '../../node/node.ts'
import type { OutPort } from '../../ports/out-port.ts'
import { OUT_PORT } from '../../wire/defaults.ts'
import { parseUdpAddress, UDP2020 } from './config.ts'
import type { SenderConfig, Udp2020Config, UdpAddress } from './config.ts'
import { CODE, DATAGRAM_BYTES, EVENT_TYPES, TICK_US, datagramHex, decodeDatagram } from './datagram.ts'
import type { MalformedReason } from './datagram.ts'
import { Replies } from './replies.ts'
import type { ReplyStats } from './replies.ts'
import { Timeline } from './timeline.ts'
import type { ReanchorReason } from './timeline.ts'

const log = logger('spikewire:gateway:udp2020')

export type { ReplyStats } from './replies.ts'

export interface SenderStats {
  code: string
  port: string
  /** Events emitted on the port. */
  events: number
  /** Events whose rebuilt time was raised to keep the port's times in order (after a re-anchor). */
  clamped: number
  /** Events the port refused (should stay 0). */
  refused: number
  /** Arrival minus rebuilt time of the last event, µs. */
  lagUs: number
  /** The address the sender's last datagram came from. */
  source?: string
  reanchors: Record<ReanchorReason, number>
}

export interface Udp2020Stats {
  listen: string
  /** Datagrams received, of any kind. */
  datagrams: number
  /** Events emitted on the sender ports (all senders). */
  events: number
  /** `R` datagrams received. */
  ready: number
  /** Datagrams that did not become an event, by reason. */
  malformed: Record<MalformedReason, number>
  /** Addresses registered by `R`, oldest first. */
  registered: string[]
  senders: Record<string, SenderStats>
  replies: ReplyStats[]
}

export interface MalformedDetail { reason: MalformedReason, source: string, hex: string, detail: string }
export interface ReanchorDetail { code: string, port: string, reason: ReanchorReason, source: string, offUs?: number }

export interface Udp2020Events {
  malformed: CustomEvent<MalformedDetail>
  reanchor: CustomEvent<ReanchorDetail>
  registered: CustomEvent<{ address: string }>
}

interface Sender {
  config: SenderConfig
  port: OutPort
  timeline: Timeline
  /** No event of this port will be before this (its last event, or the idle watermark). */
  lastUs: number
  stats: SenderStats
}

const addressText = (host: string, port: number): string => host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`

export class Udp2020Gateway extends TypedEventEmitter<Udp2020Events> implements Stoppable {
  readonly #node: SpikewireNode
  readonly #config: Udp2020Config
  readonly #socket: Socket
  readonly #senders = new Map<number, Sender>()
  readonly #replies: Replies[] = []
  readonly #registered = new Map<string, UdpAddress>()
  readonly #malformed = Object.fromEntries(['wrong-length', 'unknown-sender', 'neuron-out-of-range', 'delta-overflow', 'unknown-event-type'].map(r => [r, 0])) as Record<MalformedReason, number>
  /** The hub clock's zero: ticks of `S` datagrams count from the gateway's start. */
  readonly epochUs: number
  /** The UDP address the gateway listens and replies on ("host:port", the real port when 0 was asked). */
  readonly address: string
  #datagrams = 0
  #ready = 0
  #stopped = false
  #idleTimer: ReturnType<typeof setInterval> | undefined

  private constructor (node: SpikewireNode, config: Udp2020Config, socket: Socket) {
    super()
    this.#node = node
    this.#config = config
    this.#socket = socket
    this.epochUs = node.clock.nowUs()
    const a = socket.address()
    this.address = addressText(a.address, a.port)
  }

  /** Bind the socket, add the sender ports to the node and open the reply subscriptions. */
  static async start (node: SpikewireNode, config: Udp2020Config): Promise<Udp2020Gateway> {
    const listen = parseUdpAddress(config.listen ?? UDP2020.listen, 'udp2020.listen', true)
    const socket = createSocket({ type: listen.host.includes(':') ? 'udp6' : 'udp4' })
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(listen.port, listen.host, () => { socket.off('error', reject); resolve() })
    })
    const gw = new Udp2020Gateway(node, config, socket)
    try {
      gw.#open()
    } catch (err) {
      socket.close()
      throw err
    }
    return gw
  }

  #open (): void {
    const timeline = { reanchorUs: this.#config.reanchorUs ?? UDP2020.reanchorUs.default, maxAheadUs: this.#config.maxAheadUs ?? UDP2020.maxAheadUs.default }
    for (const c of this.#config.senders) {
      const port = this.#node.addOutPort({
        name: c.port,
        channels: c.channels,
        kind: 'weighted',
        subscribe: c.subscribe,
        model: c.model ?? { name: 'udp2020-sender', params: [['code', c.code.charCodeAt(0), ''], ['tick', TICK_US, 'us']] }
      })
      // The gateway knows how far each port's times have gone (they are kept in order below): it alone
      // moves the watermark, so a rebuilt time a little behind the clock is never refused as late.
      port.manualWatermark()
      this.#senders.set(c.code.charCodeAt(0), {
        config: c,
        port,
        timeline: new Timeline(timeline),
        lastUs: 0,
        stats: { code: c.code, port: c.port, events: 0, clamped: 0, refused: 0, lagUs: 0, reanchors: { ready: 0, source: 0, lag: 0, ahead: 0 } }
      })
    }
    // While a sender is silent its watermark follows the clock, reanchorUs behind: a later rebuilt time is
    // never further behind its arrival than that (else it is anchored at the arrival), so subscribers that
    // merge this port with others are not held back by a quiet sender.
    const idleMs = this.#node.init.watermarkIntervalMs ?? OUT_PORT.watermarkIntervalMs.default
    this.#idleTimer = setInterval(() => {
      const floor = Math.floor(this.#node.clock.nowUs() - timeline.reanchorUs)
      for (const s of this.#senders.values()) {
        if (floor > s.lastUs) {
          s.lastUs = floor
          s.port.advance(floor)
        }
      }
    }, idleMs)
    this.#idleTimer.unref?.()
    this.#socket.on('message', (msg, rinfo) => {
      try {
        this.#receive(msg, rinfo, this.#node.clock.nowUs())
      } catch (err) {
        log.error('a datagram from %s:%d could not be handled: %e', rinfo.address, rinfo.port, err)
      }
    })
    this.#socket.on('error', err => { log.error('socket error: %e', err) })
    for (const c of this.#config.replies ?? []) {
      this.#replies.push(new Replies(c, {
        node: this.#node,
        socket: this.#socket,
        epochUs: this.epochUs,
        registered: () => this.#registered.values(),
        maxSendQueue: this.#config.maxSendQueue ?? UDP2020.maxSendQueue.default
      }))
    }
    log('listening on %s with senders %s', this.address, this.#config.senders.map(s => `${s.code} → ${s.port}`).join(', '))
  }

  #bad (reason: MalformedReason, source: string, msg: Uint8Array, detail: string): void {
    this.#malformed[reason]++
    const hex = datagramHex(msg.subarray(0, 64))
    log('malformed datagram from %s (%s): %s [%s]', source, reason, detail, hex)
    this.safeDispatchEvent('malformed', { detail: { reason, source, hex, detail } })
  }

  #receive (msg: Buffer, rinfo: RemoteInfo, arrivalUs: number): void {
    this.#datagrams++
    const source = addressText(rinfo.address, rinfo.port)
    const d = decodeDatagram(msg)
    if (d === undefined) {
      this.#bad('wrong-length', source, msg, `${msg.length} bytes, not ${DATAGRAM_BYTES}`)
      return
    }
    if (d.code === CODE.ready) {
      this.#ready++
      this.#register(source, { host: rinfo.address, port: rinfo.port })
      for (const s of this.#senders.values()) if (s.timeline.source === source) s.timeline.ready()
      return
    }
    const s = this.#senders.get(d.code)
    if (s === undefined) {
      this.#bad('unknown-sender', source, msg, `sender code ${d.code} (${JSON.stringify(String.fromCharCode(d.code))}) is not configured`)
      return
    }
    if (d.neuron >= s.config.channels) {
      this.#bad('neuron-out-of-range', source, msg, `neuron ${d.neuron} of sender ${s.config.code}: port ${s.config.port} has ${s.config.channels} channels`)
      return
    }
    if (d.high >= EVENT_TYPES.length) {
      this.#bad('unknown-event-type', source, msg, `event type ${d.high} of sender ${s.config.code} (known: 0 to ${EVENT_TYPES.length - 1})`)
      return
    }
    const r = s.timeline.next(d.ticks, arrivalUs, source)
    if (!r.ok) {
      this.#bad('delta-overflow', source, msg, `delta ${d.ticks} ticks of sender ${s.config.code} is ${Math.round(r.excessUs)} µs longer than the time since its previous datagram`)
      return
    }
    if (r.reanchored !== undefined) {
      s.stats.reanchors[r.reanchored]++
      log('sender %s anchored again (%s) at a datagram from %s, %s µs off', s.config.code, r.reanchored, source, r.offUs?.toFixed(0) ?? '?')
      this.safeDispatchEvent('reanchor', { detail: { code: s.config.code, port: s.config.port, reason: r.reanchored, source, offUs: r.offUs } })
    }
    let t = Math.round(r.timeUs)
    if (t < s.lastUs) {
      t = s.lastUs
      s.stats.clamped++
    }
    if (s.port.emit(d.neuron, t, d.high)) {
      s.stats.events++
      s.lastUs = t
      s.port.advance(t)
    } else {
      s.stats.refused++
      log.error('port %s refused an event at %d', s.config.port, t)
    }
    s.stats.lagUs = s.timeline.lagUs
    s.stats.source = source
  }

  #register (address: string, a: UdpAddress): void {
    const fresh = !this.#registered.has(address)
    this.#registered.delete(address)
    this.#registered.set(address, a)
    const max = this.#config.maxRegistered ?? UDP2020.maxRegistered.default
    for (const oldest of this.#registered.keys()) {
      if (this.#registered.size <= max) break
      this.#registered.delete(oldest)
      log('forgot the registered address %s (more than %d)', oldest, max)
    }
    if (fresh) {
      log('registered %s for replies', address)
      this.safeDispatchEvent('registered', { detail: { address } })
    }
  }

  stats (): Udp2020Stats {
    let events = 0
    const senders: Record<string, SenderStats> = {}
    for (const s of this.#senders.values()) {
      events += s.stats.events
      senders[s.config.code] = { ...s.stats, reanchors: { ...s.stats.reanchors } }
    }
    return {
      listen: this.address,
      datagrams: this.#datagrams,
      events,
      ready: this.#ready,
      malformed: { ...this.#malformed },
      registered: [...this.#registered.keys()],
      senders,
      replies: this.#replies.map(r => r.stats)
    }
  }

  /** Close the socket (the node stops the subscriptions and ports). */
  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    clearInterval(this.#idleTimer)
    for (const s of this.#senders.values()) s.port.flush()
    await new Promise<void>(resolve => { this.#socket.close(() => { resolve() }) })
  }
}
