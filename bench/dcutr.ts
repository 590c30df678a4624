/**
 * Does direct connection upgrade through hole punching (DCUtR, @libp2p/dcutr) work from Node with this
 * js-libp2p between two NATed labs? A reproducible experiment on the namespace topology of
 * test/helpers/netns.ts (needs root):
 *
 *   node bench/dcutr.ts --netns [--wait S] [--log]
 *
 * A relay (circuit relay v2 server, no limits) runs on the public net; plain libp2p peers (TCP, Noise,
 * Yamux, identify, circuit relay transport, dcutr) reserve a slot on it. Peer A dials peer B at B's
 * /p2p-circuit address; DCUtR then runs on the relayed connection (B, the inbound side, starts it). After
 * `--wait` seconds (default 15) each case reports the connections A holds to B (direct or relayed), what
 * each peer offered, the dcutr debug lines, and per NAT router the connections it masqueraded and the
 * packets from the internet it dropped during the case (nft counters).
 *
 * Cases, one JSON line each:
 * - `control`: A on the public host (no NAT, and it announces its public address: libp2p does not offer an
 *   unverified public listen address by itself), B in a lab. B's unilateral upgrade (dial A's public
 *   address) should work: it shows that DCUtR runs at all here.
 * - `nat`: A and B in two labs, each behind its own NAT router (masquerade, no inbound): the real case.
 * - `nat-announce`: the same, but each peer also announces its router's public address with its listen
 *   port (what a peer that knew its public address would offer), to give the hole punch its best chance.
 *
 * The public net uses 11.0.0.0/24, because libp2p counts the documentation ranges as private and DCUtR
 * offers and dials public addresses only. `--log` prints the libp2p:dcutr debug lines of each peer.
 * Child roles (`--role relay|peer`) are this same file, run inside the namespaces.
 */
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { ChildProcess } from 'node:child_process'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import type { TCPOptions } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { multiaddr } from '@multiformats/multiaddr'
import { createTopology, leftovers, routerCounters, tool } from '../test/helpers/netns.ts'
import type { RouterCounters } from '../test/helpers/netns.ts'

const SELF = fileURLToPath(import.meta.url)
const RELAY_PORT = 4011
const PEER_PORT = 4012

const { values } = parseArgs({
  options: {
    netns: { type: 'boolean', default: false },
    role: { type: 'string' },
    relay: { type: 'string' },
    dial: { type: 'string' },
    announce: { type: 'string' },
    'same-port': { type: 'boolean', default: false },
    wait: { type: 'string', default: '15' },
    log: { type: 'boolean', default: false },
    case: { type: 'string' },
    debug: { type: 'string', default: 'libp2p:dcutr*,libp2p:circuit-relay:transport*' }
  }
})

function print (o: unknown): void {
  process.stdout.write(JSON.stringify(o) + '\n')
}

