import { synthesise } from '../clocksim.ts'
import type { Path, Sample, Synthesis, Truth } from '../clocksim.ts'
import type { ClockSyncDef } from '../clocksync.ts'
import { T0 } from '../dsl.ts'

/** A LAN-like path: 150 µs each way, queueing of 40 µs on average per direction, 20 µs processing. */
const LAN: Path = { upUs: 150, downUs: 150, jitterUs: 40, processUs: 20 }

/** Samples from a synthesis, and the time and truth of the estimate `afterUs` after the last answer. */
function run (s: Synthesis, afterUs: number): { samples: Sample[], bursts: number[], atUs: number, truth: Truth } {
  const { samples, bursts } = synthesise(s)
  return { samples, bursts, atUs: samples[samples.length - 1][3] + afterUs, truth: s.truth }
}

const zero = run({
  truth: { offsetUs: 0, driftPpm: 0, anchorUs: T0 }, path: { ...LAN, symmetric: true }, seed: 1,
  startUs: T0, bursts: 8, perBurst: 4, spacingUs: 5_000, periodUs: 1_000_000
}, 100_000)

const ahead = run({
  truth: { offsetUs: 2_500_000, driftPpm: 0, anchorUs: T0 }, path: LAN, seed: 2,
  startUs: T0, bursts: 8, perBurst: 8, spacingUs: 5_000, periodUs: 1_000_000
}, 100_000)

const behind = run({
  truth: { offsetUs: -1_250_000, driftPpm: 0, anchorUs: T0 }, path: { upUs: 2000, downUs: 2000, jitterUs: 200, processUs: 30 },
  seed: 3, startUs: T0, bursts: 8, perBurst: 8, spacingUs: 5_000, periodUs: 1_000_000
}, 100_000)

const asymmetric = run({
  truth: { offsetUs: 40_000, driftPpm: 0, anchorUs: T0 }, path: { upUs: 900, downUs: 300, jitterUs: 15, processUs: 20 },
  seed: 4, startUs: T0, bursts: 8, perBurst: 8, spacingUs: 5_000, periodUs: 1_000_000
}, 100_000)

const drift = run({
  truth: { offsetUs: 10_000, driftPpm: 100, anchorUs: T0 }, path: LAN, seed: 6,
  startUs: T0, bursts: 16, perBurst: 4, spacingUs: 5_000, periodUs: 2_000_000
}, 1_000_000)

const outlier = run({
  truth: { offsetUs: -40_000, driftPpm: 0, anchorUs: T0 }, path: LAN, seed: 7,
  startUs: T0, bursts: 12, perBurst: 4, spacingUs: 5_000, periodUs: 500_000, glitch: { burst: 6, us: 5_000 }
}, 100_000)

/** One burst written by hand: δ = 340, 322, 318, 335, 329, 301, 344, 301; θ differs between the two 301s. */
const handBurst: Sample[] = [
  [T0, T0 + 2680, T0 + 2700, T0 + 360],
  [T0 + 5000, T0 + 7665, T0 + 7685, T0 + 5342],
  [T0 + 10000, T0 + 12660, T0 + 12680, T0 + 10338],
  [T0 + 15000, T0 + 17672, T0 + 17692, T0 + 15355],
  [T0 + 20000, T0 + 22668, T0 + 22688, T0 + 20349],
  [T0 + 25000, T0 + 27652, T0 + 27672, T0 + 25321],
  [T0 + 30000, T0 + 32681, T0 + 32701, T0 + 30364],
  [T0 + 35000, T0 + 37661, T0 + 37681, T0 + 35321]
]

/** A burst with two faulty samples and three slightly negative delays within ε = 20 µs. */
const discardBurst: Sample[] = [
  [T0, T0 + 1090, T0 + 1100, T0 + 190], // δ = 180
  [T0 + 5000, T0 + 6030, T0 + 6080, T0 + 5025], // δ = 25 − 50 = −25 < −ε: negative-delay
  [T0 + 10000, T0 + 11010, T0 + 11040, T0 + 10025], // δ = 25 − 30 = −5: kept, counts as 0
  [T0 + 15000, T0 + 16012, T0 + 16050, T0 + 15026], // δ = 26 − 38 = −12: kept, counts as 0, ties with −5
  [T0 + 20000, T0 + 21000, T0 + 21010, T0 + 19990], // t4 < t1: the client's clock went back
  [T0 + 25000, T0 + 26010, T0 + 26050, T0 + 25020] // δ = 20 − 40 = −20 = −ε: kept
]

