/**
 * Adversarial scenarios (spec §5.3, §7, §9.2.10, §11.4): an adversarial peer writes the failure vectors on
 * live events streams; the implementation under test must send close{code} and reset each such stream,
 * and keep serving a well-behaved stream on the same connection all along.
 *
 * - adversarial-to-listener: the dialer is the adversary (feature "adversary"); the listener is under
 *   test. Framing, CBOR, open and close failures are the first bytes of a stream; batch, watermark, loss
 *   and stream failures follow an accepted push into `stim` (spike) or `wstim` (weighted).
 * - adversarial-to-dialer: the listener is the adversary; the dialer under test subscribes to one port per
 *   case (`v-<vector id>`, with the filter and max_events the case gives), and the adversary answers with
 *   the vector's bytes. Valid stream vectors are controls: accepted, with the vector's gap counted.
 * - oversize-frame-to-listener / -to-dialer: a frame of exactly 1 MiB (a batch padded with an unknown key)
 *   must be accepted; 1 MiB + 1 and a 16 MiB prefix without body must get close{frame-too-large}.
 *
 * Params: `cases` (lib/cases.ts: AdversaryCase[]), `witness_port`, `case_timeout_ms`, `limits`.
 * Adversary result: `outcomes` (CaseOutcome[]), `witness` {accepted, watermarks, alive_at_end,
 * fresh_accept}. Dialer under test result: `probes` [{port, end: "failed" | "closed" | "rejected" |
 * "timeout", events, gap, lost}], `witness` {accepted, alive_at_end, watermarks_after_cases}. Listener under
 * test result: `in_ports` {name: {events, gap, lost}}.
 */
import { casesForDialer, casesForListener, judgeCase, oversizeCases } from '../lib/cases.ts'
import type { AdversaryCase, CaseOutcome } from '../lib/cases.ts'
import { Checks } from './types.ts'
import type { Observation, Scenario } from './types.ts'

const LISTENER_PORTS = [
  { name: 'spikes', direction: 'out', kind: 'spike', channels: 8 },
  { name: 'stim', direction: 'in', kind: 'spike', channels: 16, allow: 'dialer' },
  { name: 'wstim', direction: 'in', kind: 'weighted', channels: 16, allow: 'dialer' }
] as const

function judgeAll (o: Observation, adversary: 'dialer' | 'listener', scenario: string): Checks {
  const c = new Checks()
  const cases = o.plan.params.cases as AdversaryCase[]
  const outcomes = (o[adversary].result?.outcomes ?? []) as CaseOutcome[]
  const byId = new Map(outcomes.map(x => [x.id, x]))
  const underTest = adversary === 'dialer' ? o.pair.listener : o.pair.dialer
  for (const skipped of (o.plan.truth?.skipped ?? []) as string[]) o.note(`not sent: ${skipped}`)
  for (const k of cases) {
    const why = judgeCase(k, byId.get(k.id))
    const known = underTest.knownIssues.find(i => i.scenario === scenario && i.case === k.id)
    if (known !== undefined) {
      if (why === undefined) c.that(false, `${k.id} is listed as a known issue of ${underTest.id} but passed: remove it from impls.json`)
      else o.note(`known issue of ${underTest.id}: ${why} (${known.note})`)
    } else if (why !== undefined) {
      c.that(false, why)
    }
  }
  return c
}

interface Probe { port?: unknown, end?: unknown, events?: unknown, gap?: unknown }

/** The dialer under test: its open per case, its own account of valid cases, and its witness stream. */
function judgeDialer (o: Observation, c: Checks): void {
  const cases = o.plan.params.cases as AdversaryCase[]
  const outcomes = new Map(((o.listener.result?.outcomes ?? []) as CaseOutcome[]).map(x => [x.id, x]))
  const probes = new Map(((o.dialer.result?.probes ?? []) as Probe[]).map(p => [p.port, p]))
  for (const k of cases) {
    const open = outcomes.get(k.id)?.open
    if (open !== undefined && k.subscribe !== undefined) {
      const me = typeof open.max_events === 'number' ? open.max_events : 4096
      c.that(me === k.subscribe.max_events && JSON.stringify(open.channels) === JSON.stringify(k.subscribe.channels),
        `${k.id}: the dialer opened with ${JSON.stringify(open)}, the case asks for ${JSON.stringify(k.subscribe)}`)
    }
    if (k.expect.fail) continue
    const p = probes.get(k.port)
    if (p === undefined) {
      c.that(false, `${k.id}: the dialer reported nothing for port ${k.port}`)
      continue
    }
    if (k.expect.rejected === true) c.equal(p.end, 'rejected', `${k.id}: how the dialer saw the stream end`)
    else c.equal(p.end, 'closed', `${k.id}: how the dialer saw the stream end`)
    if (k.expect.gap !== undefined) c.equal(p.gap, k.expect.gap, `${k.id}: the gap the dialer counted`)
    if (k.expect.events !== undefined) c.equal(p.events, k.expect.events, `${k.id}: events the dialer received`)
  }
  const w = o.dialer.result?.witness as Record<string, unknown> | undefined
  c.that(w?.accepted === true && w?.alive_at_end === true, `the dialer's well-behaved stream must stay up: ${JSON.stringify(w)}`)
  c.that(typeof w?.watermarks_after_cases === 'number' && w.watermarks_after_cases >= 1, `the well-behaved stream got no watermark after the cases: ${JSON.stringify(w)}`)
}

