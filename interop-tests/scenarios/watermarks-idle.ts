/**
 * watermarks-idle: the dialer subscribes to a port on which nothing happens and records the watermarks
 * (spec §9.2.6: at least every 100 ms while idle) for `duration_ms`.
 *
 * Dialer result: `watermarks` (count), `monotonic` (never went back), `max_interval_ms` (longest time
 * between two arrivals), `advanced_us` (last − first watermark time), `elapsed_us` (local time between
 * their arrivals).
 */
import { Checks, num } from './types.ts'
import type { Scenario } from './types.ts'

export const watermarksIdle: Scenario = {
  id: 'watermarks-idle',
  title: 'Watermarks on an idle port',
  summary: 'The dialer subscribes to an idle out port for 1.2 s and records the watermarks that keep it alive.',
  criteria: [
    'at least 5 watermarks arrive, never going back',
    'no more than 350 ms between two watermarks',
    'the watermark time advances with the listener\'s clock: between 0.5× and 1.5× (+300 ms) of the elapsed time'
  ],
  requires: { dialer: ['subscribe', 'watermark'], listener: ['subscribe', 'watermark'] },
  plan: () => ({
    ports: [{ name: 'idle', direction: 'out', kind: 'spike', channels: 1 }],
    params: { port: 'idle', duration_ms: 1200 }
  }),
  check: o => {
    const r = o.dialer.result
    const c = new Checks()
    c.that(num(r, 'watermarks') >= 5, `watermarks: got ${num(r, 'watermarks')}, want at least 5`)
    c.equal(r?.monotonic, true, 'watermarks never go back')
    c.that(num(r, 'max_interval_ms') <= 350, `longest interval between watermarks: ${num(r, 'max_interval_ms')} ms, want ≤ 350`)
    const adv = num(r, 'advanced_us')
    const el = num(r, 'elapsed_us')
    c.that(adv >= 0.5 * el && adv <= 1.5 * el + 300_000, `watermarks advanced ${adv} µs in ${el} µs`)
    return c.failures
  }
}
