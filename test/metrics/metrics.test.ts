/**
 * Metrics of real nodes on 127.0.0.1: a publisher and a subscriber exchanging events (a subscription, a
 * push link, clock sync), scraped over HTTP and parsed strictly, checked against node.stats().
 */
import test from 'ava'
import { readFile } from 'node:fs/promises'
import { Registry } from 'prom-client'
import type { ExecutionContext } from 'ava'
import { createNode, startNode as startHostedNode } from '../../src/hosting/start.ts'
import type { NodeConfig } from '../../src/hosting/config.ts'
import type { SpikewireNode } from '../../src/node/node.ts'
import { MetricsServer, NodeMetrics, RelayMetrics } from '../../src/metrics/index.ts'
import { registerGatewayMetrics } from '../../src/gateway/udp2020/metrics.ts'
import { until } from '../helpers/nodes.ts'
import { parsePromText, sample, samples } from './prom-text.ts'
import type { PromFamily } from './prom-text.ts'

const EVENTS = 600

async function startWithMetrics (t: ExecutionContext, config: NodeConfig, metricsInit = {}): Promise<{ node: SpikewireNode, metrics: NodeMetrics }> {
  const metrics = await NodeMetrics.create(metricsInit)
  const node = await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], ...config }, { ...metrics.nodeOptions })
  t.teardown(async () => { await node.stop() })
  metrics.watch(node)
  return { node, metrics }
}

async function serve (t: ExecutionContext, metrics: NodeMetrics): Promise<MetricsServer> {
  const server = await MetricsServer.listen(metrics, { host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await server.stop() })
  return server
}

async function scrapeHttp (url: string): Promise<{ status: number, type: string | null, families: Map<string, PromFamily> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) })
  const text = await res.text()
  return { status: res.status, type: res.headers.get('content-type'), families: parsePromText(text) }
}

/** A publisher (out port spikes) and a subscriber (in port in, open to pushes) linked both ways, with EVENTS events through both paths. */
async function exchange (t: ExecutionContext): Promise<{ pub: SpikewireNode, sub: SpikewireNode, pubMetrics: NodeMetrics, subMetrics: NodeMetrics }> {
  const { node: pub, metrics: pubMetrics } = await startWithMetrics(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 4 }] })
  const { node: sub, metrics: subMetrics } = await startWithMetrics(t, { name: 'sub', ports: [{ name: 'in', direction: 'in', channels: 4, push: [pub.peerId] }] })
  const subscription = sub.subscribe(pub.multiaddrs[0], 'spikes')
  const link = pub.push('spikes', sub.multiaddrs[0], 'in')
  await until(() => subscription.state === 'open' && link.state === 'open', 20_000, 'the subscription and the link')
  // Latency is sampled once the clock is estimated: wait for that on both paths (the subscriber's clock
  // sync with the publisher covers both).
  await until(() => sub.peers.get(pub.peerId)?.estimated === true, 20_000, 'the clock estimate')
  const port = pub.outPort('spikes')
  for (let i = 0; i < EVENTS / 10; i++) {
    const now = Math.round(pub.clock.nowUs())
    for (let k = 0; k < 10; k++) port.emit(k % 4, now + k, undefined)
    await new Promise(resolve => setTimeout(resolve, 3))
  }
  // The source stops here: the event counts no longer change.
  await until(() => subscription.stats.events === EVENTS && sub.inPort('in').stats.events === EVENTS, 20_000, 'every event on both paths')
  return { pub, sub, pubMetrics, subMetrics }
}

