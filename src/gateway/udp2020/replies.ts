/**
 * The gateway's way out (docs/gateway-udp2020.md, "Mapping", Out): one spikewire subscription whose events
 * leave as the hub's `S` datagrams — channel → neuron id, value → weight byte (rounded, clipped to 0..255),
 * time → ticks of the hub clock (the gateway's clock since it started) — to the configured addresses and
 * those `R` datagrams registered. Every event that does not leave is counted by reason.
 */
import type { Socket } from 'node:dgram'
import { logger } from '@libp2p/logger'
import { forEachEvent } from '../../codec/batch.ts'
import type { SpikewireNode } from '../../node/node.ts'
import type { Subscription } from '../../protocols/events/subscription.ts'
import type { Delivery } from '../../wire/inbox.ts'
import { parseUdpAddress, UDP2020 } from './config.ts'
import type { ReplyConfig, UdpAddress } from './config.ts'
import { FIELD_24, TICK_US, hubDatagram } from './datagram.ts'

const log = logger('spikewire:gateway:udp2020:replies')

export interface ReplyStats {
  from: string
  port: string
  state: string
  /** Events received from the subscription. */
  events: number
  /** `S` datagrams handed to the socket (one per event and destination). */
  datagrams: number
  /** Events whose value was outside 0..255 and was clipped into the weight byte. */
  clipped: number
  /** Events on a channel ≥ 2^24 (does not fit the neuron id): not sent. */
  channelOutOfRange: number
  /** Events with no destination yet (no `to` and nothing registered): not sent. */
  noDestination: number
  /** Datagrams not sent because the socket's send queue was full. */
  dropped: number
  /** Datagrams the socket failed to send. */
  sendErrors: number
}

export interface RepliesComponents {
  node: SpikewireNode
  socket: Socket
  /** The hub clock's zero, µs of the node's clock. */
  epochUs: number
  /** Addresses registered by `R` datagrams now. */
  registered: () => Iterable<UdpAddress>
  /** Datagrams waiting in the socket beyond which replies are dropped. */
  maxSendQueue: number
}

/** The weight byte of an event: its value rounded and clipped, or `spikeWeight` for an event without one. */
export function weightByte (value: number | undefined, spikeWeight: number): { weight: number, clipped: boolean } {
  if (value === undefined) return { weight: spikeWeight, clipped: false }
  if (!Number.isFinite(value)) return { weight: 0, clipped: true }
  const w = Math.round(value) + 0 // + 0: no -0 from rounding -0.4
  return w < 0 || w > 255 ? { weight: Math.min(255, Math.max(0, w)), clipped: true } : { weight: w, clipped: false }
}

export class Replies {
  readonly config: ReplyConfig
  readonly subscription: Subscription
  readonly #c: RepliesComponents
  readonly #to: UdpAddress[]
  readonly #stats: Omit<ReplyStats, 'state'>

  constructor (config: ReplyConfig, components: RepliesComponents) {
    this.config = config
    this.#c = components
    this.#to = (config.to ?? []).map((a, i) => parseUdpAddress(a, `to[${i}]`))
    this.#stats = { from: config.from, port: config.port, events: 0, datagrams: 0, clipped: 0, channelOutOfRange: 0, noDestination: 0, dropped: 0, sendErrors: 0 }
    this.subscription = components.node.subscribe(config.from, config.port, { channels: config.channels, source: 'udp2020' })
    this.subscription.onBatch(d => {
      try {
        this.#send(d)
      } catch (err) {
        log.error('replies of %s %s failed: %e', config.from, config.port, err)
      }
    })
  }

  get stats (): ReplyStats {
    return { ...this.#stats, state: this.subscription.state }
  }

  #send (d: Delivery): void {
    const { node, socket, epochUs, maxSendQueue } = this.#c
    const r = this.#stats
    const toLocal = node.clockMap(d.peer)
    const targets = this.config.registered === false ? this.#to : [...this.#to, ...this.#c.registered()]
    const spikeWeight = this.config.spikeWeight ?? UDP2020.spikeWeight
    forEachEvent(d.batch, (channel, time, value) => {
      r.events++
      if (channel >= FIELD_24) {
        r.channelOutOfRange++
        return
      }
      if (targets.length === 0) {
        r.noDestination++
        return
      }
      const { weight, clipped } = weightByte(value, spikeWeight)
      if (clipped) r.clipped++
      const bytes = hubDatagram(channel, weight, Math.floor((toLocal(time) - epochUs) / TICK_US))
      for (const to of targets) {
        if (socket.getSendQueueCount() >= maxSendQueue) {
          r.dropped++
          continue
        }
        r.datagrams++
        socket.send(bytes, to.port, to.host, err => {
          if (err != null) {
            r.sendErrors++
            log('sending to %s:%d failed: %e', to.host, to.port, err)
          }
        })
      }
    })
  }
}
