/**
 * merge: the listener emits two trains of generated events on ports `a` and `b`; `a`'s events are
 * released in clumps every 80 ms, `b`'s as they happen, so they arrive out of time order across the two
 * ports. The dialer subscribes to both and merges them by time using their watermarks (spec §9.2.6).
 *
 * Params: ports ["a", "b"], n (per port), seeds, channels, min_gap_us, max_gap_us, clump_ms (per port),
 * wait_ms, limits.lateness_us. Dialer result: `delivered`, `late`, `in_order` (delivery times never
 * decrease), `arrival_inversions` (arrivals earlier in time than one already arrived), `per_port`.
 * Listener result: `sent`.
 */
import { Checks, num } from './types.ts'
import type { Scenario } from './types.ts'

const N = 30

export const merge: Scenario = {
  id: 'merge',
  title: 'Time-ordered merge of two streams',
  summary: `The listener sends ${N} events on each of two ports, one released late in clumps; the dialer merges the two subscriptions in time order.`,
  criteria: [
    `all ${2 * N} events delivered (${N} per port), none late`,
    'delivered in non-decreasing time order',
    'the arrivals were out of time order (at least one inversion), so the merge had work to do'
  ],
  requires: { dialer: ['subscribe', 'merge'], listener: ['subscribe', 'watermark'] },
  exclusive: true,
  retries: 1,
  plan: () => ({
    ports: [
      { name: 'a', direction: 'out', kind: 'spike', channels: 4 },
      { name: 'b', direction: 'out', kind: 'spike', channels: 4 }
    ],
    params: {
      ports: ['a', 'b'], n: N, seeds: [21, 22], channels: 4, min_gap_us: 4000, max_gap_us: 20_000,
      clump_ms: [80, 0], wait_ms: 6000, limits: { lateness_us: 300_000 }
    }
  }),
  check: o => {
    const d = o.dialer.result
    const c = new Checks()
    c.equal(num(o.listener.result, 'sent'), 2 * N, 'events the listener sent')
    c.equal(num(d, 'delivered'), 2 * N, 'events delivered by the merge')
    c.equal(num(d, 'late'), 0, 'late events')
    c.equal(d?.in_order, true, 'delivered in time order')
    c.that(num(d, 'arrival_inversions') > 0, 'arrivals were already in time order: the listener did not delay port a')
    const per = d?.per_port as Record<string, unknown> | undefined
    c.that(per?.a === N && per?.b === N, `per port: ${JSON.stringify(per)}`)
    return c.failures
  }
}
