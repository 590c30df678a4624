/**
 * Clock sync over an asymmetric path (real nodes, real delay proxy): a two-way exchange cannot see how a
 * round trip splits, so the offset estimate is off by half the asymmetry, (up − down)/2. The reported
 * uncertainty must still cover the true error. Both nodes share the system clock; the server adds a
 * known offset (SkewedClock), so the true offset is known at every instant.
 */
import test from 'ava'
import { SkewedClock, SystemClock } from '../../src/base/clock.ts'
import { startNode } from '../helpers/nodes.ts'
import { FAST_SYNC, converged, ms, proxyTo, sleep } from './helpers.ts'

const cases = [
  { upMs: 10, downMs: 30, offsetUs: 1_500_000 },
  { upMs: 30, downMs: 10, offsetUs: -800_000 }
]

for (const { upMs, downMs, offsetUs } of cases) {
  const bias = (upMs - downMs) * 1000 / 2
  test(`asymmetric path ${upMs} ms up / ${downMs} ms down: offset error ≈ ${bias / 1000} ms and inside the uncertainty`, async t => {
    const base = new SystemClock()
    const skewed = new SkewedClock(base, { offsetUs })
    const server = await startNode(t, { name: 'server' }, { clock: skewed })
    const client = await startNode(t, { name: 'client' }, { clock: base, clockSync: FAST_SYNC })
    const { addr, proxy } = await proxyTo(t, server, { delayMs: upMs }, { delayMs: downMs })
    const pc = client.clockFor(addr)
    const t0 = Date.now()
    await converged(pc)
    const convergeMs = Date.now() - t0
    const checks: Array<{ err: number, unc: number, mapErr: number, mapUnc: number }> = []
    const end = Date.now() + 1500
    while (Date.now() < end) {
      const now = base.nowUs()
      const est = pc.estimate()
      const m = pc.toLocal(skewed.toSkewed(now))
      checks.push({ err: est.offsetUs - skewed.trueOffsetAt(now), unc: est.uncertaintyUs, mapErr: m.localUs - now, mapUnc: m.uncertaintyUs })
      await sleep(25)
    }
    const errs = checks.map(c => c.err)
    const lo = Math.min(...errs)
    const hi = Math.max(...errs)
    const last = pc.estimate()
    t.log(`converged in ${convergeMs} ms; error ${ms(lo)} .. ${ms(hi)} (expected ${ms(bias)}), uncertainty ${ms(last.uncertaintyUs)}, ` +
      `rtt ${ms(last.rttUs)}, samples ${last.samples}, probes ${pc.stats.probes}, proxy added delay up p50 ${proxy.stats().up.addedDelayMs.p50.toFixed(2)} ms, down p50 ${proxy.stats().down.addedDelayMs.p50.toFixed(2)} ms`)
    t.true(checks.length >= 20)
    // The error is the half-asymmetry, not the offset itself (1.5 s) and not zero.
    t.true(lo >= bias - 2000 && hi <= bias + 2000, `error ${lo}..${hi} µs, expected ${bias} ± 2000`)
    // The uncertainty covers the true error at every check, and the mapping of peer timestamps too.
    t.true(checks.every(c => Math.abs(c.err) <= c.unc), 'uncertainty covers the offset error')
    t.true(checks.every(c => Math.abs(c.mapErr) <= c.mapUnc), 'uncertainty covers the mapping error')
    // Mapping a peer timestamp to local time is off by the same amount, the other way.
    t.true(checks.every(c => Math.abs(c.mapErr + c.err) < 50), 'toLocal error = −offset error')
  })
}
