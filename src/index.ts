/**
 * spikewire: an open protocol and reference implementation for an internet of neuroelectronics.
 *
 * ```ts
 * import { createNode } from 'spikewire'
 * const a = await createNode({ name: 'source', ports: [{ name: 'spikes', direction: 'out', channels: 4 }] })
 * const b = await createNode({ name: 'sink' })
 * const sub = b.subscribe(a.multiaddrs[0], 'spikes')
 * sub.onBatch(({ peer, port, batch }) => console.log(peer, port, batch.count))
 * await sub.ready()
 * a.outPort('spikes').emit(2, Math.round(a.clock.nowUs()))
 * ```
 */
export * from './codec/index.ts'
export { SystemClock, ManualClock, SkewedClock, wireTime } from './base/clock.ts'
export type { Clock, SkewedClockInit } from './base/clock.ts'
export { createNode, SpikewireNode } from './node/node.ts'
export type { CreateNodeOptions, NodeEvents, RefusedDetail } from './node/node.ts'
export { parseConfig, loadConfig } from './hosting/config.ts'
export type { NodeConfig, PortConfig, LinkConfig, SubscriptionConfig, SourceConfig, LimitsConfig } from './hosting/config.ts'
export { ConfigError } from './node/errors.ts'
export { writeNewKey, readKey, loadOrCreateKey, peerIdOf } from './node/identity.ts'
export type { PeerList } from './ports/acl.ts'
export { OutPort } from './ports/out-port.ts'
export type { OutPortInit, OutPortStats } from './ports/out-port.ts'
export { InPort } from './ports/in-port.ts'
export type { InPortInit, InPortStats } from './ports/in-port.ts'
export { Subscription } from './protocols/events/subscription.ts'
export type { SubscribeOptions, SubscriptionStats, GapDetail } from './protocols/events/subscription.ts'
export { PushLink } from './protocols/events/push-link.ts'
export type { PushOptions, PushLinkStats } from './protocols/events/push-link.ts'
export { RejectedError } from './protocols/events/events-client.ts'
export { LinkClosedError } from './wire/errors.ts'
export { Inbox } from './wire/inbox.ts'
export type { Delivery, WatermarkNote, Pausable } from './wire/inbox.ts'
export type { LinkStatus, LinkState, ReconnectOptions } from './wire/reconnect.ts'
export type { Target } from './wire/target.ts'
export type { NodeStats } from './node/node.ts'
export { PeerClock } from './protocols/clock/peer-clock.ts'
export type { PeerClockOptions, PeerClockStats } from './protocols/clock/peer-clock.ts'
export type { ClockEstimate } from './protocols/clock/estimator.ts'
export { Playout, Merge } from './timing/compensate.ts'
export type { TimedEvent, EventSource, PlayoutThreadStats } from './timing/compensate.ts'
export { DeliveryThread } from './timing/delivery-thread.ts'
export type { DeliveryThreadOptions, DeliveryThreadStats } from './timing/delivery-thread.ts'
export { DeliveryThreadError } from './timing/errors.ts'
export type { PlayoutDelay, LatePolicy, PlayoutStats } from './timing/playout.ts'
export type { MergeStats } from './timing/merge.ts'
export type { LatencySnapshot } from './protocols/clock/latency.ts'
export { DeviceHost, SynapseHost, hostSource } from './hosting/hosting.ts'
export type { DeviceHostInit, SynapseHostInit } from './hosting/hosting.ts'
export { RealTimeDriver } from './hosting/driver.ts'
export * as models from './models/index.ts'
