/**
 * `--metrics HOST:PORT` on real child processes: `spikewire node` subscribing to a publisher in this
 * process, and `spikewire gateway udp2020` fed by a legacy UDP socket, scraped over HTTP; bad values are
 * usage errors (exit 2), a taken port a runtime failure (exit 1).
 */
import test from 'ava'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { eventDatagram } from '../../src/gateway/udp2020/datagram.ts'
import type { Udp2020Stats } from '../../src/gateway/udp2020/gateway.ts'
import { cli, run, tempDir, writeJson } from '../cli/helpers.ts'
import type { Cli } from '../cli/helpers.ts'
import { startNode, until } from '../helpers/nodes.ts'
import { Legacy } from '../gateway/helpers.ts'
import { NodeMetrics } from '../../src/metrics/index.ts'
import { parsePromText, sample, samples } from './prom-text.ts'
import type { PromFamily } from './prom-text.ts'

// Generous: this file starts a dozen child processes at once, on a shared 2-core machine.
const WAIT = 60_000
const EVENTS = 300

async function scrape (url: string): Promise<Map<string, PromFamily>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(WAIT) })
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`)
  if (res.headers.get('content-type') !== 'text/plain; version=0.0.4; charset=utf-8') throw new Error(`content type ${res.headers.get('content-type')}`)
  return parsePromText(await res.text())
}

/** Scrape until `ok` holds for the parsed metrics (bounded). */
async function scrapeUntil (url: string, ok: (m: Map<string, PromFamily>) => boolean, what: string): Promise<Map<string, PromFamily>> {
  const end = Date.now() + WAIT
  for (;;) {
    const m = await scrape(url)
    if (ok(m)) return m
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

const startedLine = async (proc: Cli): Promise<Record<string, unknown>> => {
  await proc.until(() => proc.json.some(l => l.event === 'started'), WAIT, 'the started line')
  return proc.json.find(l => l.event === 'started')!
}

test('spikewire node --metrics serves the node\'s counts; they match the publisher\'s and the node\'s own final stats', async t => {
  const pub = await startNode(t, { name: 'pub', ports: [{ name: 'spikes', direction: 'out', channels: 4 }] })
  const dir = await tempDir(t)
  const config = await writeJson(join(dir, 'sub.json'), {
    name: 'sub',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    ports: [{ name: 'in', direction: 'in', channels: 4 }],
    subscriptions: [{ from: pub.multiaddrs[0], port: 'spikes', to: 'in' }]
  })
  const proc = cli(t, ['node', '--json', '--stats', '3600', '--metrics', '127.0.0.1:0', '--config', config])
  const started = await startedLine(proc)
  const url = started.metrics as string
  t.regex(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
  const port = pub.outPort('spikes')
  await until(() => port.stats.streams === 1, WAIT, 'the child to subscribe')
  for (let i = 0; i < EVENTS / 10; i++) {
    const now = Math.round(pub.clock.nowUs())
    for (let k = 0; k < 10; k++) port.emit(k % 4, now + k)
    await new Promise(resolve => setTimeout(resolve, 2))
  }
  // The source has stopped: once the child has everything, its counts stay put.
  const subLabels = { port: 'spikes', peer: pub.peerId }
  const m = await scrapeUntil(url, m => samples(m, 'spikewire_subscription_received_events_total').some(s => s.value === EVENTS), 'the child to receive every event')
  const sent = pub.stats().outPorts.spikes.streams
  t.is(sent.length, 1)
  t.is(sent[0].events, EVENTS)
  t.is(sample(m, 'spikewire_subscription_received_events_total', subLabels), sent[0].events)
  t.is(sample(m, 'spikewire_subscription_gap_events_total', subLabels), 0)
  t.is(sample(m, 'spikewire_subscription_lost_events_total', subLabels), 0)
  t.is(sample(m, 'spikewire_node_info', { name: 'sub', peer: started.peer as string }), 1)
  t.true(samples(m, 'libp2p_connection_manager_connections').length > 0, 'libp2p\'s metrics')
  t.true(samples(m, 'spikewire_clock_probes_total').some(s => s.labels.peer === pub.peerId))

  // The node's own statistics, printed when it stops, agree.
  proc.kill('SIGTERM')
  t.is((await proc.exit(WAIT)).code, 0, proc.stderr)
  const final = proc.json.find(l => l.event === 'stats' && l.final === true) as { subscriptions: Array<{ events: number, batches: number }> } | undefined
  t.is(final?.subscriptions[0].events, sample(m, 'spikewire_subscription_received_events_total', subLabels))
  t.is(final?.subscriptions[0].batches, sample(m, 'spikewire_subscription_batches_total', subLabels))
  // The server is gone with the node.
  await t.throwsAsync(fetch(url, { signal: AbortSignal.timeout(5000) }))
})

test('the human start line names the metrics URL', async t => {
  const dir = await tempDir(t)
  const config = await writeJson(join(dir, 'n.json'), { name: 'n', listen: ['/ip4/127.0.0.1/tcp/0'], ports: [{ name: 'spikes', direction: 'out', channels: 1 }] })
  const proc = cli(t, ['node', '--metrics', '127.0.0.1:0', '--config', config])
  await proc.until(() => /^metrics +http:\/\/127\.0\.0\.1:\d+\/metrics$/m.test(proc.stdout), WAIT, 'the metrics line')
  const url = /^metrics +(\S+)$/m.exec(proc.stdout)![1]
  const m = await scrape(url)
  t.is(sample(m, 'spikewire_out_port_emitted_events_total', { port: 'spikes' }), 0)
})

test('a bad --metrics value is a usage error (exit 2); a port already taken fails the command (exit 1)', async t => {
  const missing = join(await tempDir(t), 'missing.json')
  const bad = ['nope', '127.0.0.1', '127.0.0.1:70000', ':9464', '127.0.0.1:port', 'http://127.0.0.1:9464']
  const results = await Promise.all([
    ...bad.map(async v => await run(t, ['node', '--config', missing, '--metrics', v], WAIT)),
    run(t, ['node', '--config', missing, '--metrics'], WAIT),
    run(t, ['gateway', 'udp2020', '--config', missing, '--metrics', 'nope'], WAIT),
    run(t, ['relay', '--config', missing, '--metrics', '[::1]'], WAIT)
  ])
  for (const r of results) {
    t.is(r.code, 2, r.stderr)
    t.regex(r.stderr, /--metrics/)
    t.regex(r.stderr, /see spikewire (node|gateway|relay) --help/)
    t.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr)
  }

  const taken = createServer()
  await new Promise<void>(resolve => { taken.listen(0, '127.0.0.1', resolve) })
  t.teardown(() => { taken.close() })
  const dir = await tempDir(t)
  const config = await writeJson(join(dir, 'n.json'), { name: 'n', listen: ['/ip4/127.0.0.1/tcp/0'] })
  const r = await run(t, ['node', '--config', config, '--metrics', `127.0.0.1:${(taken.address() as AddressInfo).port}`], WAIT)
  t.is(r.code, 1, r.stderr)
  t.regex(r.stderr, /^spikewire node: .*--metrics: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/m)
})

test('spikewire gateway udp2020 --metrics exports the gateway\'s counters, equal to its own stats', async t => {
  const dir = await tempDir(t)
  const file = await writeJson(join(dir, 'gw.json'), { node: { name: 'gw', listen: ['/ip4/127.0.0.1/tcp/0'] }, udp2020: { listen: '127.0.0.1:0', senders: [{ code: 'A', port: 'axon', channels: 8 }] } })
  const proc = cli(t, ['gateway', 'udp2020', '--json', '--stats', '0.2', '--metrics', '127.0.0.1:0', '--config', file])
  const started = await startedLine(proc)
  const url = started.metrics as string
  const a = await Legacy.open(t, started.udp as string)
  for (let i = 0; i < 5; i++) await a.send(eventDatagram('A', i, 1, 20))
  await a.send(new Uint8Array(7))
  await a.send(eventDatagram('A', 8, 0, 0))
  const m = await scrapeUntil(url, m => samples(m, 'spikewire_udp2020_datagrams_total')[0]?.value === 7, 'seven datagrams')
  const gw = await (async (): Promise<Udp2020Stats> => {
    await proc.until(() => proc.json.some(l => l.event === 'stats' && (l.parts as { udp2020: Udp2020Stats }).udp2020.datagrams === 7), WAIT, 'the gateway\'s stats')
    return (proc.json.filter(l => l.event === 'stats').at(-1)!.parts as { udp2020: Udp2020Stats }).udp2020
  })()
  t.is(sample(m, 'spikewire_udp2020_datagrams_total'), gw.datagrams)
  t.is(sample(m, 'spikewire_udp2020_events_total'), gw.events)
  t.is(gw.events, 5)
  t.is(sample(m, 'spikewire_udp2020_sender_events_total', { code: 'A', port: 'axon' }), gw.senders.A.events)
  for (const [reason, n] of Object.entries(gw.malformed)) t.is(sample(m, 'spikewire_udp2020_malformed_datagrams_total', { reason }), n)
  t.is(Object.values(gw.malformed).reduce((x, y) => x + y, 0), 2)
  t.is(sample(m, 'spikewire_out_port_emitted_events_total', { port: 'axon' }), 5)
})

test('spikewire relay --metrics exports the relay\'s counters, equal to its own stats', async t => {
  const dir = await tempDir(t)
  const file = await writeJson(join(dir, 'relay.json'), { listen: ['/ip4/127.0.0.1/tcp/0'], reservations: '*' })
  const proc = cli(t, ['relay', '--json', '--stats', '3600', '--metrics', '127.0.0.1:0', '--config', file])
  const started = await startedLine(proc)
  const url = started.metrics as string
  t.regex(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
  const relayAddr = (started.multiaddrs as string[]).find(a => a.includes('/tcp/') && !a.includes('/ws'))!
  const pubMetrics = await NodeMetrics.create({ libp2p: false })
  const pub = await startNode(t, { name: 'pub', listen: [], relays: [relayAddr], ports: [{ name: 'spikes', direction: 'out', channels: 2 }] }, { ...pubMetrics.nodeOptions })
  pubMetrics.watch(pub)
  await pub.relaysReserved({ signal: AbortSignal.timeout(WAIT) })
  // The node's side: its reservation on the relay.
  const nm = parsePromText(await pubMetrics.scrape())
  t.is(sample(nm, 'spikewire_node_relay_reserved', { relay: relayAddr }), 1)
  t.is(sample(nm, 'spikewire_node_relay_reservations_total', { relay: relayAddr }), pub.relays[0].reservations)
  const sub = await startNode(t, { name: 'sub', listen: [] })
  const s = sub.subscribe(`${relayAddr}/p2p-circuit/p2p/${pub.peerId}`, 'spikes')
  await s.ready()
  const port = pub.outPort('spikes')
  const t0 = Math.round(pub.clock.nowUs())
  for (let k = 0; k < 100; k++) port.emit(k % 2, t0 + k)
  await until(() => s.stats.events === 100, WAIT, 'the events through the relay')
  const m = await scrapeUntil(url, m => samples(m, 'spikewire_relay_connections_total')[0]?.value >= 1, 'a relayed connection')
  t.is(sample(m, 'spikewire_relay_info', { peer: started.peer as string }), 1)
  t.is(sample(m, 'spikewire_relay_reservations'), 1)
  t.is(sample(m, 'spikewire_relay_reservations_made_total'), 1)
  t.true(sample(m, 'spikewire_relay_bytes_total', { direction: 'to_reserved' }) > 0)
  t.true(sample(m, 'spikewire_relay_bytes_total', { direction: 'from_reserved' }) > 0)
  t.is(sample(m, 'spikewire_relay_refusals_total', { reason: 'connect_not_allowed' }), 0)
  // libp2p's own metrics of the relay's peer share the registry (once), with the process metrics.
  t.true(samples(m, 'libp2p_connection_manager_connections').length > 0, 'libp2p\'s metrics of the relay')
  t.is(samples(m, 'process_cpu_user_seconds_total').length, 1)
  // The relay's own final stats: the counts that do not move with traffic are equal, the bytes only grow.
  proc.kill('SIGTERM')
  t.is((await proc.exit(WAIT)).code, 0, proc.stderr)
  const final = proc.json.find(l => l.event === 'stats' && l.final === true) as unknown as { reservations: { made: number }, relayed: { total: number, bytesToReserved: number } }
  t.is(final.reservations.made, sample(m, 'spikewire_relay_reservations_made_total'))
  t.is(final.relayed.total, sample(m, 'spikewire_relay_connections_total'))
  t.true(final.relayed.bytesToReserved >= sample(m, 'spikewire_relay_bytes_total', { direction: 'to_reserved' }))
})
