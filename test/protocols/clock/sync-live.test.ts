/**
 * Clock sync over real libp2p connections on loopback: a peer whose clock has a known offset and drift
 * (SkewedClock over the same system clock) is estimated within the reported uncertainty.
 */
import test from 'ava'
import { SkewedClock, SystemClock } from '../../../src/base/clock.ts'
import { startNode } from '../../helpers/nodes.ts'

for (const [offsetUs, driftPpm] of [[1_500_000, 100], [-800_000, -50]]) {
  test(`clock sync converges on a peer ${offsetUs / 1e6} s off, ${driftPpm} ppm, within its uncertainty`, async t => {
    const base = new SystemClock()
    const skewed = new SkewedClock(base, { offsetUs, driftPpm })
    const server = await startNode(t, { name: 'skewed' }, { clock: skewed })
    const client = await startNode(t, { name: 'client' }, { clock: base, clockSync: { schedule: { minPeriodUs: 100_000, maxPeriodUs: 400_000 } } })
    const pc = client.clockFor(server.multiaddrs[0])
    await pc.converged({ signal: AbortSignal.timeout(30_000) })
    const checks: Array<{ err: number, unc: number }> = []
    const end = Date.now() + 3000
    while (Date.now() < end) {
      const now = base.nowUs()
      const est = pc.estimator.estimate(now)
      checks.push({ err: Math.abs(est.offsetUs - skewed.trueOffsetAt(now)), unc: est.uncertaintyUs })
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    const covered = checks.filter(c => c.err <= c.unc).length / checks.length
    const worst = Math.max(...checks.map(c => c.err))
    t.log(`checks ${checks.length}, coverage ${covered}, worst error ${worst.toFixed(1)} µs, uncertainty ${checks.at(-1)!.unc.toFixed(1)} µs`)
    t.true(covered >= 0.99, `coverage ${covered}`)
    t.true(worst < 2000, `worst error ${worst} µs on loopback`)
    // A peer timestamp maps back to local time within the uncertainty.
    const now = base.nowUs()
    const m = pc.toLocal(skewed.toSkewed(now))
    t.true(Math.abs(m.localUs - now) <= m.uncertaintyUs)
  })
}
