/**
 * results.csv (one row per cell) and results.md (per scenario a matrix: rows dialer, columns listener),
 * plus the same for the codec runner.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RunResult } from './run-one.ts'
import type { Scenario } from '../scenarios/types.ts'

export interface Summary {
  passed: number
  failed: number
  skipped: number
}

export function summarize (results: Array<{ status: string }>): Summary {
  return {
    passed: results.filter(r => r.status === 'pass').length,
    failed: results.filter(r => r.status === 'fail').length,
    skipped: results.filter(r => r.status === 'n/a').length
  }
}

function csvField (s: string | number): string {
  const t = String(s)
  return /[",\n]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t
}

function mdCell (s: string): string {
  return s.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

const MARK: Record<string, string> = { pass: 'pass', fail: '**FAIL**', 'n/a': 'n/a' }

export function writeReport (dir: string, results: RunResult[], scenarios: readonly Scenario[], impls: string[], note = ''): void {
  const rows = [['scenario', 'dialer', 'listener', 'result', 'duration_ms', 'reason'].join(',')]
  for (const r of results) rows.push([r.scenario, r.dialer, r.listener, r.status, r.durationMs, r.reason].map(csvField).join(','))
  writeFileSync(join(dir, 'results.csv'), rows.join('\n') + '\n')

  const s = summarize(results)
  const md: string[] = [
    '# spikewire interop results',
    '',
    `${s.passed} passed, ${s.failed} failed, ${s.skipped} not applicable. Rows: dialer; columns: listener.${note === '' ? '' : ` ${note}`}`,
    ''
  ]
  // Overview: one row per scenario, one column per pair that runs at least one scenario.
  const pairs = [...new Set(results.filter(r => r.status !== 'n/a').map(r => `${r.dialer} → ${r.listener}`))]
  if (pairs.length > 0) {
    md.push(`| scenario | ${pairs.join(' | ')} |`, `|---|${pairs.map(() => '---').join('|')}|`)
    for (const sc of scenarios) {
      const cells = pairs.map(pair => MARK[results.find(r => r.scenario === sc.id && `${r.dialer} → ${r.listener}` === pair)?.status ?? ''] ?? '')
      if (results.some(r => r.scenario === sc.id)) md.push(`| ${sc.id} | ${cells.join(' | ')} |`)
    }
    md.push('')
  }
  for (const sc of scenarios) {
    const mine = results.filter(r => r.scenario === sc.id)
    if (mine.length === 0) continue
    md.push(`## ${sc.id}`, '', `${sc.title}. ${sc.summary}`, '')
    md.push(`| dialer ↓ \\ listener → | ${impls.join(' | ')} |`, `|---|${impls.map(() => '---').join('|')}|`)
    for (const d of impls) {
      const cells = impls.map(l => {
        const r = mine.find(x => x.dialer === d && x.listener === l)
        return r === undefined ? '' : MARK[r.status]
      })
      md.push(`| ${d} | ${cells.join(' | ')} |`)
    }
    md.push('')
  }
  const failed = results.filter(r => r.status === 'fail')
  if (failed.length > 0) {
    md.push('## Failures', '')
    for (const r of failed) md.push(`- **${r.scenario}** ${r.dialer} → ${r.listener}: ${mdCell(r.reason)}`)
    md.push('')
  }
  const noted = results.filter(r => r.status === 'pass' && r.reason !== '')
  if (noted.length > 0) {
    md.push('## Notes', '', 'Passed, with remarks (known issues from impls.json, passes on a retry):', '')
    for (const r of noted) md.push(`- **${r.scenario}** ${r.dialer} → ${r.listener}: ${mdCell(r.reason)}`)
    md.push('')
  }
  const na = results.filter(r => r.status === 'n/a')
  if (na.length > 0) {
    md.push('## Not applicable', '', 'From the capabilities in impls.json:', '')
    for (const r of na) md.push(`- ${r.scenario} ${r.dialer} → ${r.listener}: ${mdCell(r.reason)}`)
    md.push('')
  }
  writeFileSync(join(dir, 'results.md'), md.join('\n'))
}

export interface CodecResult {
  impl: string
  vector: string
  status: 'pass' | 'fail' | 'n/a'
  reason: string
}

export function writeCodecReport (dir: string, results: CodecResult[], impls: string[]): void {
  const rows = [['impl', 'vector', 'result', 'reason'].join(',')]
  for (const r of results) rows.push([r.impl, r.vector, r.status, r.reason].map(csvField).join(','))
  writeFileSync(join(dir, 'codec.csv'), rows.join('\n') + '\n')
  const md = ['# spikewire codec vectors', '', '| implementation | passed | failed | not applicable |', '|---|---|---|---|']
  for (const id of impls) {
    const s = summarize(results.filter(r => r.impl === id))
    md.push(`| ${id} | ${s.passed} | ${s.failed} | ${s.skipped} |`)
  }
  const failed = results.filter(r => r.status === 'fail')
  if (failed.length > 0) {
    md.push('', '## Failures', '')
    for (const r of failed) md.push(`- ${r.impl} ${r.vector}: ${mdCell(r.reason)}`)
  }
  writeFileSync(join(dir, 'codec.md'), md.join('\n') + '\n')
}
