/**
 * playout: the listener emits a train of N generated events (gaps 8–30 ms) in real time but releases
 * them in clumps every `clump_ms`, so they arrive bunched; the dialer plays them out at event time
 * (mapped to its clock) + `delay_us` (spec §9.2.8) and records when each was delivered.
 *
 * Params: port, n, seed, channels, min_gap_us, max_gap_us, clump_ms, delay_us, wait_ms,
 * limits.lateness_us (listener: how far behind its clock it may still emit), go_key: the listener starts
 * the train only once the dialer has put this key (after its clock estimate of the listener is usable,
 * so that the mapping does not move under the train).
 * Dialer result: `delivered`, `late`, `mismatches` (delivered events vs. the generator, in order),
 * `isi_error_p90_us` and `isi_error_max_us` (90th percentile and maximum of |delivered interval − true
 * interval| over consecutive events), `arrival_isi_error_p90_us` and `arrival_isi_error_max_us` (the same
 * for arrival times). Listener result: `sent`, `t0`.
 *
 * The 90th percentile carries the precision criterion: on a shared machine the operating system can
 * hold a process for tens of milliseconds now and then, which a maximum would turn into a failure of the
 * implementation. The maximum gets a looser bound that still tells playout from none.
 */
import { Checks, num } from './types.ts'
import type { Scenario } from './types.ts'

const N = 40
const P90_US = 5000
const MAX_US = 30_000

export const playout: Scenario = {
  id: 'playout',
  title: 'Playout preserves inter-spike intervals',
  summary: `The listener sends ${N} events released in 60 ms clumps; the dialer's playout (fixed delay 150 ms) delivers them at their own intervals.`,
  criteria: [
    `all ${N} events delivered, none late, in the generator's order`,
    `90 % of the delivered inter-spike intervals within ${P90_US} µs of the true interval, all within ${MAX_US} µs`,
    'the arrivals themselves were irregular (90th percentile of the arrival interval error ≥ 5 ms), so the playout had work to do'
  ],
  requires: { dialer: ['subscribe', 'playout'], listener: ['subscribe'] },
  exclusive: true,
  retries: 1,
  plan: () => ({
    ports: [{ name: 'train', direction: 'out', kind: 'spike', channels: 4 }],
    params: {
      port: 'train', n: N, seed: 5, channels: 4, min_gap_us: 8000, max_gap_us: 30_000, clump_ms: 60,
      delay_us: 150_000, wait_ms: 8000, limits: { lateness_us: 500_000 }, go_key: 'go'
    }
  }),
  check: o => {
    const d = o.dialer.result
    const c = new Checks()
    c.equal(num(o.listener.result, 'sent'), N, 'events the listener sent')
    c.equal(num(d, 'delivered'), N, 'events delivered by the playout')
    c.equal(num(d, 'late'), 0, 'late events')
    c.equal(num(d, 'mismatches'), 0, `delivered events that differ from the generator ${JSON.stringify(d?.examples ?? [])}`)
    c.that(num(d, 'isi_error_p90_us') <= P90_US, `90th percentile of the interval error ${num(d, 'isi_error_p90_us')} µs, want ≤ ${P90_US}`)
    c.that(num(d, 'isi_error_max_us') <= MAX_US, `largest interval error ${num(d, 'isi_error_max_us')} µs, want ≤ ${MAX_US}`)
    c.that(num(d, 'arrival_isi_error_p90_us') >= 5000, `arrival interval error p90 ${num(d, 'arrival_isi_error_p90_us')} µs: the listener did not clump its sends`)
    return c.failures
  }
}
