/**
 * Limits per peer, per address and per connection (spec §11.4) over real nodes: one peer cannot take
 * every subscriber slot of a port; sockets that never finish their handshake, and idle connections from
 * many identities, cannot lock a newcomer out. Hostile peers dial from 127.0.0.2 (loopback, but another
 * host to the per-address limits); newcomers come from 127.0.0.1.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { CLOCK_PROTOCOL, DESCRIBE_PROTOCOL, EVENTS_PROTOCOL, encodeFrame } from '../../src/codec/index.ts'
import type { Message } from '../../src/codec/index.ts'
import type { LimitsConfig } from '../../src/node/init.ts'
import type { SpikewireNode } from '../../src/node/node.ts'
import { outcome } from '../helpers/adversary.ts'
import { startNode, until } from '../helpers/nodes.ts'

async function hostile (t: ExecutionContext, init: { localAddress?: string, privateKey?: PrivateKey } = {}): Promise<Libp2p> {
  const node = await createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: [] },
    transports: [tcp({ dialOpts: (init.localAddress === undefined ? {} : { localAddress: init.localAddress }) as Record<string, unknown> })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxInboundStreams: 1024, maxOutboundStreams: 1024 })],
    connectionManager: { inboundConnectionThreshold: 10_000 }
  })
  t.teardown(async () => { await node.stop() })
  return node
}

async function target (t: ExecutionContext, limits: LimitsConfig): Promise<SpikewireNode> {
  return await startNode(t, { name: 'target', limits, ports: [{ name: 'spikes', direction: 'out', channels: 8 }] })
}

/** A newcomer with a fresh identity from 127.0.0.1 describes the target. */
async function newcomerDescribes (t: ExecutionContext, node: SpikewireNode): Promise<void> {
  const newcomer = await startNode(t, { name: 'newcomer' }, { clockSync: false })
  const d = await newcomer.describe(node.multiaddrs[0], { signal: AbortSignal.timeout(20_000) })
  t.is(d.name, 'target')
  await newcomer.stop()
}

function rawSocket (port: number, localAddress: string): { socket: Socket, closed: Promise<number> } {
  const socket = connect({ host: '127.0.0.1', port, localAddress })
  socket.on('error', () => {})
  const t0 = performance.now()
  return { socket, closed: new Promise(resolve => socket.on('close', () => { resolve(performance.now() - t0) })) }
}

