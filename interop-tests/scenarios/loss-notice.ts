/**
 * loss-notice: a paused subscriber (spec §9.2.4, §9.2.9). The dialer subscribes, stops reading and puts
 * `paused` in the rendezvous; the listener, which reads `paused`, emits a burst of N events at once. Its
 * per-stream queue fills and it drops events, which it must report in loss notices. After `pause_ms` the
 * dialer reads again, until received + reported lost + gap reaches N (the listener's final watermark
 * carries seq N).
 *
 * Params: port, n, seed, channels, max_gap_us, pause_ms, wait_ms, limits.queue_events (listener: bound the
 * per-stream queue), limits.stream_window_bytes (dialer: keep the Yamux window small).
 * Dialer result: `received`, `lost`, `gap`, `mismatches`, `examples` (events checked against the
 * generator by sequence number), `loss_notices`. Listener result: `sent`, and `dropped` if it counts.
 */
import { Checks, num } from './types.ts'
import type { Scenario } from './types.ts'

const N = 300_000

export const lossNotice: Scenario = {
  id: 'loss-notice',
  title: 'Loss notices for a paused subscriber',
  summary: `The dialer pauses reading; the listener emits a burst of ${N} events into a small queue, drops some and reports them; the dialer then reads everything that is left.`,
  criteria: [
    `received + reported lost + unreported gap = ${N} (the listener's sent count)`,
    'no unreported gap: every dropped event was reported in a loss notice',
    'some events were lost and some received; every received event is the generator\'s event of that sequence number',
    'when the listener reports how many it dropped, that equals the dialer\'s reported loss'
  ],
  requires: { dialer: ['subscribe', 'loss'], listener: ['subscribe', 'loss'] },
  timeoutMs: 25_000,
  plan: () => ({
    ports: [{ name: 'burst', direction: 'out', kind: 'spike', channels: 1024 }],
    params: {
      port: 'burst', n: N, seed: 11, channels: 1024, max_gap_us: 1, pause_ms: 1500, wait_ms: 12_000,
      limits: { queue_events: 2048, stream_window_bytes: 256 * 1024 }
    }
  }),
  check: o => {
    const d = o.dialer.result
    const c = new Checks()
    c.equal(num(o.listener.result, 'sent'), N, 'events the listener sent')
    const total = num(d, 'received') + num(d, 'lost') + num(d, 'gap')
    c.equal(total, N, 'received + lost + gap')
    c.equal(num(d, 'gap'), 0, 'unreported missing events (gap)')
    c.that(num(d, 'lost') > 0, `reported lost: ${num(d, 'lost')}, want > 0 (the pause must overflow the listener's queue)`)
    c.that(num(d, 'received') > 0, `received: ${num(d, 'received')}, want > 0`)
    c.equal(num(d, 'mismatches'), 0, `received events that differ from the generator ${JSON.stringify(d?.examples ?? [])}`)
    if (o.listener.result?.dropped !== undefined) c.equal(num(o.listener.result, 'dropped'), num(d, 'lost'), 'events the listener dropped vs. the loss the dialer was told')
    return c.failures
  }
}