test('a scrape taken in the same turn as node.stats() matches it exactly; the HTTP scrape matches the event counts', async t => {
  const { pub, sub, pubMetrics, subMetrics } = await exchange(t)

  // In process: prom-client runs every collect() of one scrape in one synchronous pass, so node.stats()
  // taken right after the call sees the same moment, clock probes and watermarks included.
  const subText = subMetrics.scrape()
  const s = sub.stats()
  const pubText = pubMetrics.scrape()
  const p = pub.stats()
  const m = parsePromText(await subText)
  const pm = parsePromText(await pubText)

  const subStats = s.subscriptions[0]
  const labels = { port: 'spikes', peer: pub.peerId }
  t.is(sample(m, 'spikewire_subscription_received_events_total', labels), EVENTS)
  t.is(subStats.stats.events, EVENTS)
  t.is(sample(m, 'spikewire_subscription_batches_total', labels), subStats.stats.batches)
  t.is(sample(m, 'spikewire_subscription_gap_events_total', labels), subStats.stats.gapEvents)
  t.is(sample(m, 'spikewire_subscription_lost_events_total', labels), subStats.stats.lostEvents)
  t.is(sample(m, 'spikewire_subscription_connects_total', labels), 1)
  t.is(sample(m, 'spikewire_subscription_state', { ...labels, state: 'open' }), 1)
  t.is(sample(m, 'spikewire_in_port_received_events_total', { port: 'in' }), s.inPorts.in.events)
  t.is(sample(m, 'spikewire_in_port_batches_total', { port: 'in' }), s.inPorts.in.batches)
  t.is(sample(m, 'spikewire_in_port_streams', { port: 'in' }), 1)

  // Latency histograms: the same samples as the node's own trackers.
  const subLatency = subStats.latency
  t.true(subLatency.count > 0)
  t.is(sample(m, 'spikewire_latency_seconds_count', { peer: pub.peerId, stream: 'sub/spikes' }), subLatency.count)
  const inLatency = s.inPorts.in.latency[`${pub.peerId}/spikes`]
  t.true(inLatency.count > 0)
  t.is(sample(m, 'spikewire_latency_seconds_count', { peer: pub.peerId, stream: 'in/in/spikes' }), inLatency.count)
  // The sum over the count is the all-time mean; the window holds every sample here (fewer than 4096).
  t.true(subLatency.window === subLatency.count)
  t.true(Math.abs(sample(m, 'spikewire_latency_seconds_sum', { peer: pub.peerId, stream: 'sub/spikes' }) / subLatency.count - subLatency.meanUs / 1e6) < 1e-9)

  // Clock, per peer: the same estimate.
  const c = s.clocks[pub.peerId]
  t.truthy(c)
  // The estimate is evaluated at the time it is read (the uncertainty grows with the age of the last
  // sample): the scrape and stats() read it microseconds apart, so gauges agree within 0.1 ms.
  const near = (a: number, b: number): boolean => Math.abs(a - b) < 1e-4
  t.true(near(sample(m, 'spikewire_clock_offset_seconds', { peer: pub.peerId }), c.offsetUs / 1e6))
  t.true(near(sample(m, 'spikewire_clock_drift_ratio', { peer: pub.peerId }), c.driftPpm / 1e6))
  t.true(near(sample(m, 'spikewire_clock_uncertainty_seconds', { peer: pub.peerId }), c.uncertaintyUs / 1e6))
  t.is(sample(m, 'spikewire_clock_probes_total', { peer: pub.peerId }), c.stats.probes)
  t.is(sample(m, 'spikewire_clock_answers_total', { peer: pub.peerId }), c.stats.answers)
  t.is(sample(m, 'spikewire_clock_converged', { peer: pub.peerId }), c.converged ? 1 : 0)
  // Loopback: the offset is within a second and the uncertainty bounded (plausibility, not speed).
  t.true(Math.abs(c.offsetUs) < 1e6 && c.uncertaintyUs >= 0 && c.uncertaintyUs < 1e6)
  t.is(sample(pm, 'spikewire_clock_server_answers_total'), p.clockServer.answers)
  t.is(sample(pm, 'spikewire_clock_server_requests_total'), p.clockServer.requests)

  // The publisher: port counts, and its streams to the subscriber (the subscription's and the link's).
  t.is(sample(pm, 'spikewire_out_port_emitted_events_total', { port: 'spikes' }), EVENTS)
  t.is(sample(pm, 'spikewire_out_port_emitted_events_total', { port: 'spikes' }), p.outPorts.spikes.stats.emitted)
  t.is(sample(pm, 'spikewire_out_port_refused_events_total', { port: 'spikes' }), p.outPorts.spikes.stats.refused)
  t.is(sample(pm, 'spikewire_out_port_streams', { port: 'spikes' }), 2)
  const toSub = p.outPorts.spikes.streams.filter(x => x.peer === sub.peerId)
  t.is(toSub.length, 2)
  const sum = (k: 'events' | 'batches' | 'dropped' | 'watermarks'): number => toSub.reduce((a, x) => a + x[k], 0)
  const streamLabels = { port: 'spikes', peer: sub.peerId }
  t.is(sample(pm, 'spikewire_out_stream_sent_events_total', streamLabels), 2 * EVENTS)
  t.is(sample(pm, 'spikewire_out_stream_sent_events_total', streamLabels), sum('events'))
  t.is(sample(pm, 'spikewire_out_stream_batches_total', streamLabels), sum('batches'))
  t.is(sample(pm, 'spikewire_out_stream_watermarks_total', streamLabels), sum('watermarks'))
  t.is(sample(pm, 'spikewire_out_stream_dropped_events_total', streamLabels), sum('dropped'))
  t.is(sample(pm, 'spikewire_out_streams', streamLabels), 2)
  t.is(sample(pm, 'spikewire_out_stream_queued_events', streamLabels), toSub.reduce((a, x) => a + x.queuedEvents, 0))
  const l = p.links[0]
  t.is(sample(pm, 'spikewire_link_sent_events_total', { port: 'spikes', peer: sub.peerId, remote_port: 'in' }), l.stats.events)
  t.is(l.stats.events, EVENTS)
  t.is(sample(pm, 'spikewire_refusals_total', { what: 'open' }), p.refusals.opens)
  t.is(sample(pm, 'spikewire_connection_guard_refused_total', { reason: 'peer' }), p.connections!.refusedPeer)
  t.is(sample(pm, 'spikewire_node_info', { name: 'pub', peer: pub.peerId }), 1)

  // libp2p's own metrics and the process metrics are in the same registry.
  t.true(samples(m, 'libp2p_connection_manager_connections').length > 0)
  t.true(samples(m, 'libp2p_data_transfer_bytes_total').some(x => x.labels.protocol === '/spikewire/events/1.0.0 received' && x.value > 0), 'bytes received on the events protocol')
  t.true(samples(m, 'process_cpu_user_seconds_total').length === 1)

  // Over HTTP: the event counts, which no longer move, are the same.
  const server = await serve(t, subMetrics)
  t.regex(server.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
  const http = await scrapeHttp(server.url)
  t.is(http.status, 200)
  t.is(http.type, 'text/plain; version=0.0.4; charset=utf-8')
  t.is(sample(http.families, 'spikewire_subscription_received_events_total', labels), sub.stats().subscriptions[0].stats.events)
  t.is(sample(http.families, 'spikewire_in_port_received_events_total', { port: 'in' }), sub.stats().inPorts.in.events)
  t.is(sample(http.families, 'spikewire_latency_seconds_count', { peer: pub.peerId, stream: 'sub/spikes' }), sub.stats().subscriptions[0].latency.count)
  t.is(http.families.get('spikewire_latency_seconds')?.type, 'histogram')
  t.is(http.families.get('spikewire_subscription_received_events_total')?.type, 'counter')
  t.is(http.families.get('spikewire_clock_offset_seconds')?.type, 'gauge')

  const other = await fetch(server.url.replace('/metrics', '/'), { signal: AbortSignal.timeout(20_000) })
  t.is(other.status, 404)
  await other.text()
  const post = await fetch(server.url, { method: 'POST', signal: AbortSignal.timeout(20_000) })
  t.is(post.status, 405)
  await post.text()
})

test('an ended stream keeps its counts: the out-stream counters never go down', async t => {
  const { node: pub, metrics } = await startWithMetrics(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 2 }] }, { libp2p: false })
  const { node: sub } = await startWithMetrics(t, { name: 'sub' }, { libp2p: false })
  const port = pub.outPort('spikes')
  const first = sub.subscribe(pub.multiaddrs[0], 'spikes', { reconnect: false })
  await until(() => first.state === 'open' && port.stats.streams === 1, 20_000, 'the first subscription')
  for (let i = 0; i < 50; i++) port.emit(i % 2, Math.round(pub.clock.nowUs()), undefined)
  await until(() => first.stats.events === 50, 20_000, 'the first 50 events')
  const before = parsePromText(await metrics.scrape())
  const labels = { port: 'spikes', peer: sub.peerId }
  t.is(sample(before, 'spikewire_out_stream_sent_events_total', labels), 50)
  await first.close()
  await until(() => port.stats.streams === 0, 20_000, 'the stream to end')
  const second = sub.subscribe(pub.multiaddrs[0], 'spikes', { reconnect: false })
  await until(() => second.state === 'open' && port.stats.streams === 1, 20_000, 'the second subscription')
  for (let i = 0; i < 30; i++) port.emit(i % 2, Math.round(pub.clock.nowUs()), undefined)
  await until(() => second.stats.events === 30, 20_000, 'the next 30 events')
  const after = parsePromText(await metrics.scrape())
  // node.stats() now shows only the live stream (30); the metric counts both.
  t.is(pub.stats().outPorts.spikes.streams.find(x => x.peer === sub.peerId)?.events, 30)
  t.is(sample(after, 'spikewire_out_stream_sent_events_total', labels), 80)
  t.is(sample(after, 'spikewire_out_streams', labels), 1)
})

