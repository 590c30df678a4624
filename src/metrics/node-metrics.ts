/**
 * A node's Prometheus metrics: one prom-client registry per node (never prom-client's global registry:
 * several nodes may share a process), filled at scrape time from what the node already counts —
 * node.stats(), the out ports' streams, hosted playouts and merges, parts attached by the layers above —
 * plus one-way latency histograms fed by the node's latency trackers and libp2p's own metrics.
 *
 *   const metrics = await NodeMetrics.create()
 *   const hosted = await startNode(config, { ...metrics.nodeOptions })
 *   metrics.watchHosted(hosted)
 *   const text = await metrics.scrape()
 *
 * Every name starts with `spikewire_`; docs/metrics.md lists them all.
 */
import { Registry } from 'prom-client'
import type { CreateNodeOptions, NodeStats, SpikewireNode } from '../node/node.ts'
import type { Hosted } from '../hosting/start.ts'
import type { PushLink } from '../protocols/events/push-link.ts'
import type { Subscription, SubscriptionStats } from '../protocols/events/subscription.ts'
import type { PlayoutStats } from '../timing/playout.ts'
import type { MergeStats } from '../timing/merge.ts'
import { RetainedSums, counterFamily, gaugeFamily, perScrape, seconds } from './family.ts'
import type { FamilyInit, Sample } from './family.ts'
import { libp2pMetrics } from './libp2p.ts'
import { LatencyHistograms } from './latency.ts'
import { DEFAULT_MAX_PEERS, OTHER_PEERS, PeerLabels } from './peers.ts'
import { OutStreams } from './out-streams.ts'
import type { SenderCount } from './out-streams.ts'
import { InvalidArgumentError } from '../base/errors.ts'

export interface NodeMetricsInit {
  /** libp2p's own metrics (`libp2p_*`) through @libp2p/prometheus-metrics (default true). */
  libp2p?: boolean
  /** prom-client's process metrics (`process_*`, `nodejs_*`), with libp2p's (default true). */
  processMetrics?: boolean
  /** Most distinct `peer` label values (default 256); further peers are "other". */
  maxPeers?: number
  /** Most latency histogram streams (default 256). */
  maxLatencyStreams?: number
}

/** What a playout or merge is fed from and feeds (labels `input`, `output`). */
export interface TimingLabels { input: string, output: string }

export class NodeMetrics {
  readonly registry: Registry
  readonly peers: PeerLabels
  readonly latency: LatencyHistograms
  /** Pass these to createNode / startNode / startGateway (`{ ...metrics.nodeOptions }`). */
  readonly nodeOptions: Pick<CreateNodeOptions, 'libp2pMetrics' | 'latencyObserver'>
  #node: SpikewireNode | undefined
  readonly #playouts = new Map<string, { labels: TimingLabels, stats: () => PlayoutStats }>()
  readonly #merges = new Map<string, { labels: TimingLabels, stats: () => MergeStats }>()

  private constructor (init: NodeMetricsInit, registry: Registry, libp2p: CreateNodeOptions['libp2pMetrics']) {
    this.registry = registry
    this.peers = new PeerLabels(init.maxPeers ?? DEFAULT_MAX_PEERS)
    this.latency = new LatencyHistograms(this.registry, this.peers, { maxStreams: init.maxLatencyStreams })
    this.nodeOptions = { latencyObserver: this.latency.observer, ...(libp2p === undefined ? {} : { libp2pMetrics: libp2p }) }
  }

  static async create (init: NodeMetricsInit = {}): Promise<NodeMetrics> {
    const max = init.maxPeers ?? DEFAULT_MAX_PEERS
    if (!Number.isInteger(max) || max < 1) throw new InvalidArgumentError(`maxPeers must be an integer ≥ 1 (got ${max})`)
    const registry = new Registry()
    const libp2p = init.libp2p === false ? undefined : await libp2pMetrics(registry, { processMetrics: init.processMetrics })
    return new NodeMetrics(init, registry, libp2p)
  }

