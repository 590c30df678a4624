/**
 * The 2020 UDP gateway (docs/gateway-udp2020.md): `startGateway(config)` runs the node of a gateway
 * config through the hosting layer (identity, listen, allow lists, ports, links, subscriptions, models)
 * and attaches the UDP side to it, so stopping the node closes the socket first.
 */
import { startNode } from '../../hosting/start.ts'
import type { Hosted } from '../../hosting/start.ts'
import type { CreateNodeOptions } from '../../node/node.ts'
import type { GatewayConfig } from './config.ts'
import { Udp2020Gateway } from './gateway.ts'

export { Udp2020Gateway } from './gateway.ts'
export type { MalformedDetail, ReanchorDetail, ReplyStats, SenderStats, Udp2020Events, Udp2020Stats } from './gateway.ts'
export { UDP2020, loadGatewayConfig, parseGatewayConfig, parseUdpAddress } from './config.ts'
export type { GatewayConfig, ReplyConfig, SenderConfig, Udp2020Config } from './config.ts'
export { CODE, DATAGRAM_BYTES, EVENT_TYPES, MALFORMED_REASONS, TICK_US, datagramHex, decodeDatagram, encodeDatagram, eventDatagram, hubDatagram, readyDatagram } from './datagram.ts'
export type { Datagram, MalformedReason } from './datagram.ts'
export { REANCHOR_REASONS, Timeline } from './timeline.ts'
export type { ReanchorReason } from './timeline.ts'

/** The name of the gateway's part in `node.stats().parts`. */
export const STATS_NAME = 'udp2020'

export interface HostedGateway {
  hosted: Hosted
  gateway: Udp2020Gateway
}

/** Start the node of a gateway config and its UDP side. */
export async function startGateway (config: GatewayConfig, options: CreateNodeOptions = {}): Promise<HostedGateway> {
  const hosted = await startNode(config.node, options)
  try {
    const gateway = await Udp2020Gateway.start(hosted.node, config.udp2020)
    hosted.node.attach(gateway, { name: STATS_NAME, stats: () => gateway.stats() })
    return { hosted, gateway }
  } catch (err) {
    await hosted.node.stop().catch(() => {})
    throw err
  }
}

export { registerGatewayMetrics } from './metrics.ts'
