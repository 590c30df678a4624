/**
 * clock-sync: the listener runs its clock with an injected offset (SW_CLOCK_OFFSET_US) and drift
 * (SW_CLOCK_DRIFT_PPM, anchored when its process starts, reported as `clock.anchor_us` in its result);
 * the dialer estimates the listener's clock over /spikewire/clock/1.0.0 for `duration_ms`.
 *
 * Dialer result: `offset_us` (θ: listener clock − dialer clock), `uncertainty_us`, `at_us` (the dialer's
 * clock when the estimate holds), `rtt_us` (δmin: the best round trip the estimate uses), `samples`. Listener result: `clock` {offset_us, drift_ppm,
 * anchor_us}. Both processes run on one host, so their unskewed clocks agree to a few µs.
 */
import { Checks, num } from './types.ts'
import type { Scenario } from './types.ts'

const OFFSET_US = 1_234_567
const DRIFT_PPM = 20
const MAX_UNCERTAINTY_US = 20_000

export const clockSync: Scenario = {
  id: 'clock-sync',
  title: 'Clock offset against an injected offset',
  summary: `The listener's clock runs ${OFFSET_US} µs ahead with ${DRIFT_PPM} ppm drift; the dialer estimates the offset with the clock protocol for 2.5 s.`,
  criteria: [
    '|estimated offset − injected offset at the estimate\'s time| ≤ the reported uncertainty',
    'the reported uncertainty is at least half the best round trip (δmin / 2, spec §9.3.3)',
    `the reported uncertainty is finite and at most ${MAX_UNCERTAINTY_US} µs (no vacuous pass)`,
    'at least one sample was used'
  ],
  requires: { dialer: ['clock'], listener: ['clock'] },
  exclusive: true,
  retries: 1,
  plan: () => ({
    ports: [{ name: 'spikes', direction: 'out', kind: 'spike', channels: 1 }],
    params: { duration_ms: 2500 },
    listenerEnv: { SW_CLOCK_OFFSET_US: String(OFFSET_US), SW_CLOCK_DRIFT_PPM: String(DRIFT_PPM) },
    truth: { offset_us: OFFSET_US, drift_ppm: DRIFT_PPM }
  }),
  check: o => {
    const d = o.dialer.result
    const c = new Checks()
    const clock = o.listener.result?.clock as { anchor_us?: unknown } | undefined
    const anchor = typeof clock?.anchor_us === 'number' ? clock.anchor_us : NaN
    c.that(Number.isFinite(anchor), 'the listener did not report clock.anchor_us')
    const at = num(d, 'at_us')
    const truth = OFFSET_US + (at - anchor) * DRIFT_PPM * 1e-6
    const err = Math.abs(num(d, 'offset_us') - truth)
    const u = num(d, 'uncertainty_us')
    c.that(err <= u, `estimate ${num(d, 'offset_us')} µs is ${err.toFixed(1)} µs from the injected ${truth.toFixed(1)} µs, beyond the reported uncertainty ${u} µs`)
    c.that(u > 0 && u <= MAX_UNCERTAINTY_US, `uncertainty ${u} µs, want finite, > 0 and ≤ ${MAX_UNCERTAINTY_US}`)
    c.that(num(d, 'samples') >= 1, `samples: ${num(d, 'samples')}`)
    c.that(u >= num(d, 'rtt_us') / 2, `uncertainty ${u} µs is below δmin / 2 = ${num(d, 'rtt_us') / 2} µs`)
    return c.failures
  }
}
