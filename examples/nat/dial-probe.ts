/**
 * A spikewire node used by examples/nat/run.ts to show which dials cross the NATs, run inside a namespace:
 *
 *   node dial-probe.ts --listen --relay RELAY      a target: listens on every interface, reserves a slot on
 *                                                  RELAY, prints {"event":"ready","peer","addrs":[…]} and
 *                                                  runs until stdin ends
 *   node dial-probe.ts --dial MULTIADDR… [--timeout MS]
 *                                                  dials every address at once (no relays of its own) and
 *                                                  prints {"event":"dial","addr","ok","ms","error"?} for each
 */
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { createNode } from '../../src/index.ts'

const { values } = parseArgs({
  options: {
    listen: { type: 'boolean', default: false },
    relay: { type: 'string' },
    dial: { type: 'string', multiple: true },
    timeout: { type: 'string', default: '5000' }
  }
})

function print (o: unknown): void {
  process.stdout.write(JSON.stringify(o) + '\n')
}

if (values.listen) {
  if (values.relay === undefined) throw new Error('--listen needs --relay')
  const node = await createNode({ name: 'probe-target', listen: ['/ip4/0.0.0.0/tcp/0'], relays: [values.relay] })
  await node.relaysReserved({ signal: AbortSignal.timeout(30_000) })
  print({ event: 'ready', peer: node.peerId, addrs: node.multiaddrs })
  createInterface({ input: process.stdin }).on('close', () => { void node.stop().then(() => process.exit(0)) })
} else {
  // One node per address: libp2p joins dials to the same peer into one, so a relayed dial made beside a
  // hanging direct dial would wait for it.
  await Promise.all((values.dial ?? []).map(async addr => {
    const node = await createNode({ name: 'probe-dialer', listen: [] })
    const t0 = performance.now()
    try {
      const c = await node.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(Number(values.timeout)) })
      print({ event: 'dial', addr, ok: true, ms: Math.round(performance.now() - t0), remote: c.remoteAddr.toString() })
      await c.close()
    } catch (err) {
      print({ event: 'dial', addr, ok: false, ms: Math.round(performance.now() - t0), error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 300) })
    }
    await node.stop()
  }))
  process.exit(0)
}