export const clocksync: ClockSyncDef[] = [
  {
    id: 'clocksync-ok-01',
    title: 'zero offset, symmetric path',
    why: 'Both clocks agree and every request and response take equally long, so every sample\'s θ is exactly 0 ' +
      'whatever its δ: the simplest check of the formulas and of the sign conventions.',
    samples: zero.samples,
    bursts: zero.bursts,
    estimate: { atUs: zero.atUs, truth: zero.truth, offsetToleranceUs: 5, driftTolerancePpm: 2 }
  },
  {
    id: 'clocksync-ok-02',
    title: 'peer 2.5 s ahead, LAN path with queueing',
    why: 'θ > 0: the server\'s clock is ahead. Queueing differs between the directions, so θ varies from sample ' +
      'to sample by half the difference, often by half a microsecond (θ must not be rounded); the lowest-δ ' +
      'sample of each burst is the best.',
    samples: ahead.samples,
    bursts: ahead.bursts,
    estimate: { atUs: ahead.atUs, truth: ahead.truth, offsetToleranceUs: 10, driftTolerancePpm: 2 }
  },
  {
    id: 'clocksync-ok-03',
    title: 'peer 1.25 s behind, WAN-like path (4 ms round trip)',
    why: 'θ < 0: the server\'s times are below the client\'s (t2 < t1). Nothing in the rules may assume a sign. ' +
      'The slower, more jittery path gives larger δ, a larger uncertainty, and fits that differ more: the ' +
      'tolerance is 30 µs.',
    samples: behind.samples,
    bursts: behind.bursts,
    estimate: { atUs: behind.atUs, truth: behind.truth, offsetToleranceUs: 30, driftTolerancePpm: 5 }
  },
  {
    id: 'clocksync-ok-04',
    title: 'asymmetric path: 900 µs out, 300 µs back',
    why: 'The true offset is 40000 µs, but every sample measures about 40300 µs: θ is off by half the asymmetry, ' +
      '(900 − 300)/2 = 300 µs, and no rule can see it in the timestamps (§9.3.3 rationale). The expected ' +
      'estimate is therefore about 40300 µs, not the truth; what makes it honest is the uncertainty, at ' +
      'least δmin/2 ≈ 600 µs, which covers the 300 µs error.',
    samples: asymmetric.samples,
    bursts: asymmetric.bursts,
    estimate: { atUs: asymmetric.atUs, truth: asymmetric.truth, offsetToleranceUs: 10, driftTolerancePpm: 2 }
  },
  {
    id: 'clocksync-ok-05',
    title: 'one burst whose lowest-delay sample is not the first, with a tie',
    why: 'The clock filter keeps the sample with the smallest δ, not the first or the last: here δ is smallest ' +
      '(301 µs) at index 5 and again at index 7, with a different θ; on a tie the earlier sample wins, so ' +
      'index 5 is kept and the estimate is its θ, 2501.5 µs (index 7 has 2510.5 µs).',
    samples: handBurst,
    bursts: handBurst.map(() => 0),
    expectFiltered: [5],
    estimate: { atUs: T0 + 40_000, truth: { offsetUs: 2500, driftPpm: 0, anchorUs: T0 }, offsetToleranceUs: 1 }
  },
  {
    id: 'clocksync-ok-06',
    title: 'drift +100 ppm over a 30 s window',
    why: 'The server\'s clock runs 100 ppm fast: θ grows by 3000 µs across the window. A fit of offset and drift ' +
      'follows it and extrapolates 1 s past the last sample; a constant offset would be off by more than 1.5 ms.',
    samples: drift.samples,
    bursts: drift.bursts,
    estimate: { atUs: drift.atUs, truth: drift.truth, offsetToleranceUs: 10, driftTolerancePpm: 1, catches: 'drift' }
  },
  {
    id: 'clocksync-ok-07',
    title: 'an outlier burst: the server\'s clock reads 5 ms off during one burst',
    why: 'Burst 6 has ordinary round trips but offsets 5000 µs away from the others (a server clock glitch that ' +
      'δ cannot reveal). Outlier rejection keeps it out of the estimate; a plain least-squares line through ' +
      'every burst would be pulled hundreds of µs away.',
    samples: outlier.samples,
    bursts: outlier.bursts,
    estimate: { atUs: outlier.atUs, truth: outlier.truth, offsetToleranceUs: 10, driftTolerancePpm: 5, catches: 'outlier' }
  },
  {
    id: 'clocksync-ok-08',
    title: 'discarded samples and delays slightly below zero in one burst',
    why: 'With ε = 20 µs: sample 1 (δ = −25) and sample 4 (t4 < t1) are discarded and must not be picked even ' +
      'though their δ is smallest; samples 2, 3 and 5 (δ = −5, −12 and exactly −20) are kept and their delay ' +
      'counts as 0, so they tie and the earliest, 2, is the representative.',
    samples: discardBurst,
    bursts: discardBurst.map(() => 0),
    expectRejected: [[1, 'negative-delay'], [4, 't4-before-t1']],
    expectFiltered: [2],
    estimate: { atUs: T0 + 30_000, offsetToleranceUs: 1 }
  },
  {
    id: 'clocksync-ok-09',
    title: 'the example of §9.3.2: θ = 2500 µs, δ = 300 µs',
    why: 'One sample, the numbers of the spec\'s example (the response is clock-ok-03): a single sample is its ' +
      'own estimate, known to within δ/2 = 150 µs.',
    samples: [[T0, T0 + 2650, T0 + 2690, T0 + 340]],
    estimate: { atUs: T0 + 340, truth: { offsetUs: 2500, driftPpm: 0, anchorUs: T0 }, offsetToleranceUs: 1 }
  },
  {
    id: 'clocksync-ok-10',
    title: 'a half-microsecond offset',
    why: 'Integer timestamps give θ in steps of 0.5 µs: θ = (2651 + 2350)/2 = 2500.5 µs must be kept as it is, ' +
      'not rounded to an integer.',
    samples: [[T0, T0 + 2651, T0 + 2690, T0 + 340]],
    estimate: { atUs: T0 + 340, truth: { offsetUs: 2500, driftPpm: 0, anchorUs: T0 }, offsetToleranceUs: 1 }
  },
  {
    id: 'clocksync-fail-01',
    title: 'negative delay beyond the tolerance (δ = −21 µs, ε = 20 µs)',
    why: 'A round trip shorter than the server\'s own processing time cannot happen with working clocks: the ' +
      'sample is discarded (the stream goes on). δ = −20 would still be accepted.',
    code: 'negative-delay',
    samples: [[T0, T0 + 1000, T0 + 1051, T0 + 30]]
  },
  {
    id: 'clocksync-fail-02',
    title: 'server answered before it received (t3 < t2)',
    why: 'A server MUST read t3 after t2 (§8.10, §9.3.3): the response is invalid and the client closes the ' +
      'stream with invalid-message.',
    code: 't3-before-t2',
    closeCode: 'invalid-message',
    samples: [[T0, T0 + 1200, T0 + 1150, T0 + 300]]
  },
  {
    id: 'clocksync-fail-03',
    title: 'answer received before the request was sent (t4 < t1)',
    why: 'The client\'s own clock went back between t1 and t4 (§6.1 forbids it): the sample means nothing and ' +
      'is discarded.',
    code: 't4-before-t1',
    samples: [[T0 + 500, T0 + 1200, T0 + 1220, T0 + 400]]
  },
  {
    id: 'clocksync-fail-04',
    title: 'response whose echoed t1 differs from the request\'s',
    why: 'The echo proves which request a response answers; a t1 changed by even 1 µs is rejected with ' +
      'invalid-message (§9.3.1), never used as a sample.',
    code: 'echo-mismatch',
    closeCode: 'invalid-message',
    exchange: {
      requests: [{ type: 'clock-request', id: 7, t1: T0 }],
      response: { type: 'clock-response', id: 7, t1: T0 + 1, t2: T0 + 2650, t3: T0 + 2690 }
    }
  },
  {
    id: 'clocksync-fail-05',
    title: 'response with an id that no outstanding request has',
    why: 'While request 7 is outstanding, a response for id 8 is rejected with invalid-message (§9.3.1); ' +
      'unexpected-message is only for a response when no request is outstanding.',
    code: 'echo-mismatch',
    closeCode: 'invalid-message',
    exchange: {
      requests: [{ type: 'clock-request', id: 7, t1: T0 }],
      response: { type: 'clock-response', id: 8, t1: T0, t2: T0 + 2650, t3: T0 + 2690 }
    }
  },
  {
    id: 'clocksync-fail-06',
    title: 'response to the second outstanding request before the first',
    why: 'The server answers in order (§9.3.1), so the first response must echo the oldest outstanding request. ' +
      'A client that matched responses by id alone would accept this one.',
    code: 'echo-mismatch',
    closeCode: 'invalid-message',
    exchange: {
      requests: [{ type: 'clock-request', id: 7, t1: T0 }, { type: 'clock-request', id: 8, t1: T0 + 5000 }],
      response: { type: 'clock-response', id: 8, t1: T0 + 5000, t2: T0 + 7650, t3: T0 + 7690 }
    }
  }
]
