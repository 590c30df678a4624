/**
 * weighted-events: as subscribe-receive-n on a weighted port: every event carries a binary32 value from
 * the generator (−125 … 125 in steps of 1/8, exact in binary32).
 *
 * Listener result: `sent`, `t0`. Dialer result: `received`, `mismatches`, `examples`, `gap`, `lost`, `t0`.
 */
import { checkReceived } from './received-events.ts'
import type { Scenario } from './types.ts'

const N = 2000

export const weightedEvents: Scenario = {
  id: 'weighted-events',
  title: 'Weighted events',
  summary: `The dialer subscribes to a weighted out port; the listener emits ${N} generated events with values.`,
  criteria: [
    `the dialer received ${N} events`,
    'every event has exactly the generator\'s channel, time and value',
    'no gap and no reported loss; both sides agree on t0'
  ],
  requires: { dialer: ['subscribe', 'weighted'], listener: ['subscribe', 'weighted'] },
  plan: () => ({
    ports: [{ name: 'weights', direction: 'out', kind: 'weighted', channels: 8 }],
    params: { port: 'weights', n: N, seed: 7, channels: 8, max_gap_us: 100, kind: 'weighted', wait_ms: 8000 }
  }),
  check: o => checkReceived(N, o.listener.result, o.dialer.result).failures
}