async function libp2pNode (role: 'relay' | 'peer'): Promise<Libp2p> {
  const gater = { denyDialMultiaddr: async () => false }
  if (role === 'relay') {
    return await createLibp2p({
      addresses: { listen: [`/ip4/0.0.0.0/tcp/${RELAY_PORT}`] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: gater,
      services: { identify: identify(), relay: circuitRelayServer({ reservations: { applyDefaultLimit: false, maxReservations: 64 } }) }
    })
  }
  // --same-port: every TCP dial leaves from PEER_PORT and nothing listens on TCP (a listener would hold the
  // port: Node cannot set SO_REUSEPORT on a dialling socket). The NAT keeps the source port, so the relay
  // connection maps PEER_PORT to the router's PEER_PORT, and two peers dialling each other's router at
  // PEER_PORT at once can meet in a TCP simultaneous open.
  const samePort = values['same-port']
  return await createLibp2p({
    addresses: {
      listen: [...(samePort ? [] : [`/ip4/0.0.0.0/tcp/${PEER_PORT}`]), `${values.relay}/p2p-circuit`],
      ...(values.announce != null ? { appendAnnounce: [values.announce] } : {})
    },
    // TCPSocketOptions does not list localPort, but @libp2p/tcp passes dialOpts on to net.connect, which takes it.
    transports: [tcp(samePort ? { dialOpts: { localPort: PEER_PORT } as TCPOptions['dialOpts'] } : {}), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: gater,
    services: { identify: identify(), dcutr: dcutr() }
  })
}

/** A child: the relay, or a peer that reserves on the relay and, with --dial, dials that address. */
async function child (): Promise<void> {
  const node = await libp2pNode(values.role === 'relay' ? 'relay' : 'peer')
  const conns = (): Array<Record<string, unknown>> => node.getConnections().map(c => ({
    peer: c.remotePeer.toString(), addr: c.remoteAddr.toString(), direction: c.direction, limited: c.limits != null, status: c.status
  }))
  node.addEventListener('connection:open', e => {
    const c = e.detail
    print({ event: 'open', peer: c.remotePeer.toString(), addr: c.remoteAddr.toString(), direction: c.direction, limited: c.limits != null })
  })
  node.addEventListener('connection:close', e => {
    print({ event: 'close', peer: e.detail.remotePeer.toString(), addr: e.detail.remoteAddr.toString() })
  })
  if (values.role === 'relay') {
    print({ event: 'ready', peer: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) })
  } else {
    const deadline = Date.now() + 20_000
    let circuit: string | undefined
    while (circuit == null && Date.now() < deadline) {
      circuit = node.getMultiaddrs().map(String).find(a => a.includes('/p2p-circuit'))
      if (circuit == null) await new Promise(resolve => setTimeout(resolve, 100))
    }
    print({ event: 'ready', peer: node.peerId.toString(), addrs: node.getMultiaddrs().map(String), circuit })
    if (values.dial != null) {
      try {
        const c = await node.dial(multiaddr(values.dial), { signal: AbortSignal.timeout(10_000) })
        print({ event: 'dialed', addr: c.remoteAddr.toString(), limited: c.limits != null })
      } catch (err) {
        print({ event: 'dial-failed', error: (err as Error).message })
      }
    }
  }
  const lines = createInterface({ input: process.stdin })
  lines.on('line', line => {
    if (line === 'conns') print({ event: 'conns', conns: conns(), addrs: node.getMultiaddrs().map(String) })
  })
  lines.on('close', () => { void Promise.resolve(node.stop()).then(() => process.exit(0)) })
}

interface Proc { child: ChildProcess, events: Array<Record<string, unknown>>, log: string[] }

async function orchestrate (): Promise<void> {
  const waitS = Number(values.wait)
  const topo = await createTopology({ labs: ['a', 'b'], publicHost: true, publicPrefix: '11.0.0' })
  const procs: Proc[] = []
  const spawnRole = (ns: string, args: string[], debug: boolean): Proc => {
    const env = { ...process.env, DEBUG: debug ? values.debug : '' }
    const c = topo.execNode(ns, [SELF, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env })
    const p: Proc = { child: c, events: [], log: [] }
    createInterface({ input: c.stdout! }).on('line', l => { try { p.events.push(JSON.parse(l) as Record<string, unknown>) } catch { p.log.push(l) } })
    createInterface({ input: c.stderr! }).on('line', l => { if (p.log.length < 5000) p.log.push(l) })
    procs.push(p)
    return p
  }
  const next = async (p: Proc, event: string, ms = 30_000): Promise<Record<string, unknown>> => {
    const end = Date.now() + ms
    for (;;) {
      const e = p.events.find(x => x.event === event)
      if (e != null) return e
      if (Date.now() > end || p.child.exitCode != null) throw new Error(`no ${event} event; log:\n${p.log.slice(-20).join('\n')}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }
  try {
    const relay = spawnRole(topo.relay.ns, ['--role', 'relay'], false)
    const relayPeer = (await next(relay, 'ready')).peer as string
    const relayAddr = `/ip4/${topo.relay.ip}/tcp/${RELAY_PORT}/p2p/${relayPeer}`
    const [labA, labB] = topo.labs
    const cases = [
      { name: 'control', a: topo.publicHost!, aAnnounce: `/ip4/${topo.publicHost!.ip}/tcp/${PEER_PORT}`, b: labB.host, bAnnounce: undefined },
      { name: 'nat', a: labA.host, aAnnounce: undefined, b: labB.host, bAnnounce: undefined },
      { name: 'nat-announce', a: labA.host, aAnnounce: `/ip4/${labA.router.ip}/tcp/${PEER_PORT}`, b: labB.host, bAnnounce: `/ip4/${labB.router.ip}/tcp/${PEER_PORT}` },
      { name: 'nat-same-port', a: labA.host, aAnnounce: `/ip4/${labA.router.ip}/tcp/${PEER_PORT}`, b: labB.host, bAnnounce: `/ip4/${labB.router.ip}/tcp/${PEER_PORT}`, samePort: true }
    ]
    // Packet counters on each router, by direction, TCP flags and conntrack state (the routers' own
    // rules stay untouched: this table only counts, after conntrack and before NAT and filtering).
    const flags: Array<[string, string]> = [['syn', 'syn'], ['synack', 'syn | ack'], ['rst', 'rst']]
    const trace = ['table ip sw_trace {', '  chain pre { type filter hook prerouting priority -150; policy accept;']
    for (const dir of ['wan', 'lan']) {
      for (const [fname, f] of flags) {
        for (const st of ['new', 'established', 'invalid', 'untracked']) {
          trace.push(`    iifname "${dir}" tcp flags & (syn | ack | rst) == ${f} ct state ${st} counter comment "${dir}-${fname}-${st}"`)
        }
      }
    }
    trace.push('  }', '}')
    for (const l of topo.labs) {
      const c = topo.exec(l.router.ns, tool('nft'), ['-f', '-'], { stdio: ['pipe', 'ignore', 'inherit'] })
      c.stdin!.end(trace.join('\n') + '\n')
      await new Promise(resolve => c.once('exit', resolve))
    }
    const traceCounts = async (): Promise<Record<string, Record<string, number>>> => Object.fromEntries(await Promise.all(topo.labs.map(async l => {
      const r = await topo.run(l.router.ns, tool('nft'), ['list', 'table', 'ip', 'sw_trace'])
      const out: Record<string, number> = {}
      for (const m of r.stdout.matchAll(/counter packets (\d+) bytes \d+ comment "([^"]+)"/g)) if (m[1] !== '0') out[m[2]] = Number(m[1])
      return [l.router.name, out]
    })))
    const counters = async (): Promise<Record<string, RouterCounters>> =>
      Object.fromEntries(await Promise.all(topo.labs.map(async l => [l.router.name, await routerCounters(topo, l)])))
    for (const k of cases.filter(c => values.case == null || c.name === values.case)) {
      const t0 = Date.now()
      const before = await counters()
      const traceBefore = await traceCounts()
      const same = k.samePort === true ? ['--same-port'] : []
      const b = spawnRole(k.b.ns, ['--role', 'peer', '--relay', relayAddr, ...same, ...(k.bAnnounce != null ? ['--announce', k.bAnnounce] : [])], true)
      const bReady = await next(b, 'ready')
      if (bReady.circuit == null) throw new Error(`peer B (${k.b.name}) got no reservation: ${JSON.stringify(bReady)}`)
      const a = spawnRole(k.a.ns, ['--role', 'peer', '--relay', relayAddr, ...same, '--dial', bReady.circuit as string, ...(k.aAnnounce != null ? ['--announce', k.aAnnounce] : [])], true)
      const aReady = await next(a, 'ready')
      const dialed = await Promise.race([next(a, 'dialed'), next(a, 'dial-failed')])
      await new Promise(resolve => setTimeout(resolve, waitS * 1000))
      a.child.stdin!.write('conns\n')
      const conns = ((await next(a, 'conns')).conns as Array<{ peer: string, addr: string, limited: boolean }>).filter(c => c.peer === bReady.peer)
      const direct = conns.filter(c => !c.addr.includes('/p2p-circuit'))
      const after = await counters()
      const traceAfter = await traceCounts()
      const packets = Object.fromEntries(Object.entries(traceAfter).map(([r, c]) => [r, Object.fromEntries(
        Object.entries(c).map(([k, v]) => [k, v - (traceBefore[r][k] ?? 0)]).filter(([, v]) => v !== 0))]))
      const routers = Object.fromEntries(Object.entries(after).map(([r, c]) => [r, {
        masqueraded: c.masqueraded - before[r].masqueraded,
        droppedForward: c.droppedForward - before[r].droppedForward,
        droppedInput: c.droppedInput - before[r].droppedInput
      }]))
      const dcutrLog = [...a.log.map(l => `A ${l}`), ...b.log.map(l => `B ${l}`)].filter(l => /dcutr/i.test(l))
      const result = {
        bench: 'dcutr',
        case: k.name,
        a: `${k.a.name} ${k.a.ip}`,
        b: `${k.b.name} ${k.b.ip}`,
        relay: relayAddr,
        dial: dialed,
        aOffered: aReady.addrs,
        bOffered: bReady.addrs,
        connectionsAtoB: conns,
        upgraded: direct.length > 0,
        directAddr: direct[0]?.addr ?? null,
        routers,
        packets,
        waitedS: waitS,
        elapsedMs: Date.now() - t0,
        dcutrLog: dcutrLog.map(l => l.replace(/^(A|B) \S+ /, '$1 ').slice(0, 300)).slice(0, 40)
      }
      if (values.log) for (const l of [...a.log.map(l => `A ${l}`), ...b.log.map(l => `B ${l}`)]) process.stderr.write(l + '\n')
      print(result)
      for (const p of [a, b]) p.child.stdin!.end()
      await Promise.all([a, b].map(async p => await new Promise(resolve => { if (p.child.exitCode != null) resolve(null); else p.child.once('exit', resolve) })))
    }
  } finally {
    for (const p of procs) p.child.stdin?.end()
    await topo.destroy()
    const left = await leftovers(topo.id)
    if (left.length > 0) process.stderr.write(`left behind: ${left.join(' ')}\n`)
  }
}

if (values.role != null) await child()
else if (values.netns) await orchestrate()
else {
  process.stderr.write('usage: node bench/dcutr.ts --netns [--wait S] [--log]   (needs root: network namespaces)\n')
  process.exit(2)
}