test('a subscription that ends keeps its counts: subscription counters summed over two never go down', async t => {
  const { node: pub } = await startWithMetrics(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 2 }] }, { libp2p: false })
  const { node: sub, metrics } = await startWithMetrics(t, { name: 'sub' }, { libp2p: false })
  const port = pub.outPort('spikes')
  const a = sub.subscribe(pub.multiaddrs[0], 'spikes', { reconnect: false })
  const b = sub.subscribe(pub.multiaddrs[0], 'spikes', { reconnect: false })
  await until(() => a.state === 'open' && b.state === 'open' && port.stats.streams === 2, 20_000, 'two subscriptions')
  for (let i = 0; i < 40; i++) port.emit(i % 2, Math.round(pub.clock.nowUs()), undefined)
  await until(() => a.stats.events === 40 && b.stats.events === 40, 20_000, 'the first 40 events on both')
  const labels = { port: 'spikes', peer: pub.peerId }
  t.is(sample(parsePromText(await metrics.scrape()), 'spikewire_subscription_received_events_total', labels), 80)
  await a.close()
  await until(() => !sub.subscriptions.has(a), 20_000, 'the first subscription to end')
  for (let i = 0; i < 10; i++) port.emit(i % 2, Math.round(pub.clock.nowUs()), undefined)
  await until(() => b.stats.events === 50, 20_000, 'the next 10 events')
  const after = parsePromText(await metrics.scrape())
  // node.stats() now shows only the subscription still there (50); the metric keeps the ended one's 40.
  t.deepEqual(sub.stats().subscriptions.map(s => s.stats.events), [50])
  t.is(sample(after, 'spikewire_subscription_received_events_total', labels), 90)
  t.is(sample(after, 'spikewire_subscription_connects_total', labels), 2)
})

