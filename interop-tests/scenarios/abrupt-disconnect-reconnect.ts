/**
 * abrupt-disconnect-reconnect: the listener emits events steadily; once the dialer has received `before`
 * events it puts `received-before` in the rendezvous, and the listener drops every connection without a
 * close (it aborts them). The dialer must see the stream fail, dial again, subscribe again (a new stream,
 * sequence numbers from 0) and receive `after` more events.
 *
 * Params: port, rate_hz, before, after, wait_ms. Dialer result: `connects` (streams accepted),
 * `abnormal_ends` (streams that ended without a close), `events_before`, `events_after` (events on
 * streams after the first), `reconnect_ms` (from the failure to the next accept). Listener result:
 * `aborted_connections`, `sent`.
 */
import { Checks, num } from './types.ts'
import type { Scenario } from './types.ts'

export const abruptDisconnectReconnect: Scenario = {
  id: 'abrupt-disconnect-reconnect',
  title: 'Abrupt disconnect and reconnect',
  summary: 'The listener aborts the connection under a live subscription; the dialer notices, reconnects and resubscribes.',
  criteria: [
    'the dialer saw the first stream end without a close (an abnormal end)',
    'it reconnected within 5 s and had at least 2 accepted streams',
    'it received at least 50 events before and 50 after the break',
    'the listener aborted at least one connection'
  ],
  requires: { dialer: ['subscribe', 'reconnect'], listener: ['subscribe'] },
  plan: () => ({
    ports: [{ name: 'spikes', direction: 'out', kind: 'spike', channels: 8 }],
    params: { port: 'spikes', rate_hz: 400, before: 50, after: 50, wait_ms: 8000 }
  }),
  check: o => {
    const d = o.dialer.result
    const c = new Checks()
    c.that(num(d, 'abnormal_ends') >= 1, `abnormal ends seen by the dialer: ${num(d, 'abnormal_ends')}`)
    c.that(num(d, 'connects') >= 2, `streams accepted: ${num(d, 'connects')}, want ≥ 2`)
    c.that(num(d, 'reconnect_ms') <= 5000, `reconnect took ${num(d, 'reconnect_ms')} ms`)
    c.that(num(d, 'events_before') >= 50, `events before the break: ${num(d, 'events_before')}`)
    c.that(num(d, 'events_after') >= 50, `events after the reconnect: ${num(d, 'events_after')}`)
    c.that(num(o.listener.result, 'aborted_connections') >= 1, `connections the listener aborted: ${num(o.listener.result, 'aborted_connections')}`)
    return c.failures
  }
}
