/** Text formatting for people: aligned tables, model summaries, link states. */
import type { ModelInfo } from '../codec/index.ts'
import type { LinkStatus } from '../wire/reconnect.ts'

/** Align columns with two spaces between them; the last column is not padded. */
export function table (rows: string[][]): string[] {
  const widths: number[] = []
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length) })
  return rows.map(r => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd())
}

/** "lif (tau_m=20 ms, v_th=-50 mV)", or "-" without a model. */
export function modelText (m: ModelInfo | undefined): string {
  if (m === undefined) return '-'
  if (m.params === undefined || m.params.length === 0) return m.name
  return `${m.name} (${m.params.map(([name, value, unit]) => `${name}=${value}${unit === '' || unit === '1' ? '' : ` ${unit}`}`).join(', ')})`
}

/** A link status change as words: "open", "retrying in 200 ms (attempt 2): connection reset". */
export function statusText (s: LinkStatus): string {
  const why = s.error === undefined ? '' : `: ${s.error.message.replace(/\s*\n\s*/g, ' ')}`
  switch (s.state) {
    case 'retrying': return `retrying in ${Math.round(s.delayMs ?? 0)} ms (attempt ${s.attempt})${why === '' ? ': the stream ended' : why}`
    case 'connecting': return s.attempt === 0 ? 'connecting' : `connecting (attempt ${s.attempt + 1})`
    case 'closed': return `closed${why}`
    default: return s.state
  }
}

/** A link status as a JSON object. */
export function statusJson (s: LinkStatus): Record<string, unknown> {
  const o: Record<string, unknown> = { state: s.state, attempt: s.attempt }
  if (s.delayMs !== undefined) o.delay_ms = Math.round(s.delayMs)
  if (s.error !== undefined) {
    o.error = s.error.message
    const code = (s.error as { code?: unknown }).code
    if (typeof code === 'string') o.code = code
  }
  return o
}
