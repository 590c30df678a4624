/**
 * push-into-in-port: the dialer pushes N generated events into the listener's `stim` in port, which is
 * closed to everyone but the dialer (its PeerId comes from the rendezvous key `dialer-peer`). The dialer
 * names its source port `drive` in the open; it ends with close{normal} once everything is written.
 *
 * Dialer result: `sent`, `t0`. Listener result: `received`, `mismatches`, `examples`, `gap`, `lost`, `t0`,
 * `peer` (the pusher's PeerId), `source` (the open's source port, if the implementation reports it).
 */
import { KEYS } from '../lib/contract.ts'
import { checkReceived } from './received-events.ts'
import type { Scenario } from './types.ts'

const N = 3000

export const pushIntoInPort: Scenario = {
  id: 'push-into-in-port',
  title: 'Push into an in port',
  summary: `The dialer opens a push stream into the listener's in port (authorised for the dialer only) and sends ${N} generated events.`,
  criteria: [
    `the listener received ${N} events, exactly the generator's, with no gap or loss`,
    'the listener saw them come from the dialer\'s PeerId (and from source port "drive" when it reports the source)',
    'both sides agree on t0'
  ],
  requires: { dialer: ['push'], listener: ['push'] },
  plan: () => ({
    ports: [{ name: 'stim', direction: 'in', kind: 'spike', channels: 16, allow: 'dialer' }],
    params: { port: 'stim', source: 'drive', n: N, seed: 3, channels: 16, max_gap_us: 60, kind: 'spike', wait_ms: 8000 }
  }),
  check: o => {
    const c = checkReceived(N, o.dialer.result, o.listener.result)
    c.equal(o.listener.result?.peer, o.rendezvous[KEYS.dialerPeer], 'the pusher\'s PeerId seen by the listener')
    if (o.listener.result?.source !== undefined) c.equal(o.listener.result.source, 'drive', 'the source port seen by the listener')
    return c.failures
  }
}
