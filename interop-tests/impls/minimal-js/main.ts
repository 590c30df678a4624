#!/usr/bin/env node
/**
 * A deliberately minimal second implementation of spikewire, written from the specification alone and
 * not importing the reference implementation (src/): a subscriber (dialer only) on js-libp2p (TCP, Noise,
 * Yamux) and cborg. It speaks the interop contract of interop-tests/README.md:
 * environment in, JSON lines on stdout, logs on stderr, the exit code as verdict.
 */
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { Rendezvous } from './rendezvous.ts'
import * as s from './scenarios.ts'
import type { Run } from './scenarios.ts'

const SCENARIOS: Record<string, (r: Run) => Promise<Record<string, unknown>>> = {
  'connect-and-describe': s.describe,
  'subscribe-receive-n': s.receive,
  'weighted-events': s.receive,
  'watermarks-idle': s.watermarks,
  'loss-notice': s.pausedSubscriber,
  'authorization-refused': s.refused,
  'unknown-protocol-version': s.unknownVersion,
  'adversarial-to-dialer': s.probe,
  'oversize-frame-to-dialer': s.probe,
  'abrupt-disconnect-reconnect': s.reconnecting,
  'graceful-close': s.closeBothWays
}

const say = (line: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(line) + '\n') }
const env = process.env
const started = Date.now()

async function main (): Promise<number> {
  const play = SCENARIOS[env.SW_SCENARIO ?? '']
  if (env.SW_ROLE !== 'dialer' || play === undefined) {
    say({ type: 'result', ok: false, error: `minimal-js does not play ${env.SW_ROLE} in ${env.SW_SCENARIO}` })
    return 3
  }
  const params = JSON.parse(env.SW_PARAMS ?? '{}') as Record<string, unknown>
  const limits = (params.limits ?? {}) as { stream_window_bytes?: number }
  const timeoutMs = Number(env.SW_TIMEOUT_MS ?? '20000')
  const libp2p = await createLibp2p({
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(limits.stream_window_bytes === undefined ? {} : { streamOptions: { maxStreamWindowSize: limits.stream_window_bytes } })]
  })
  const rv = new Rendezvous(env.SW_RENDEZVOUS ?? '')
  const left = (): number => Math.max(0, started + timeoutMs - Date.now() - 1500)
  try {
    await rv.put('dialer-peer', libp2p.peerId.toString())
    say({ type: 'started', peer: libp2p.peerId.toString() })
    await rv.get('listener-ready', left())
    const fields = await play({ libp2p, addr: env.SW_PEER_ADDR ?? '', params, rv, left })
    say({ type: 'result', ok: true, ...fields })
    return 0
  } catch (err) {
    process.stderr.write(`minimal-js: ${(err as Error).stack ?? String(err)}\n`)
    say({ type: 'result', ok: false, error: (err as Error).message })
    return 1
  } finally {
    rv.close()
    await Promise.race([libp2p.stop(), new Promise(resolve => setTimeout(resolve, 2000))])
  }
}

process.exit(await main())
