/**
 * Clock-sync benchmark (npm run bench:clock -- --json): how close a node's estimate of a peer's clock is to
 * the truth, and whether the uncertainty it reports covers its error.
 *
 * Two processes: the server (bench/timing-peer.ts, a child) runs a spikewire node whose clock is a
 * SkewedClock over SystemClock (default +1.5 s and +100 ppm); the client (this process) runs a node on
 * SystemClock with the default clock sync (node defaults: bursts of 8 probes, every 250 ms until converged,
 * then backing off to every 8 s) and reads its estimator. Where a scenario needs a path with delay, a delay
 * proxy (src/netem) runs in a third process, between the two.
 *
 * Truth: see bench/timing-peer.ts. Both processes read performance.timeOrigin + performance.now(); the
 * server reports its skew parameters, a reference reading of its base clock, and its base against the
 * system-wide monotonic clock, so the client computes the true θ (server clock − client clock) at any of
 * its readings (trueOffset()); the bases differ by a few µs, which is corrected.
 *
 * Per scenario, one JSON line:
 * - convergeMs: from clockFor() (dial included) until the estimator reports converged (polled every 5 ms);
 * - then for --seconds, every --sample-ms: err = |estimated θ − true θ| at the same client reading;
 *   errP50Us/errP99Us/errMaxUs, biasUs (median signed error), coverage (fraction of samples with
 *   err ≤ the reported uncertainty), uncertaintyP50Us;
 * - load1 (os.loadavg()[0] at the end), bursts and probes of the clock sync, and the targets.
 * Scenarios: loopback (direct), jitter (proxy, 20 ± 5 ms uniform each way), asymmetric (proxy, 10 ms
 * client → server, 30 ms back: the estimate is off by (10 − 30)/2 = −10 ms by nature; the uncertainty must
 * still cover it).
 */
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { SystemClock, createNode } from '../src/index.ts'
import type { PeerClockOptions } from '../src/index.ts'
import type { LinkParams } from '../src/netem/index.ts'
import { PeerProcess, clockBase, trueOffset } from './timing-peer.ts'
import type { ServerInfo } from './timing-peer.ts'
import { printer, quantile, round, sleep } from './report.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    /** Clock-sync options of the client node (PeerClockOptions as JSON); default: the node's defaults. */
    sync: { type: 'string', default: '' },
    seconds: { type: 'string', default: '20' },
    'sample-ms': { type: 'string', default: '50' },
    'offset-us': { type: 'string', default: '1500000' },
    'drift-ppm': { type: 'string', default: '100' },
    /** The proxy's busy-wait before each release, ms (src/netem PreciseTimer). */
    'spin-ms': { type: 'string', default: '1' },
    only: { type: 'string', default: 'loopback,jitter,asymmetric' },
    /** Give up converging after this long, s. */
    'converge-timeout': { type: 'string', default: '30' }
  }
})
const seconds = Number(args.seconds)
const sampleMs = Number(args['sample-ms'])
const only = new Set(args.only.split(','))
const syncOptions = args.sync === '' ? undefined : JSON.parse(args.sync) as PeerClockOptions

interface Scenario {
  name: string
  up?: LinkParams
  down?: LinkParams
  targetErrP99Us?: number
  /** Expected signed error (the half-asymmetry), µs. */
  expectedBiasUs: number
}

const SCENARIOS: Scenario[] = [
  { name: 'loopback', targetErrP99Us: 50, expectedBiasUs: 0 },
  { name: 'jitter', up: { delayMs: 20, jitterMs: 5 }, down: { delayMs: 20, jitterMs: 5 }, targetErrP99Us: 1000, expectedBiasUs: 0 },
  { name: 'asymmetric', up: { delayMs: 10 }, down: { delayMs: 30 }, expectedBiasUs: (10 - 30) * 1000 / 2 }
]
const TARGET_COVERAGE = 0.99

const print = printer(args.json)