test('two nodes in one process, created at once, do not share metrics', async t => {
  const [a, b] = await Promise.all([
    startWithMetrics(t, { name: 'a', ports: [{ name: 'x', direction: 'out', channels: 1 }] }),
    startWithMetrics(t, { name: 'b', ports: [{ name: 'y', direction: 'out', channels: 1 }] })
  ])
  const ma = parsePromText(await a.metrics.scrape())
  const mb = parsePromText(await b.metrics.scrape())
  t.is(sample(ma, 'spikewire_node_info', { name: 'a' }), 1)
  t.deepEqual(samples(ma, 'spikewire_node_info').map(x => x.labels.peer), [a.node.peerId])
  t.deepEqual(samples(mb, 'spikewire_node_info').map(x => x.labels.peer), [b.node.peerId])
  t.deepEqual(samples(ma, 'spikewire_out_port_emitted_events_total').map(x => x.labels.port), ['x'])
  t.deepEqual(samples(mb, 'spikewire_out_port_emitted_events_total').map(x => x.labels.port), ['y'])
  // libp2p's TCP listener metrics name each node's own listening address only.
  const port = (n: SpikewireNode): string => `127.0.0.1:${n.multiaddrs[0].split('/')[4]}`
  t.deepEqual(samples(ma, 'libp2p_tcp_listener_status_info').map(x => x.labels.address), [port(a.node)])
  t.deepEqual(samples(mb, 'libp2p_tcp_listener_status_info').map(x => x.labels.address), [port(b.node)])
  // Two servers, two registries.
  const [sa, sb] = await Promise.all([serve(t, a.metrics), serve(t, b.metrics)])
  t.not(sa.url, sb.url)
  const [ha, hb] = await Promise.all([scrapeHttp(sa.url), scrapeHttp(sb.url)])
  t.is(sample(ha.families, 'spikewire_node_info', { name: 'a' }), 1)
  t.is(sample(hb.families, 'spikewire_node_info', { name: 'b' }), 1)
  t.is(samples(ha.families, 'spikewire_node_info').length, 1)
})