  /** The Prometheus text of every metric now (libp2p's included). */
  async scrape (): Promise<string> {
    return await this.registry.metrics()
  }

  /** The content type of `scrape()` (Prometheus text format 0.0.4). */
  get contentType (): string {
    return this.registry.contentType
  }

  /** Export a node's statistics (once; the node must have been created with `nodeOptions`). */
  watch (node: SpikewireNode): void {
    if (this.#node !== undefined) throw new InvalidArgumentError('these metrics watch a node already')
    this.#node = node
    registerNodeFamilies(this.registry, node, this.peers)
  }

  /** Export a hosted node: the node, and the playout or merge of each hosted model. */
  watchHosted (hosted: Hosted): void {
    this.watch(hosted.node)
    for (const { config, host } of hosted.hosts) {
      if ('playout' in host) this.addPlayout({ input: config.model === 'synapse' ? config.pre : config.input, output: config.output }, host.playout)
      else this.addMerge({ input: config.model === 'synapse' ? `${config.pre}+${config.post}` : config.input, output: config.output }, host.merge)
    }
  }

  /** Export a playout's late and dropped events (one per input/output pair). */
  addPlayout (labels: TimingLabels, playout: { stats: () => PlayoutStats }): void {
    if (this.#playouts.size === 0 && this.#merges.size === 0) registerTimingFamilies(this.registry, this.#playouts, this.#merges)
    this.#playouts.set(`${labels.input}\n${labels.output}`, { labels, stats: () => playout.stats() })
  }

  /** Export a merge's late, dropped and stalled inputs. */
  addMerge (labels: TimingLabels, merge: { stats: () => MergeStats }): void {
    if (this.#playouts.size === 0 && this.#merges.size === 0) registerTimingFamilies(this.registry, this.#playouts, this.#merges)
    this.#merges.set(`${labels.input}\n${labels.output}`, { labels, stats: () => merge.stats() })
  }
}

function registerNodeFamilies (registry: Registry, node: SpikewireNode, peers: PeerLabels): void {
  const stats = perScrape((): NodeStats => node.stats())
  const outStreams = new OutStreams(peers)
  for (const e of node.outPorts.values()) outStreams.watch(e.port)
  const streams = perScrape(() => {
    outStreams.sync([...node.outPorts.values()].map(e => e.port))
    return outStreams
  })
  const counter = (init: FamilyInit): void => { counterFamily(registry, init) }
  const gauge = (init: FamilyInit): void => { gaugeFamily(registry, init) }
  /** Series of peers past the bound are left out of gauges (a sum of offsets means nothing). */
  const peer = (id: string): string | undefined => { const l = peers.label(id === '' ? 'none' : id); return l === OTHER_PEERS ? undefined : l }
  const peerSum = (id: string): string => peers.label(id === '' ? 'none' : id)

  gauge({ name: 'spikewire_node_info', help: 'Always 1; labels name the node.', labelNames: ['name', 'peer'], read: () => [[{ name: node.init.name, peer: node.peerId }, 1]] })
  gauge({ name: 'spikewire_metrics_peers_over_limit', help: 'Peers met beyond the bound on peer labels (reported as peer="other" or left out).', read: () => [[{}, peers.over]] })

  // Out ports.
  const outPort = (name: string, help: string, key: 'emitted' | 'refused' | 'flushes'): void => {
    counter({ name, help, labelNames: ['port'], read: () => Object.entries(stats().outPorts).map(([port, p]) => [{ port }, p.stats[key]]) })
  }
  outPort('spikewire_out_port_emitted_events_total', 'Events accepted by emit() on an out port.', 'emitted')
  outPort('spikewire_out_port_refused_events_total', 'Events refused by emit() (out of time order, behind the watermark, bad channel or value).', 'refused')
  outPort('spikewire_out_port_flushes_total', 'Batches flushed by an out port.', 'flushes')
  gauge({ name: 'spikewire_out_port_streams', help: 'Streams attached to an out port now (subscribers and push links).', labelNames: ['port'], read: () => Object.entries(stats().outPorts).map(([port, p]) => [{ port }, p.stats.streams]) })

  // Streams leaving the out ports, per port and peer, over every stream so far.
  const outStream = (name: string, help: string, key: SenderCount): void => {
    counter({ name, help, labelNames: ['port', 'peer'], read: () => streams().counts(key) })
  }
  outStream('spikewire_out_stream_sent_events_total', 'Events handed to the streams of a port to a peer (sent, or queued to be sent), over every stream so far.', 'events')
  outStream('spikewire_out_stream_batches_total', 'Batches sent on the streams of a port to a peer.', 'batches')
  outStream('spikewire_out_stream_dropped_events_total', 'Events dropped because a stream\'s queue was full, reported to the peer in loss notices.', 'dropped')
  outStream('spikewire_out_stream_loss_notices_total', 'Loss notices sent.', 'lossNotices')
  outStream('spikewire_out_stream_undelivered_events_total', 'Events never sent: still queued when a stream ended.', 'undelivered')
  outStream('spikewire_out_stream_watermarks_total', 'Watermarks sent.', 'watermarks')
  const outLive = (name: string, help: string, key: 'streams' | 'queuedEvents' | 'queuedBytes'): void => {
    gauge({ name, help, labelNames: ['port', 'peer'], read: () => [...streams().live()].map(([l, v]) => [l, v[key]] as const) })
  }
  outLive('spikewire_out_streams', 'Streams of a port to a peer open now.', 'streams')
  outLive('spikewire_out_stream_queued_events', 'Events queued in the streams of a port to a peer (congestion).', 'queuedEvents')
  outLive('spikewire_out_stream_queued_bytes', 'Bytes of frames queued in the streams of a port to a peer.', 'queuedBytes')

  // In ports.
  const inPort = (name: string, help: string, key: 'batches' | 'events' | 'gapEvents' | 'lostEvents' | 'refused' | 'droppedEvents'): void => {
    counter({ name, help, labelNames: ['port'], read: () => Object.entries(stats().inPorts).map(([port, p]) => [{ port }, p[key]]) })
  }
  inPort('spikewire_in_port_received_events_total', 'Events pushed into an in port.', 'events')
  inPort('spikewire_in_port_batches_total', 'Batches pushed into an in port.', 'batches')
  inPort('spikewire_in_port_gap_events_total', 'Events missing from the sequence of an in port\'s streams, without a loss notice.', 'gapEvents')
  inPort('spikewire_in_port_lost_events_total', 'Events the pushers reported dropped (loss notices).', 'lostEvents')
  inPort('spikewire_in_port_refused_opens_total', 'Opens of push streams into an in port that were refused.', 'refused')
  inPort('spikewire_in_port_dropped_events_total', 'Events an in port\'s inbox dropped: full while no application read it.', 'droppedEvents')
  const inLive = (name: string, help: string, key: 'streams' | 'queuedBatches' | 'queuedBytes'): void => {
    gauge({ name, help, labelNames: ['port'], read: () => Object.entries(stats().inPorts).map(([port, p]) => [{ port }, p[key]]) })
  }
  inLive('spikewire_in_port_streams', 'Push streams into an in port now.', 'streams')
  inLive('spikewire_in_port_queued_batches', 'Batches waiting in an in port\'s inbox for the application.', 'queuedBatches')
  inLive('spikewire_in_port_queued_bytes', 'Bytes of batches waiting in an in port\'s inbox.', 'queuedBytes')

  // Subscriptions to remote out ports, per remote port and publisher.
  // Summed per (port, peer) over the subscriptions there are now and those that ended (RetainedSums).
  type SubKey = 'events' | 'batches' | 'gapEvents' | 'lostEvents' | 'lossNotices' | 'reconnectGaps' | 'connects' | 'watermarks'
  const sub = (name: string, help: string, key: SubKey | ((s: SubscriptionStats) => number)): void => {
    const sums = new RetainedSums<Subscription>(s => typeof key === 'function' ? key(s.stats) : s.stats[key])
    counter({ name, help, labelNames: ['port', 'peer'], read: () => sums.read(node.subscriptions, s => ({ port: s.port, peer: peerSum(s.peer) })) })
  }
  sub('spikewire_subscription_received_events_total', 'Events received by the subscriptions to a peer\'s out port.', 'events')
  sub('spikewire_subscription_batches_total', 'Batches received by the subscriptions to a peer\'s out port.', 'batches')
  sub('spikewire_subscription_gap_events_total', 'Events missing from a subscription\'s sequence without a loss notice.', 'gapEvents')
  sub('spikewire_subscription_lost_events_total', 'Events the publisher reported dropped (loss notices).', 'lostEvents')
  sub('spikewire_subscription_loss_notices_total', 'Loss notices received.', 'lossNotices')
  sub('spikewire_subscription_connects_total', 'Streams a subscription opened (1 + reconnects).', 'connects')
  sub('spikewire_subscription_reconnect_gaps_total', 'Times a subscription\'s link was lost and came back.', 'reconnectGaps')
  sub('spikewire_subscription_reconnect_gap_seconds_total', 'Time without data across reconnects, in the publisher\'s clock.', s => seconds(s.reconnectGapUs))
  gauge({
    name: 'spikewire_subscription_state',
    help: '1 for the state a subscription is in (connecting, open, retrying, closed).',
    labelNames: ['port', 'peer', 'state'],
    read: () => stats().subscriptions.flatMap(s => { const p = peer(s.peer); return p === undefined ? [] : [[{ port: s.port, peer: p, state: s.state }, 1] as const] })
  })

  // Push links from local out ports to remote in ports (cumulative over their streams, and over links that ended).
  type LinkKey = 'events' | 'dropped' | 'undelivered' | 'connects'
  const link = (name: string, help: string, key: LinkKey): void => {
    const sums = new RetainedSums<PushLink>(l => l.stats[key])
    counter({ name, help, labelNames: ['port', 'peer', 'remote_port'], read: () => sums.read(node.links, l => ({ port: l.port.name, peer: peerSum(l.peer), remote_port: l.remotePort })) })
  }
  link('spikewire_link_sent_events_total', 'Events a push link handed to its streams.', 'events')
  link('spikewire_link_dropped_events_total', 'Events a push link dropped (queue full), reported in loss notices.', 'dropped')
  link('spikewire_link_undelivered_events_total', 'Events a push link never sent (queued when a stream ended).', 'undelivered')
  link('spikewire_link_connects_total', 'Streams a push link opened (1 + reconnects).', 'connects')

  // Clocks, per peer.
  const clockGauge = (name: string, help: string, value: (c: NodeStats['clocks'][string]) => number): void => {
    gauge({ name, help, labelNames: ['peer'], read: () => Object.entries(stats().clocks).flatMap(([id, c]) => { const p = peer(id); return p === undefined ? [] : [[{ peer: p }, value(c)] as const] }) })
  }
  clockGauge('spikewire_clock_offset_seconds', 'Estimated offset of a peer\'s clock (peer time minus local time).', c => seconds(c.offsetUs))
  clockGauge('spikewire_clock_uncertainty_seconds', 'Bound on the error of the offset estimate (absent while unbounded).', c => c.uncertaintyUs < 0 ? NaN : seconds(c.uncertaintyUs))
  clockGauge('spikewire_clock_drift_ratio', 'Estimated drift of a peer\'s clock against the local one (1e-6 is 1 ppm).', c => c.driftPpm / 1e6)
  clockGauge('spikewire_clock_rtt_seconds', 'Round trip of the best recent clock probe (absent before one).', c => c.rttUs < 0 ? NaN : seconds(c.rttUs))
  clockGauge('spikewire_clock_converged', '1 once the clock estimate of a peer has converged.', c => c.converged ? 1 : 0)
  const clockCount = (name: string, help: string, key: keyof NodeStats['clocks'][string]['stats']): void => {
    counter({ name, help, labelNames: ['peer'], read: () => Object.entries(stats().clocks).map(([id, c]) => [{ peer: peerSum(id) }, c.stats[key]]) })
  }
  clockCount('spikewire_clock_probes_total', 'Clock probes sent to a peer.', 'probes')
  clockCount('spikewire_clock_answers_total', 'Clock answers received from a peer.', 'answers')
  clockCount('spikewire_clock_timeouts_total', 'Clock probes without an answer in time.', 'timeouts')
  clockCount('spikewire_clock_late_answers_total', 'Clock answers that came after their probe had timed out.', 'late')
  clockCount('spikewire_clock_rejected_answers_total', 'Clock answers refused by the sample checks.', 'rejected')
  clockCount('spikewire_clock_bursts_total', 'Bursts of clock probes.', 'bursts')
  const server = (name: string, help: string, read: (s: NodeStats['clockServer']) => Sample[]): void => {
    counter({ name, help, labelNames: name.endsWith('closed_streams_total') ? ['reason'] : [], read: () => read(stats().clockServer) })
  }
  server('spikewire_clock_server_requests_total', 'Clock requests served to peers.', s => [[{}, s.requests]])
  server('spikewire_clock_server_answers_total', 'Clock answers sent to peers.', s => [[{}, s.answers]])
  server('spikewire_clock_server_delayed_answers_total', 'Clock answers that waited for the peer\'s request rate.', s => [[{}, s.delayed]])
  server('spikewire_clock_server_closed_streams_total', 'Clock streams the server closed: idle (timeout), stalled (slow-consumer) or after the client\'s end.', s => [[{ reason: 'idle' }, s.idleClosed], [{ reason: 'stalled' }, s.stalledClosed], [{ reason: 'ended' }, s.ended]])
  gauge({ name: 'spikewire_clock_server_streams', help: 'Clock streams served now.', read: () => [[{}, stats().clockServer.streams]] })

  // The relays of the node's config (NodeInit.relays): labels are their multiaddrs, bounded by the config.
  const relays = (): NonNullable<NodeStats['relays']> => stats().relays ?? []
  gauge({ name: 'spikewire_node_relay_reserved', help: '1 while the node holds its reservation on a configured relay.', labelNames: ['relay'], read: () => relays().map(r => [{ relay: r.relay }, r.state === 'reserved' ? 1 : 0]) })
  const relayCount = (name: string, help: string, key: 'reservations' | 'lost' | 'failures'): void => {
    counter({ name, help, labelNames: ['relay'], read: () => relays().map(r => [{ relay: r.relay }, r[key]]) })
  }
  relayCount('spikewire_node_relay_reservations_total', 'Reservations made on a configured relay (the first, and each one made again).', 'reservations')
  relayCount('spikewire_node_relay_reservations_lost_total', 'Reservations that ended (the relay went away or refused a refresh).', 'lost')
  relayCount('spikewire_node_relay_failures_total', 'Reservation attempts that failed (relay unreachable, reservation refused).', 'failures')

  // Refusals and the connection guard.
  counter({
    name: 'spikewire_refusals_total',
    help: 'Refused: connections from peers outside the allow list, opens of events streams, describe and clock streams beyond a peer\'s limit.',
    labelNames: ['what'],
    read: () => { const r = stats().refusals; return [[{ what: 'connection' }, r.connections], [{ what: 'open' }, r.opens], [{ what: 'describe' }, r.describe], [{ what: 'clock' }, r.clock]] }
  })
  counter({
    name: 'spikewire_connection_guard_refused_total',
    help: 'Inbound sockets or connections refused by the connection guard: too many handshakes (pending), connections (address) or the fair share (share) of one address, too many connections of one peer (peer).',
    labelNames: ['reason'],
    read: () => { const g = stats().connections; return g === undefined ? [] : [[{ reason: 'pending' }, g.refusedPending], [{ reason: 'address' }, g.refusedAddress], [{ reason: 'share' }, g.refusedShare], [{ reason: 'peer' }, g.refusedPeer]] }
  })
  counter({
    name: 'spikewire_connection_guard_pruned_total',
    help: 'Idle inbound connections closed: after the idle time (idle), or early to keep slots free (pressure).',
    labelNames: ['reason'],
    read: () => { const g = stats().connections; return g === undefined ? [] : [[{ reason: 'idle' }, g.prunedIdle], [{ reason: 'pressure' }, g.prunedPressure]] }
  })
  gauge({
    name: 'spikewire_connection_guard_inbound',
    help: 'Inbound sockets now: handshaking (state="pending") and connected (state="connected").',
    labelNames: ['state'],
    read: () => { const g = stats().connections; return g === undefined ? [] : [[{ state: 'pending' }, g.pending], [{ state: 'connected' }, g.inbound]] }
  })
}

function registerTimingFamilies (registry: Registry, playouts: Map<string, { labels: TimingLabels, stats: () => PlayoutStats }>, merges: Map<string, { labels: TimingLabels, stats: () => MergeStats }>): void {
  const p = perScrape(() => [...playouts.values()].map(e => ({ labels: e.labels, s: e.stats() })))
  const m = perScrape(() => [...merges.values()].map(e => ({ labels: e.labels, s: e.stats() })))
  const labelNames = ['input', 'output']
  const playout = (name: string, help: string, key: 'received' | 'delivered' | 'late' | 'lateDropped' | 'outOfOrder' | 'violations' | 'overflow' | 'discarded'): void => {
    counterFamily(registry, { name, help, labelNames, read: () => p().map(x => [{ ...x.labels }, x.s[key]] as const) })
  }
  playout('spikewire_playout_received_events_total', 'Events a playout took in.', 'received')
  playout('spikewire_playout_delivered_events_total', 'Events a playout delivered.', 'delivered')
  playout('spikewire_playout_late_events_total', 'Events that arrived after their slot or out of order (fixed and adaptive delays).', 'late')
  playout('spikewire_playout_late_dropped_events_total', 'Late events dropped (late policy "drop").', 'lateDropped')
  playout('spikewire_playout_out_of_order_events_total', 'Events older than one already delivered.', 'outOfOrder')
  playout('spikewire_playout_violations_total', 'Synaptic delay: events that arrived after time + d (delivered at once).', 'violations')
  playout('spikewire_playout_overflow_events_total', 'Events dropped at a full playout queue.', 'overflow')
  playout('spikewire_playout_discarded_events_total', 'Events queued when the playout closed.', 'discarded')
  gaugeFamily(registry, { name: 'spikewire_playout_queued_events', help: 'Events waiting in a playout.', labelNames, read: () => p().map(x => [{ ...x.labels }, x.s.queued] as const) })
  gaugeFamily(registry, { name: 'spikewire_playout_delay_seconds', help: 'A playout\'s current delay D.', labelNames, read: () => p().map(x => [{ ...x.labels }, seconds(x.s.delayUs)] as const) })
  const merge = (name: string, help: string, key: 'delivered' | 'late' | 'lateDropped' | 'overflow' | 'stalls'): void => {
    counterFamily(registry, { name, help, labelNames, read: () => m().map(x => [{ ...x.labels }, x.s[key]] as const) })
  }
  merge('spikewire_merge_delivered_events_total', 'Events a time-ordered merge delivered.', 'delivered')
  merge('spikewire_merge_late_events_total', 'Events behind the merge\'s released time.', 'late')
  merge('spikewire_merge_late_dropped_events_total', 'Late events dropped by a merge.', 'lateDropped')
  merge('spikewire_merge_overflow_events_total', 'Events dropped at a full merge input queue.', 'overflow')
  merge('spikewire_merge_stalls_total', 'Times an input of a merge was declared stalled.', 'stalls')
}