const tcpPort = (node: SpikewireNode): number => Number(/\/tcp\/(\d+)\//.exec(node.multiaddrs[0])![1])

test('one peer gets at most maxStreamsPerPeer events streams; the slot comes back when one ends; others still subscribe', async t => {
  const node = await target(t, { maxStreamsPerPeer: 4 })
  const adversary = await hostile(t)
  const streams = await Promise.all(Array.from({ length: 6 }, async () => {
    const s = await adversary.dialProtocol(multiaddr(node.multiaddrs[0]), EVENTS_PROTOCOL)
    const o = outcome(s, 20_000)
    s.send(encodeFrame({ type: 'open', mode: 'subscribe', port: 'spikes' }))
    return { s, o }
  }))
  await until(() => node.stats().outPorts.spikes.streams.length === 4 && node.refusals.opens === 2, 20_000, '4 accepted, 2 refused')
  const refused = await Promise.all(streams.map(async x => await Promise.race([x.o, new Promise(resolve => setTimeout(() => { resolve(undefined) }, 500))])))
  const codes = refused.flatMap(o => o === undefined ? [] : (o as Awaited<ReturnType<typeof outcome>>).messages.filter(m => m.type === 'reject').map(m => m.type === 'reject' ? m.code : ''))
  t.deepEqual(codes, ['too-many-streams', 'too-many-streams'])

  // Another peer is not limited by the first one's streams.
  const other = await startNode(t, { name: 'other' }, { clockSync: false })
  const sub = other.subscribe(node.multiaddrs[0], 'spikes', { reconnect: false })
  await sub.ready()
  t.is(node.stats().outPorts.spikes.streams.length, 5)

  // The first peer's slot comes back when one of its streams ends.
  const open = streams.find(x => x.s.status === 'open')!
  open.s.abort(new Error('done'))
  await until(() => node.stats().outPorts.spikes.streams.length === 4, 20_000, 'the aborted stream to be detached')
  const again = await adversary.dialProtocol(multiaddr(node.multiaddrs[0]), EVENTS_PROTOCOL)
  const answered = outcome(again, 20_000)
  again.send(encodeFrame({ type: 'open', mode: 'subscribe', port: 'spikes' }))
  await until(() => node.stats().outPorts.spikes.streams.length === 5, 20_000, 'the new stream to be accepted')
  again.abort(new Error('done'))
  await answered.catch(() => {})
})

/** Open `n` streams of `protocol` at once; each resolves with its outcome, or undefined if still open after `waitMs`. */
async function openStreams (adversary: Libp2p, node: SpikewireNode, protocol: string, n: number) {
  return await Promise.all(Array.from({ length: n }, async () => {
    const s = await adversary.dialProtocol(multiaddr(node.multiaddrs[0]), protocol)
    return { s, o: outcome(s, 30_000) }
  }))
}

async function settled<T> (p: Promise<T>, waitMs: number): Promise<T | undefined> {
  return await Promise.race([p, new Promise<undefined>(resolve => setTimeout(() => { resolve(undefined) }, waitMs))])
}

const closeCodes = (messages: Message[]): unknown[] => messages.flatMap(m => m.type === 'close' ? [m.code] : [])

for (const [protocol, what, limit] of [
  [DESCRIBE_PROTOCOL, 'describe', 'maxDescribeStreamsPerPeer'],
  [CLOCK_PROTOCOL, 'clock', 'maxClockStreamsPerPeer']
] as const) {
  test(`one peer gets at most ${limit} ${what} streams: one more gets close{too-many-streams}, counted; the slot comes back; others are served`, async t => {
    const node = await target(t, { [limit]: 2 })
    const adversary = await hostile(t)
    // Each stream sends a first byte (describe: the start of a frame, so the request is never complete) or a
    // request (clock): the first two are served and stay open, waiting for more (until the describe timeout or
    // the clock idle timeout); the others are refused.
    const streams = await openStreams(adversary, node, protocol, 4)
    for (const { s } of streams) s.send(what === 'describe' ? Uint8Array.of(2) : encodeFrame({ type: 'clock-request', id: 1, t1: 1 }))
    await until(() => node.refusals[what] === 2, 20_000, `2 ${what} streams refused`)
    const ended = await Promise.all(streams.map(async x => await settled(x.o, 1000)))
    t.deepEqual(ended.flatMap(o => o === undefined ? [] : [closeCodes(o.messages)]), [['too-many-streams'], ['too-many-streams']])
    t.is(ended.filter(o => o === undefined).length, 2, 'the first two are held')
    t.is(node.stats().refusals[what], 2)

    // Another peer is served meanwhile.
    const other = await hostile(t)
    const [served] = await openStreams(other, node, protocol, 1)
    served.s.send(encodeFrame(what === 'describe' ? { type: 'describe-request' } : { type: 'clock-request', id: 1, t1: 1 }))
    if (what === 'clock') void served.s.close().catch(() => {})
    const answer = await served.o
    t.is(answer.messages[0]?.type, what === 'describe' ? 'description' : 'clock-response')

    // The first peer's slot comes back when one of its streams ends.
    streams.find((_, i) => ended[i] === undefined)!.s.abort(new Error('done'))
    await until(() => node.refusals[what] === 2, 20_000, 'the count unchanged')
    const [again] = await openStreams(adversary, node, protocol, 1)
    again.s.send(encodeFrame(what === 'describe' ? { type: 'describe-request' } : { type: 'clock-request', id: 1, t1: 1 }))
    if (what === 'clock') void again.s.close().catch(() => {})
    const r = await again.o
    t.is(r.messages[0]?.type, what === 'describe' ? 'description' : 'clock-response')
    t.is(node.refusals[what], 2)
  })
}

/** The handshake deadline of the held-sockets test. */
const DEADLINE_MS = 8000

test('sockets that never start the handshake: a few per address are held until the deadline, the rest refused at once; a newcomer gets in', async t => {
  const node = await target(t, { maxPendingPerAddress: 2, handshakeTimeoutMs: DEADLINE_MS })
  const sockets = Array.from({ length: 6 }, () => rawSocket(tcpPort(node), '127.0.0.2'))
  await until(() => (node.stats().connections?.refusedPending ?? 0) >= 4, 20_000, '4 sockets refused')
  await newcomerDescribes(t, node)
  const lifetimes = await Promise.all(sockets.map(async s => await s.closed))
  lifetimes.sort((a, b) => a - b)
  // Two held until the handshake deadline, four closed before it. The deadline is long (8 s) so that a busy
  // machine, which may take a second or more to refuse, cannot blur the two groups.
  t.true(lifetimes[3] < DEADLINE_MS - 100, `refused sockets lived ${lifetimes.slice(0, 4).map(Math.round).join(', ')} ms`)
  t.true(lifetimes[4] >= DEADLINE_MS - 100, `held sockets lived ${lifetimes.slice(4).map(Math.round).join(', ')} ms`)
  await until(() => node.stats().connections?.pending === 0, 20_000, 'no handshake left pending')
})

test('sockets that never start the handshake from ten addresses cannot take every handshake slot: a newcomer gets in', async t => {
  // 10 addresses × 8 (maxPendingPerAddress) = 80 > libp2p's 64 handshakes in progress; the deadline is long, so
  // without the share the newcomer would wait for it.
  const node = await target(t, { handshakeTimeoutMs: 60_000 })
  const sockets = Array.from({ length: 80 }, (_, i) => rawSocket(tcpPort(node), `127.0.0.${2 + i % 10}`))
  t.teardown(() => { for (const s of sockets) s.socket.destroy() })
  const handled = (): number => (node.stats().connections?.refusedShare ?? 0) + (node.stats().connections?.pending ?? 0)
  await until(() => handled() === 80, 20_000, 'every socket held or refused')
  const stats = node.stats().connections!
  t.true(stats.pending <= 48, `${stats.pending} handshakes in progress: a quarter of the 64 slots stays free`)
  t.is(stats.refusedPending, 0, 'no address reached its own limit')
  await newcomerDescribes(t, node)
})

test('connections from one address are bounded; a newcomer from another address gets in', async t => {
  const node = await target(t, { maxConnectionsPerAddress: 3 })
  const peers = await Promise.all(Array.from({ length: 5 }, async () => await hostile(t, { localAddress: '127.0.0.2' })))
  await Promise.allSettled(peers.map(async p => await p.dial(multiaddr(node.multiaddrs[0]), { signal: AbortSignal.timeout(20_000) })))
  await until(() => node.stats().connections?.refusedAddress === 2, 20_000, '2 sockets refused')
  await until(() => node.libp2p.getConnections().length === 3, 20_000, '3 connections')
  t.is(node.stats().connections?.inbound, 3)
  await newcomerDescribes(t, node)
})

test('connections from one peer are bounded', async t => {
  const node = await target(t, { maxConnectionsPerPeer: 2 })
  const key = await generateKeyPair('Ed25519')
  const twins = await Promise.all(Array.from({ length: 3 }, async () => await hostile(t, { privateKey: key })))
  for (const p of twins) await p.dial(multiaddr(node.multiaddrs[0]), { signal: AbortSignal.timeout(20_000) }).catch(() => {})
  await until(() => node.stats().connections?.refusedPeer === 1, 20_000, 'the third connection refused')
  await until(() => node.libp2p.getConnections().length === 2, 20_000, '2 connections')
  t.is(node.stats().connections?.refusedPeer, 1)
})

test('an idle inbound connection is closed after idleConnectionMs; one with a stream stays', async t => {
  const node = await target(t, { idleConnectionMs: 1000 })
  const idle = await hostile(t)
  const conn = await idle.dial(multiaddr(node.multiaddrs[0]))
  const busy = await startNode(t, { name: 'busy' }, { clockSync: false })
  const sub = busy.subscribe(node.multiaddrs[0], 'spikes', { reconnect: false })
  await sub.ready()
  await until(() => conn.status !== 'open', 20_000, 'the idle connection to be closed')
  t.true((node.stats().connections?.prunedIdle ?? 0) >= 1)
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.is(sub.state, 'open')
  t.is(node.libp2p.getConnections().length, 1)
})

test('near maxConnections, an address gets no more than its fair share: the reserve stays free for a newcomer', async t => {
  // 8 connections, 2 kept free: once 6 are used, an address holding sockets gets more only below its share.
  const node = await target(t, { maxConnections: 8 })
  const peers = await Promise.all(Array.from({ length: 8 }, async () => await hostile(t, { localAddress: '127.0.0.2' })))
  let refused = 0
  for (const p of peers) {
    await p.dial(multiaddr(node.multiaddrs[0]), { signal: AbortSignal.timeout(20_000) }).catch(() => { refused++ })
  }
  await until(() => node.stats().connections?.refusedShare === 2, 20_000, '2 sockets refused for the share')
  t.is(refused, 2)
  t.is(node.stats().connections?.inbound, 6)
  await newcomerDescribes(t, node)
})

test('near maxConnections, idle connections of the most crowded address past their grace make room', async t => {
  const node = await target(t, { maxConnections: 8 })
  const crowd = await Promise.all(Array.from({ length: 6 }, async () => await hostile(t, { localAddress: '127.0.0.2' })))
  for (const p of crowd) await p.dial(multiaddr(node.multiaddrs[0]), { signal: AbortSignal.timeout(20_000) })
  // A second address is below its share (6 slots / 2 addresses): it gets in, and the node is over its reserve.
  const others = await Promise.all(Array.from({ length: 2 }, async () => await hostile(t, { localAddress: '127.0.0.3' })))
  for (const p of others) await p.dial(multiaddr(node.multiaddrs[0]), { signal: AbortSignal.timeout(20_000) })
  await until(() => (node.stats().connections?.prunedPressure ?? 0) >= 2, 20_000, 'two idle connections to be pruned')
  await until(() => node.libp2p.getConnections().length <= 6, 20_000, 'the pruned connections to be gone')
  const from = (ip: string): number => node.libp2p.getConnections().filter(c => c.remoteAddr.toString().startsWith(`/ip4/${ip}/`)).length
  t.is(from('127.0.0.2'), 4)
  t.is(from('127.0.0.3'), 2)
  await newcomerDescribes(t, node)
})

test('an address whose idle connections keep being closed is held to fewer connections for a while', async t => {
  const node = await target(t, { idleConnectionMs: 1000, maxPendingPerAddress: 2 })
  const first = await Promise.all(Array.from({ length: 8 }, async () => await hostile(t, { localAddress: '127.0.0.2' })))
  for (const p of first) await p.dial(multiaddr(node.multiaddrs[0]), { signal: AbortSignal.timeout(20_000) })
  await until(() => (node.stats().connections?.prunedIdle ?? 0) >= 8, 20_000, '8 idle connections closed')
  const next = await Promise.all(Array.from({ length: 4 }, async () => await hostile(t, { localAddress: '127.0.0.2' })))
  for (const p of next) await p.dial(multiaddr(node.multiaddrs[0]), { signal: AbortSignal.timeout(20_000) }).catch(() => {})
  await until(() => node.stats().connections?.refusedAddress === 2, 20_000, '2 of the next 4 refused')
  t.true((node.stats().connections?.inbound ?? 0) <= 2)
  await newcomerDescribes(t, node)
})