test('peer labels are bounded: past maxPeers, counters sum under peer="other" and gauges leave peers out', async t => {
  const { node: pub, metrics } = await startWithMetrics(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 1 }] }, { libp2p: false, maxPeers: 1 })
  const subs = await Promise.all([startWithMetrics(t, { name: 's1' }, { libp2p: false }), startWithMetrics(t, { name: 's2' }, { libp2p: false })])
  const port = pub.outPort('spikes')
  const s1 = subs[0].node.subscribe(pub.multiaddrs[0], 'spikes')
  await until(() => s1.state === 'open' && port.stats.streams === 1, 20_000, 'the first subscriber')
  const s2 = subs[1].node.subscribe(pub.multiaddrs[0], 'spikes')
  await until(() => s2.state === 'open' && port.stats.streams === 2, 20_000, 'the second subscriber')
  for (let i = 0; i < 20; i++) port.emit(0, Math.round(pub.clock.nowUs()), undefined)
  await until(() => s1.stats.events === 20 && s2.stats.events === 20, 20_000, 'the events')
  const m = parsePromText(await metrics.scrape())
  t.deepEqual(samples(m, 'spikewire_out_stream_sent_events_total').map(x => [x.labels.peer, x.value]).sort(), [[subs[0].node.peerId, 20], ['other', 20]].sort())
  t.is(sample(m, 'spikewire_metrics_peers_over_limit'), 1)
})

test('docs/metrics.md lists every spikewire_ metric, and nothing else by that prefix', async t => {
  const { node, metrics } = await startWithMetrics(t, { name: 'docs' }, { libp2p: false })
  t.truthy(node)
  // Names only (nothing is scraped): the playout, merge, gateway and relay families register on creation.
  metrics.addPlayout({ input: 'in', output: 'out' }, { stats: () => { throw new Error('not scraped') } })
  metrics.addMerge({ input: 'pre+post', output: 'out' }, { stats: () => { throw new Error('not scraped') } })
  const gateway = new Registry()
  registerGatewayMetrics(gateway, { stats: () => { throw new Error('not scraped') } })
  const relay = new RelayMetrics({ stats: () => { throw new Error('not scraped') } }, { processMetrics: false })
  const registered = new Set([metrics.registry, gateway, relay.registry].flatMap(r => r.getMetricsAsArray().map(m => m.name)).filter(n => n.startsWith('spikewire_')))
  const doc = await readFile(new URL('../../docs/metrics.md', import.meta.url), 'utf8')
  const documented = new Set([...doc.matchAll(/^\| `(spikewire_[a-z0-9_]+)` \|/gm)].map(m => m[1]))
  t.deepEqual([...registered].filter(n => !documented.has(n)), [], 'registered but not documented')
  t.deepEqual([...documented].filter(n => !registered.has(n)), [], 'documented but not registered')
})