async function run (s: Scenario): Promise<void> {
  const timeoutMs = (seconds + Number(args['converge-timeout']) + 30) * 1000
  const server = new PeerProcess(timeoutMs)
  const proxyProc = s.up !== undefined ? new PeerProcess(timeoutMs) : undefined
  const base = new SystemClock()
  const node = await createNode({ name: 'bench-client', listen: [] }, { clock: base, clockSync: syncOptions })
  try {
    const info = await server.call<ServerInfo>('server.start', { offsetUs: Number(args['offset-us']), driftPpm: Number(args['drift-ppm']) })
    let addr = info.addr
    if (proxyProc !== undefined) {
      const { port } = await proxyProc.call<{ port: number }>('proxy.start', { target: info.port, up: s.up, down: s.down, seed: 1, spinMs: Number(args['spin-ms']) })
      addr = `/ip4/127.0.0.1/tcp/${port}/p2p/${info.peerId}`
    }
    const ourBase = clockBase()

    const t0 = base.nowUs()
    const pc = node.clockFor(addr)
    const giveUp = t0 + Number(args['converge-timeout']) * 1e6
    while (!pc.estimator.estimate(base.nowUs()).converged) {
      if (base.nowUs() > giveUp) throw new Error(`${s.name}: the clock estimate did not converge within ${args['converge-timeout']} s`)
      await sleep(5)
    }
    const convergeMs = (base.nowUs() - t0) / 1000

    const errs: number[] = []
    const signed: number[] = []
    const uncs: number[] = []
    let covered = 0
    const end = base.nowUs() + seconds * 1e6
    for (;;) {
      const now = base.nowUs()
      if (now >= end) break
      const e = pc.estimator.estimate(now)
      const err = e.offsetUs - trueOffset(info, ourBase, now)
      signed.push(err)
      errs.push(Math.abs(err))
      uncs.push(e.uncertaintyUs)
      if (Math.abs(err) <= e.uncertaintyUs) covered++
      await sleep(sampleMs)
    }
    const last = pc.estimator.estimate(base.nowUs())
    errs.sort((a, b) => a - b)
    signed.sort((a, b) => a - b)
    uncs.sort((a, b) => a - b)
    const errP99 = quantile(errs, 0.99)
    const coverage = covered / errs.length
    const line: Record<string, unknown> = {
      bench: 'clock',
      scenario: s.name,
      errP50Us: round(quantile(errs, 0.5), 1),
      errP99Us: round(errP99, 1),
      errMaxUs: round(errs[errs.length - 1], 1),
      coverage: round(coverage, 4),
      convergeMs: round(convergeMs, 1),
      uncertaintyP50Us: round(quantile(uncs, 0.5), 1),
      samples: errs.length,
      seconds,
      biasUs: round(quantile(signed, 0.5), 1),
      expectedBiasUs: s.expectedBiasUs,
      rttUs: round(last.rttUs, 1),
      driftErrPpm: round(last.driftPpm - info.driftPpm, 3),
      bursts: pc.stats.bursts,
      probes: pc.stats.probes,
      clockBaseOffsetUs: round(info.baseUs - ourBase, 2),
      sync: args.sync === '' ? 'default' : syncOptions,
      targetCoverage: TARGET_COVERAGE
    }
    let met = coverage >= TARGET_COVERAGE
    if (s.targetErrP99Us !== undefined) {
      line.targetErrP99Us = s.targetErrP99Us
      met &&= errP99 <= s.targetErrP99Us
    }
    line.met = met
    line.load1 = round(loadavg()[0], 2)
    print(line)
  } finally {
    await node.stop()
    await proxyProc?.exit()
    await server.exit()
  }
}

// A watchdog: the whole run must not take much more than planned.
const plannedS = SCENARIOS.filter(s => only.has(s.name)).length * (seconds + Number(args['converge-timeout']) + 10)
setTimeout(() => {
  console.error(`bench: gave up after ${plannedS + 30} s`)
  process.exit(2)
}, (plannedS + 30) * 1000).unref()

for (const s of SCENARIOS) if (only.has(s.name)) await run(s)
