/**
 * The lock-out attacks (issue 11, hostile item 4): raw TCP sockets that never finish the handshake, and
 * hundreds of fresh identities that connect and stay idle — from one address, and spread over ten. The
 * attacker dials from 127.0.0.2 and up (loopback, but other hosts to the target's per-address limits);
 * newcomers describe the target from 127.0.0.1 all along, and must get in.
 */
import type { Connection, Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { DEFAULTS, LIMITS } from '../../src/wire/defaults.ts'
import { SilentSocket, hostilePeer, sleep } from './hostile.ts'
import { probeSummary, share } from './suite.ts'
import type { AttackCase, CaseContext, CaseOutcome } from './suite.ts'

/** The attacker's n-th loopback address (127.0.0.2, 127.0.0.3, …). */
const attackerAddress = (i: number): string => `127.0.0.${2 + i}`

/**
 * `count` raw TCP sockets over `addresses` source addresses that never start the handshake, each reopened
 * when the target closes it; newcomers describe meanwhile.
 */
async function silentSockets (ctx: CaseContext, count: number, addresses: number): Promise<CaseOutcome> {
  const end = performance.now() + ctx.ms(8000, 5000)
  const sockets: SilentSocket[] = []
  let open = true
  const slot = async (_: unknown, i: number): Promise<void> => {
    while (open) {
      const s = new SilentSocket(ctx.target.host, ctx.target.port, attackerAddress(i % addresses))
      sockets.push(s)
      await Promise.race([s.closed, sleep(Math.max(0, end - performance.now()))])
      if (!open || s.closedAt === 0) return
      await sleep(200)
    }
  }
  const slots = Array.from({ length: count }, slot)
  await sleep(300)
  const probes = await ctx.probeUntil('describe', end)
  open = false
  const stats = await ctx.targetStats()
  const over = performance.now()
  for (const s of sockets) s.destroy()
  await Promise.all(slots)
  const closed = sockets.filter(s => s.closedAt > 0 && s.closedAt < over && s.connectedAt > 0)
  const lifetimes = closed.map(s => s.closedAt - s.connectedAt).sort((a, b) => a - b)
  const refusedAtOnce = lifetimes.filter(t => t < 500).length
  const ps = probeSummary(probes)
  return {
    checks: [share('newcomersIn', ps.ok, ps.n, 'newcomers whose describe is answered within 5 s')],
    details: {
      socketsOpened: sockets.length,
      neverConnected: sockets.filter(s => s.connectedAt === 0).length,
      closedByTarget: closed.length,
      closedWithin500ms: refusedAtOnce,
      longestHeldMs: Math.round(lifetimes[lifetimes.length - 1] ?? 0),
      handshakeTimeoutMs: LIMITS.handshakeTimeoutMs.default,
      probes: ps,
      guard: stats.guard
    }
  }
}

export const lockoutHandshakes: AttackCase = {
  name: 'lockout-handshakes',
  item: 4,
  what: '70 raw TCP sockets from one address that never start the handshake (each reopened when closed), while newcomers describe',
  async run (ctx) { return await silentSockets(ctx, 70, 1) }
}

export const lockoutHandshakesSpread: AttackCase = {
  name: 'lockout-handshakes-spread',
  item: 4,
  what: '80 raw TCP sockets over 10 addresses (8 each) that never start the handshake (each reopened when closed), while newcomers describe',
  async run (ctx) { return await silentSockets(ctx, 80, 10) }
}

/**
 * `identities` fresh peers over `addresses` source addresses, each connecting and staying idle; a peer
 * whose connection is refused or closed dials again after a pause. Newcomers describe meanwhile.
 */
async function idleIdentities (ctx: CaseContext, identities: number, addresses: number): Promise<CaseOutcome> {
  const peers: Libp2p[] = []
  for (let i = 0; i < identities; i += 25) {
    peers.push(...await Promise.all(Array.from({ length: Math.min(25, identities - i) }, async (_, j) => ctx.own(await hostilePeer({ localAddress: attackerAddress((i + j) % addresses) })))))
  }
  // The attack runs until the target is full or the attacker stops gaining (at most `fillMs`), then
  // newcomers describe for `probeMs` while it goes on.
  const t0 = performance.now()
  const fillMs = ctx.ms(25_000, 15_000)
  const probeMs = ctx.ms(6000, 4000)
  let end = t0 + fillMs + probeMs
  const stopped = Promise.withResolvers<void>()
  const target = multiaddr(ctx.target.addr)
  let connected = 0
  let peak = 0
  let dials = 0
  let failures = 0
  let inFlight = 0
  const loop = async (peer: Libp2p): Promise<void> => {
    while (performance.now() < end) {
      while (inFlight >= 32 && performance.now() < end) await sleep(5)
      if (performance.now() >= end) return
      inFlight++
      dials++
      let conn: Connection | undefined
      try {
        conn = await peer.dial(target, { signal: AbortSignal.timeout(5000) })
      } catch {
        failures++
      } finally {
        inFlight--
      }
      if (conn === undefined) {
        await sleep(500)
        continue
      }
      connected++
      peak = Math.max(peak, connected)
      await Promise.race([stopped.promise, new Promise<void>(resolve => {
        conn.addEventListener('close', () => { resolve() }, { once: true })
      })])
      connected--
      await sleep(200)
    }
  }
  const loops = peers.map(loop)
  const full = LIMITS.maxConnections.default - Math.floor(LIMITS.maxConnections.default * DEFAULTS.connectionReserve)
  let best = 0
  let bestAt = performance.now()
  let during = await ctx.targetStats()
  while (performance.now() - t0 < fillMs) {
    await sleep(250)
    if (connected > best) {
      best = connected
      bestAt = performance.now()
    }
    during = await ctx.targetStats()
    if (during.connections >= full || (best > 0 && performance.now() - bestAt > 2000)) break
  }
  const filledMs = performance.now() - t0
  const atProbe = connected
  end = performance.now() + probeMs
  const probes = await ctx.probeUntil('describe', end)
  const stats = await ctx.targetStats()
  end = performance.now()
  stopped.resolve()
  await Promise.all(loops)
  const ps = probeSummary(probes)
  return {
    checks: [share('newcomersIn', ps.ok, ps.n, 'newcomers whose describe is answered within 5 s')],
    details: {
      identities,
      addresses,
      fillS: Math.round(filledMs / 100) / 10,
      attackerConnectedAtProbe: atProbe,
      targetConnectionsAtProbe: during.connections,
      attackerPeakConnected: peak,
      dials,
      dialFailures: failures,
      targetConnections: stats.connections,
      maxConnections: LIMITS.maxConnections.default,
      probes: ps,
      guard: stats.guard
    }
  }
}

export const lockoutIdentities: AttackCase = {
  name: 'lockout-identities',
  item: 4,
  what: '300 fresh identities from one address, connecting and staying idle, while newcomers describe',
  async run (ctx) { return await idleIdentities(ctx, 300, 1) }
}

export const lockoutIdentitiesSpread: AttackCase = {
  name: 'lockout-identities-spread',
  item: 4,
  what: '300 fresh identities over 10 addresses, connecting and staying idle, while newcomers describe',
  async run (ctx) { return await idleIdentities(ctx, 300, 10) }
}
