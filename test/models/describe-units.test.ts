/**
 * Model parameters in node descriptions (spec §8.2): a unit is an SI symbol or "" for a dimensionless value.
 * Every model the reference ships is described here, and no parameter may use "1" (or any other stand-in)
 * for "no unit".
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { adex, culture, lif, memristor, pacemaker, parseSpikeTrain, poisson, rateRule, replay, stdpRule, synapse } from '../../src/models/index.ts'
import type { ModelDescription, ModelParam } from '../../src/models/index.ts'

const described: Array<[string, () => ModelDescription]> = [
  ['lif', () => lif({ channels: 2 }).describe()],
  ['adex', () => adex({ channels: 2 }).describe()],
  ['poisson', () => poisson({ channels: 3, rateHz: 5, seed: 1 }).describe()],
  ['pacemaker', () => pacemaker({ rateHz: 2 }).describe()],
  ['replay', () => replay(parseSpikeTrain('channel,time_us\n0,1000\n1,2000\n')).describe()],
  ['culture', () => culture({ seed: 1 }).describe()],
  ['synapse (rate rule)', () => synapse({ rule: 'rate' }).describe()],
  ['synapse (stdp rule)', () => synapse({ rule: 'stdp' }).describe()],
  ['synapse (no rule)', () => synapse({ rule: 'none' }).describe()]
]

/** Counts, seeds, flags and ratios: the parameters that have no unit. */
const DIMENSIONLESS = new Set(['channels', 'seed', 'electrodes', 'synapses', 'events', 'absolute_time', 'p_max', 'w50', 'slope',
  'A_plus', 'A_minus', 'fixed_pulses', 'rate_max_count', 'rate_high', 'rate_low', 'alpha_p', 'alpha_d', 'noise'])

function check (t: ExecutionContext, what: string, params: readonly ModelParam[]): void {
  t.true(params.length > 0, `${what} has parameters`)
  for (const [name, value, unit] of params) {
    t.is(typeof unit, 'string', `${what} ${name}`)
    t.true(Number.isFinite(value), `${what} ${name} = ${value}`)
    t.not(unit, '1', `${what} ${name}: a dimensionless value has unit "" (spec §8.2), not "1"`)
    t.false(/^\s+$/.test(unit), `${what} ${name}: unit ${JSON.stringify(unit)}`)
    if (DIMENSIONLESS.has(name)) t.is(unit, '', `${what} ${name} is dimensionless`)
  }
}

for (const [what, describe] of described) {
  test(`${what}: every parameter has an SI unit or "" when dimensionless`, t => {
    check(t, what, describe().params)
  })
}

test('plasticity rules and the memristor: units are SI symbols or ""', t => {
  check(t, 'rate rule', rateRule().params())
  check(t, 'stdp rule', stdpRule().params())
  check(t, 'memristor', memristor().params())
})

test('the dimensionless parameters named here all occur in some model (the list is not stale)', t => {
  const seen = new Set<string>()
  for (const [, describe] of described) for (const [name] of describe().params) seen.add(name)
  for (const name of DIMENSIONLESS) t.true(seen.has(name), name)
})
