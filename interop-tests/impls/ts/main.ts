#!/usr/bin/env node
/**
 * The TypeScript implementation under the interop contract (interop-tests/README.md). One process plays
 * one role of one scenario:
 *
 *   listener: start, print {"type":"listening"}, read `dialer-peer`, create the ports of SW_PORTS, put
 *             `listener-ready`, run the scenario until the harness puts `done`, print the result.
 *   dialer:   start, put `dialer-peer`, print {"type":"started"}, wait for `listener-ready`, run the
 *             scenario against SW_PEER_ADDR, print the result.
 *
 * Exit code 0 when the role did what the scenario asks, 1 when it failed, 2 on bad configuration, 3 for
 * a scenario this implementation does not play.
 */
import { EXIT, KEYS } from '../../lib/contract.ts'
import { UsageError, contextFromEnv, emitLine } from './context.ts'
import type { Ctx } from './context.ts'
import { HANDLERS } from './handlers.ts'
import { addPorts, startRaw, startSpikewire } from './peer.ts'
import type { Peer } from './peer.ts'

async function run (ctx: Ctx): Promise<number> {
  const handler = HANDLERS[ctx.scenario]?.[ctx.role]
  if (handler === undefined) {
    emitLine({ type: 'result', ok: false, error: `the ts implementation does not play ${ctx.role} in ${ctx.scenario}` })
    return EXIT.unsupported
  }
  const peer: Peer = handler.node === 'raw' ? await startRaw(ctx) : await startSpikewire(ctx, handler.clockSync)
  const peerId = peer.libp2p.peerId.toString()
  let fields: Record<string, unknown> = {}
  let ok = true
  let error: string | undefined
  try {
    if (ctx.role === 'listener') {
      emitLine({ type: 'listening', peer: peerId, multiaddrs: peer.libp2p.getMultiaddrs().map(String) })
      // A dialer that never announces itself must not keep the listener past `done`.
      const dialerPeer = await Promise.race([
        ctx.rv.get<string>(KEYS.dialerPeer, ctx.remainingMs()),
        ctx.done.then(() => { throw new Error('the run ended before the dialer put dialer-peer') })
      ])
      if (peer.node !== undefined) addPorts(peer.node, ctx.ports, dialerPeer)
    } else {
      await ctx.rv.put(KEYS.dialerPeer, peerId)
      emitLine({ type: 'started', peer: peerId })
      await ctx.rv.get(KEYS.listenerReady, ctx.remainingMs())
    }
    fields = await handler.run(ctx, peer)
    if (ctx.role === 'listener') {
      await ctx.ready()
      await ctx.done
    }
  } catch (err) {
    ok = false
    error = (err as Error).message
    ctx.log(`failed: ${(err as Error).stack ?? error}`)
  }
  // The verdict is known: report it first, then stop (bounded), so a slow shutdown cannot eat the
  // harness's grace period after `done`.
  if (ctx.role === 'listener') fields.clock = { offset_us: ctx.clockOffsetUs, drift_ppm: ctx.clockDriftPpm, anchor_us: peer.anchorUs }
  emitLine({ type: 'result', ok, ...(error === undefined ? {} : { error }), ...fields })
  await Promise.race([peer.stop().catch(() => {}), new Promise(resolve => setTimeout(resolve, 2000))])
  return ok ? EXIT.ok : EXIT.failed
}

let code: number
try {
  const ctx = contextFromEnv()
  try {
    code = await run(ctx)
  } finally {
    ctx.close()
  }
} catch (err) {
  code = err instanceof UsageError ? EXIT.usage : EXIT.failed
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  emitLine({ type: 'result', ok: false, error: (err as Error).message })
}
// libp2p leaves timers behind for a while; the verdict is known, so leave now.
process.exit(code)
