/**
 * The node a handler runs on: a SpikewireNode from the library (its clock skewed as SW_CLOCK_OFFSET_US
 * and SW_CLOCK_DRIFT_PPM say, its limits from SW_PARAMS.limits), or a bare libp2p node for the
 * adversary, which writes raw bytes.
 */
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { SkewedClock, SystemClock, createNode } from '../../../src/index.ts'
import type { LimitsConfig, NodeConfig, SpikewireNode } from '../../../src/index.ts'
import type { PortLayout } from '../../lib/contract.ts'
import type { Ctx } from './context.ts'

export interface Peer {
  /** The library's node (absent for the adversary). */
  node?: SpikewireNode
  libp2p: Libp2p
  /** The unskewed clock reading when the skewed clock was anchored, µs. */
  anchorUs: number
  stop: () => Promise<void>
}

function limitsOf (ctx: Ctx): LimitsConfig {
  const l = ctx.limits
  const out: LimitsConfig = { openTimeoutMs: 5000 }
  if (l.max_events !== undefined) out.maxEvents = l.max_events
  if (l.max_frame_bytes !== undefined) out.maxFrameBytes = l.max_frame_bytes
  if (l.queue_events !== undefined) out.queueEvents = l.queue_events
  if (l.stream_window_bytes !== undefined) out.streamWindowBytes = l.stream_window_bytes
  return out
}

export async function startSpikewire (ctx: Ctx, clockSync?: false): Promise<Peer> {
  const base = new SystemClock()
  const anchorUs = base.nowUs()
  const clock = new SkewedClock(base, { offsetUs: ctx.clockOffsetUs, driftPpm: ctx.clockDriftPpm })
  const config: NodeConfig = {
    name: `interop-${ctx.role}`,
    role: ctx.role === 'listener' ? 'source' : 'sink',
    listen: [ctx.role === 'listener' ? ctx.listen : '/ip4/127.0.0.1/tcp/0'],
    limits: limitsOf(ctx)
  }
  if (ctx.limits.lateness_us !== undefined) config.latenessUs = ctx.limits.lateness_us
  if (ctx.limits.watermark_interval_ms !== undefined) config.watermarkIntervalMs = ctx.limits.watermark_interval_ms
  const node = await createNode(config, clockSync === false ? { clock, clockSync } : { clock })
  return { node, libp2p: node.libp2p, anchorUs, stop: async () => { await node.stop() } }
}

export async function startRaw (ctx: Ctx): Promise<Peer> {
  const libp2p = await createLibp2p({
    addresses: { listen: [ctx.role === 'listener' ? ctx.listen : '/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxInboundStreams: 1024, maxOutboundStreams: 1024 })],
    connectionManager: { inboundConnectionThreshold: 1000 }
  })
  return { libp2p, anchorUs: new SystemClock().nowUs(), stop: async () => { await libp2p.stop() } }
}

/** Create the listener's ports from SW_PORTS; "dialer" resolves to the dialer's PeerId. */
export function addPorts (node: SpikewireNode, ports: PortLayout[], dialerPeer: string): void {
  const list = (allow: PortLayout['allow'], byDefault: 'any' | 'none'): '*' | string[] => {
    const a = allow ?? byDefault
    return a === 'any' ? '*' : a === 'dialer' ? [dialerPeer] : []
  }
  for (const p of ports) {
    if (p.direction === 'out') node.addOutPort({ name: p.name, channels: p.channels, kind: p.kind, subscribe: list(p.allow, 'any') })
    else node.addInPort({ name: p.name, channels: p.channels, kind: p.kind, push: list(p.allow, 'none') })
  }
}
