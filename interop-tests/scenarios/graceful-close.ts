/**
 * graceful-close (spec §9.2.10): two streams on the listener's `spikes` port, which emits an event every
 * 20 ms. Phase 1: the dialer ends its stream with close{normal} and closes its write side; the listener
 * must close its side without a reset. Phase 2: the dialer opens a second stream and puts `phase2` in the
 * rendezvous; the listener then ends that stream itself with close{normal} (after a final watermark, which
 * the spec recommends); the dialer must see close{normal} and a clean end.
 *
 * Params: port, events_each, wait_ms. Dialer result: `phase1` {end: "clean" | "reset" | …, events},
 * `phase2` {end, close_code, events}. Listener result: `clean_remote_closes`, `resets`, `own_closes`.
 */
import { Checks, num } from './types.ts'
import type { Scenario } from './types.ts'

interface Phase { end?: unknown, close_code?: unknown, events?: unknown }

export const gracefulClose: Scenario = {
  id: 'graceful-close',
  title: 'Graceful close from either end',
  summary: 'The dialer closes one stream with close{normal}; the listener closes a second one with close{normal}; neither is reset.',
  criteria: [
    'phase 1 (dialer closes): the stream ends cleanly on both sides, no reset',
    'phase 2 (listener closes): the dialer receives close{normal} and the stream ends cleanly',
    'events flowed on both streams before the close'
  ],
  requires: { dialer: ['subscribe', 'close'], listener: ['subscribe', 'close'] },
  plan: () => ({
    ports: [{ name: 'spikes', direction: 'out', kind: 'spike', channels: 4 }],
    params: { port: 'spikes', events_each: 5, wait_ms: 6000 }
  }),
  check: o => {
    const d = o.dialer.result
    const p1 = (d?.phase1 ?? {}) as Phase
    const p2 = (d?.phase2 ?? {}) as Phase
    const c = new Checks()
    c.equal(p1.end, 'clean', 'phase 1: how the dialer saw its own close end')
    c.equal(p2.end, 'clean', 'phase 2: how the dialer saw the listener\'s close end')
    c.equal(p2.close_code, 'normal', 'phase 2: the code of the listener\'s close')
    c.that(typeof p1.events === 'number' && p1.events >= 1 && typeof p2.events === 'number' && p2.events >= 1, `events before each close: ${JSON.stringify([p1.events, p2.events])}`)
    const l = o.listener.result
    if (l?.resets !== undefined) c.equal(num(l, 'resets'), 0, 'streams the listener saw reset')
    if (l?.clean_remote_closes !== undefined) c.that(num(l, 'clean_remote_closes') >= 1, `streams the dialer closed cleanly, as the listener saw them: ${num(l, 'clean_remote_closes')}`)
    return c.failures
  }
}