test('a hosted model\'s playout: received, delivered and late events (delay violations) match its own stats', async t => {
  const metrics = await NodeMetrics.create({ libp2p: false })
  const hosted = await startHostedNode({
    name: 'neuron',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    ports: [{ name: 'in', direction: 'in', channels: 1, push: '*' }, { name: 'spikes', direction: 'out', channels: 1 }],
    hosts: [{ model: 'lif', input: 'in', output: 'spikes', params: { wUnitMv: 8 }, delayUs: 20_000 }]
  }, { ...metrics.nodeOptions })
  t.teardown(async () => { await hosted.node.stop() })
  metrics.watchHosted(hosted)
  // The source may emit events up to 10 s old: those arrive long after time + d (violations).
  const src = await createNode({ name: 'src', listen: ['/ip4/127.0.0.1/tcp/0'], latenessUs: 10_000_000, ports: [{ name: 'out', direction: 'out', channels: 1 }] })
  t.teardown(async () => { await src.stop() })
  const link = src.push('out', hosted.node.multiaddrs[0], 'in')
  await link.ready()
  const port = src.outPort('out')
  const now = Math.round(src.clock.nowUs())
  for (let k = 0; k < 30; k++) t.true(port.emit(0, now - 2_000_000 + k * 1000))
  for (let k = 0; k < 50; k++) t.true(port.emit(0, now + 1000 + k * 200))
  const host = hosted.hosts[0].host
  await until(() => 'playout' in host && host.playout.stats().delivered === 80, 20_000, 'every event played out')
  const scraped = metrics.scrape()
  const s = (host as { playout: { stats: () => { received: number, delivered: number, violations: number, late: number, overflow: number } } }).playout.stats()
  const m = parsePromText(await scraped)
  const labels = { input: 'in', output: 'spikes' }
  t.is(sample(m, 'spikewire_playout_received_events_total', labels), s.received)
  t.is(sample(m, 'spikewire_playout_delivered_events_total', labels), s.delivered)
  t.is(sample(m, 'spikewire_playout_violations_total', labels), s.violations)
  t.true(s.violations >= 30, `violations ${s.violations}`)
  t.is(sample(m, 'spikewire_playout_late_events_total', labels), s.late)
  t.is(sample(m, 'spikewire_playout_overflow_events_total', labels), s.overflow)
  t.is(sample(m, 'spikewire_playout_delay_seconds', labels), 0.02)
})

test('refusals: a connection outside the allow list, opens of an unknown port and of a closed in port, as the node counts them', async t => {
  const { node: friend } = await startWithMetrics(t, { name: 'friend' }, { libp2p: false })
  const { node: stranger } = await startWithMetrics(t, { name: 'stranger' }, { libp2p: false })
  const { node: guarded, metrics } = await startWithMetrics(t, {
    name: 'guarded',
    allow: [friend.peerId],
    ports: [{ name: 'open', direction: 'out', channels: 1 }, { name: 'stim', direction: 'in', channels: 1 }]
  }, { libp2p: false })
  await t.throwsAsync(stranger.describe(guarded.multiaddrs[0]))
  const unknown = friend.subscribe(guarded.multiaddrs[0], 'nope', { reconnect: false })
  await t.throwsAsync(unknown.ready())
  friend.addOutPort({ name: 'drive', channels: 1 })
  const push = friend.push('drive', guarded.multiaddrs[0], 'stim', { reconnect: false })
  await t.throwsAsync(push.ready())
  await until(() => guarded.refusals.connections >= 1 && guarded.refusals.opens >= 2, 20_000, 'the refusals')
  const scraped = metrics.scrape()
  const s = guarded.stats()
  const m = parsePromText(await scraped)
  t.is(sample(m, 'spikewire_refusals_total', { what: 'connection' }), s.refusals.connections)
  t.is(sample(m, 'spikewire_refusals_total', { what: 'open' }), s.refusals.opens)
  t.true(s.refusals.connections >= 1 && s.refusals.opens >= 2)
  t.is(sample(m, 'spikewire_in_port_refused_opens_total', { port: 'stim' }), s.inPorts.stim.refused)
  t.is(s.inPorts.stim.refused, 1)
})

test('connection guard: sockets refused per address, as the guard counts them', async t => {
  const { node: target, metrics } = await startWithMetrics(t, { name: 'target', limits: { maxConnectionsPerAddress: 1 } }, { libp2p: false })
  const { node: first } = await startWithMetrics(t, { name: 'first' }, { libp2p: false })
  const { node: second } = await startWithMetrics(t, { name: 'second' }, { libp2p: false })
  await first.describe(target.multiaddrs[0], { signal: AbortSignal.timeout(20_000) })
  await t.throwsAsync(second.describe(target.multiaddrs[0], { signal: AbortSignal.timeout(20_000) }))
  await until(() => (target.stats().connections?.refusedAddress ?? 0) >= 1, 20_000, 'a socket refused')
  const scraped = metrics.scrape()
  const g = target.stats().connections!
  const m = parsePromText(await scraped)
  t.is(sample(m, 'spikewire_connection_guard_refused_total', { reason: 'address' }), g.refusedAddress)
  t.is(sample(m, 'spikewire_connection_guard_refused_total', { reason: 'pending' }), g.refusedPending)
  t.is(sample(m, 'spikewire_connection_guard_inbound', { state: 'connected' }), g.inbound)
  t.is(g.inbound, 1)
})
