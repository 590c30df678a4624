/**
 * subscribe-receive-n: the dialer subscribes to the listener's `spikes` port; once the subscription is
 * accepted the listener emits N events from the generator (t0 = the time of event 0, its choice).
 *
 * Listener result: `sent`, `t0`. Dialer result: `received`, `mismatches`, `examples`, `gap`, `lost`, `t0`.
 * Params: port, n, seed, channels, max_gap_us, kind ("spike"), wait_ms.
 */
import { checkReceived } from './received-events.ts'
import type { Scenario } from './types.ts'

const N = 5000

export const subscribeReceiveN: Scenario = {
  id: 'subscribe-receive-n',
  title: 'Subscribe and receive N events',
  summary: `The dialer subscribes to an out port; the listener emits ${N} generated events (64 channels, gaps 0–40 µs, equal times included) once the subscription is accepted.`,
  criteria: [
    `the listener sent ${N} events and the dialer received ${N}`,
    'every event has exactly the generator\'s channel and time, in order',
    'no gap and no reported loss; both sides agree on t0'
  ],
  requires: { dialer: ['subscribe'], listener: ['subscribe'] },
  plan: () => ({
    ports: [{ name: 'spikes', direction: 'out', kind: 'spike', channels: 64 }],
    params: { port: 'spikes', n: N, seed: 1, channels: 64, max_gap_us: 40, kind: 'spike', wait_ms: 8000 }
  }),
  check: o => checkReceived(N, o.listener.result, o.dialer.result).failures
}