function judgeListener (o: Observation, c: Checks): void {
  const w = o.dialer.result?.witness as Record<string, unknown> | undefined
  c.that(w?.accepted === true && w?.alive_at_end === true && w?.fresh_accept === true,
    `the listener must keep serving the well-behaved stream and accept a fresh one: ${JSON.stringify(w)}`)
  c.that(typeof w?.watermarks === 'number' && w.watermarks >= 1, `the well-behaved stream got no watermark: ${JSON.stringify(w)}`)
}

const common = {
  timeoutMs: 40_000,
  criteria: [
    'for every failure case: close{code} with the vector\'s code, then a reset (a reject with the code where the spec allows one; no close where the implementation had already closed its write side)',
    'for every valid control case: no error code and a clean end (and the vector\'s gap, for a dialer under test)',
    'the well-behaved stream opened before the cases stays up and keeps receiving watermarks'
  ]
}

export const adversarialToListener: Scenario = {
  ...common,
  id: 'adversarial-to-listener',
  title: 'Failure vectors sent to a listener',
  summary: 'The adversary dials the listener and writes every failure vector that a listener can receive on an events stream.',
  requires: { dialer: ['adversary'], listener: ['subscribe', 'push', 'weighted', 'watermark'] },
  plan: pair => ({
    ports: [...LISTENER_PORTS],
    params: { cases: casesForListener(pair.listener).cases, witness_port: 'spikes', case_timeout_ms: 3000, limits: { max_events: 4096 } },
    truth: { skipped: casesForListener(pair.listener).skipped }
  }),
  check: o => {
    const c = judgeAll(o, 'dialer', 'adversarial-to-listener')
    judgeListener(o, c)
    return c.failures
  }
}

export const adversarialToDialer: Scenario = {
  ...common,
  id: 'adversarial-to-dialer',
  title: 'Failure vectors sent to a dialer',
  summary: 'The dialer subscribes to one port per case on the adversarial listener, which answers with the vector\'s bytes.',
  requires: { dialer: ['subscribe', 'weighted', 'watermark'], listener: ['adversary'] },
  plan: pair => ({
    ports: [],
    params: { cases: casesForDialer(pair.dialer).cases, witness_port: 'spikes', case_timeout_ms: 3000 },
    truth: { skipped: casesForDialer(pair.dialer).skipped }
  }),
  check: o => {
    const c = judgeAll(o, 'listener', 'adversarial-to-dialer')
    judgeDialer(o, c)
    return c.failures
  }
}

export const oversizeToListener: Scenario = {
  ...common,
  timeoutMs: 20_000,
  id: 'oversize-frame-to-listener',
  title: 'Oversize frames sent to a listener',
  summary: 'The adversary pushes into the listener a frame of exactly 1 MiB, then 1 MiB + 1, then a 16 MiB length prefix alone.',
  criteria: [
    'the 1 MiB frame is accepted and its 3 events reach the in port',
    'the larger frames get close{frame-too-large} and a reset, decided from the prefix',
    'the well-behaved stream stays up'
  ],
  requires: { dialer: ['adversary'], listener: ['push', 'subscribe', 'watermark'] },
  plan: () => ({
    ports: [{ name: 'spikes', direction: 'out', kind: 'spike', channels: 8 }, { name: 'stim', direction: 'in', kind: 'spike', channels: 16, allow: 'dialer' }],
    params: { cases: oversizeCases(true), witness_port: 'spikes', case_timeout_ms: 5000 }
  }),
  check: o => {
    const c = judgeAll(o, 'dialer', 'oversize-frame-to-listener')
    judgeListener(o, c)
    const stim = (o.listener.result?.in_ports as Record<string, Record<string, unknown>> | undefined)?.stim
    c.that(stim?.events === 3, `events the listener received on stim: ${JSON.stringify(stim)}, want 3 (from the 1 MiB frame)`)
    return c.failures
  }
}

export const oversizeToDialer: Scenario = {
  ...common,
  timeoutMs: 20_000,
  id: 'oversize-frame-to-dialer',
  title: 'Oversize frames sent to a dialer',
  summary: 'The dialer subscribes three times; the adversary answers with a 1 MiB batch frame, a 1 MiB + 1 frame, and a 16 MiB prefix alone.',
  criteria: [
    'the 1 MiB frame is accepted: its 3 events are received and the stream ends cleanly',
    'the larger frames get close{frame-too-large} and a reset, decided from the prefix',
    'the dialer\'s well-behaved stream stays up'
  ],
  requires: { dialer: ['subscribe', 'watermark'], listener: ['adversary'] },
  plan: () => ({ ports: [], params: { cases: oversizeCases(false), witness_port: 'spikes', case_timeout_ms: 5000 } }),
  check: o => {
    const c = judgeAll(o, 'listener', 'oversize-frame-to-dialer')
    judgeDialer(o, c)
    return c.failures
  }
}

