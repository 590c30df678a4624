/**
 * The attack suite (issue 11, "Hostile peers"): a target node in its own process — a 1024-channel Poisson
 * source on an `out` port, a push-only `in` port nobody consumes — a witness subscribed to it in another,
 * and each hostile case replayed against it over loopback, bounded in time.
 *
 *   npm run attack -- [--json] [--short] [--case NAME ...]
 *
 * One line per case (JSON with --json): the verdict (held, degraded, failed) with the criteria, the
 * checks of the case, the target's RSS before, at its peak and after, its CPU with and without the
 * attack, and the witness's largest gap in the attack and in the quiet baseline just before it; then
 * a summary line. `--short` (CI) shortens every case; the whole short run takes about a minute and a
 * half, the full one about three minutes. Exit code 0 whatever the verdicts (it reports, it does not
 * judge); 1 if the suite itself could not run.
 */
import { parseArgs } from 'node:util'
import { clockReadFlood, clockReplies, clockSlowloris, clockUnread } from './cases-clock.ts'
import { lockoutHandshakes, lockoutHandshakesSpread, lockoutIdentities, lockoutIdentitiesSpread } from './cases-lockout.ts'
import { fanout, inboxFlood, seqOverflow, slots } from './cases-ports.ts'
import { runSuite } from './suite.ts'
import type { AttackCase, CaseResult } from './suite.ts'

/** Every case, in the order of the list. */
export const CASES: AttackCase[] = [
  clockUnread, clockSlowloris, clockReadFlood,
  inboxFlood,
  slots,
  lockoutHandshakes, lockoutHandshakesSpread, lockoutIdentities, lockoutIdentitiesSpread,
  fanout,
  seqOverflow,
  clockReplies
]

function human (r: CaseResult): string {
  const checks = r.checks.map(c => `${c.name}=${c.level}(${typeof c.value === 'object' ? JSON.stringify(c.value) : String(c.value)})`).join(' ')
  return `${r.case.padEnd(26)} ${r.verdict.padEnd(8)} rss ${r.rss.beforeMB}→${r.rss.peakMB}→${r.rss.afterMB} MB  ` +
    `retained ${r.retained.beforeMB}→${r.retained.attackMB} MB  ` +
    `cpu ${r.cpu.baselinePct}→${r.cpu.attackPct} %  witness gap ${r.witness.baselineGapMs}→${r.witness.largestGapMs} ms ` +
    `lost ${r.witness.lostEvents} reconnects ${r.witness.reconnects}  ${checks}`
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, short: { type: 'boolean' }, case: { type: 'string', multiple: true } } })
  const json = values.json === true
  const unknown = (values.case ?? []).filter(n => !CASES.some(c => c.name === n))
  if (unknown.length > 0) throw new Error(`unknown case ${unknown.join(', ')} (cases: ${CASES.map(c => c.name).join(', ')})`)
  const t0 = performance.now()
  const results = await runSuite(CASES, { short: values.short === true, only: values.case }, r => {
    console.log(json ? JSON.stringify(r) : human(r))
  })
  const by = (v: string): string[] => results.filter(r => r.verdict === v).map(r => r.case)
  const summary = {
    bench: 'attack',
    summary: true,
    mode: values.short === true ? 'short' : 'full',
    cases: results.length,
    held: by('held'),
    degraded: by('degraded'),
    failed: by('failed'),
    durationS: Math.round((performance.now() - t0) / 100) / 10
  }
  console.log(json ? JSON.stringify(summary) : `${results.length} cases: ${summary.held.length} held, ${summary.degraded.length} degraded, ${summary.failed.length} failed (${summary.durationS} s)`)
}

if (import.meta.main) {
  main().then(() => { process.exit(0) }, err => {
    console.error(err)
    process.exit(1)
  })
}
