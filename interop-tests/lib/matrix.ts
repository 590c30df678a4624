/**
 * The cross product of implementation pairs × scenarios, with the reason a cell does not apply. A cell
 * is not applicable only for reasons read from the manifest: a missing role, a missing feature, or a
 * scenario's own capability rule.
 */
import type { Impl } from './manifest.ts'
import type { Scenario } from '../scenarios/types.ts'

export interface Cell {
  scenario: Scenario
  dialer: Impl
  listener: Impl
  /** Set when the cell does not apply. */
  notApplicable?: string
}

export function applicability (s: Scenario, dialer: Impl, listener: Impl): string | undefined {
  const reasons: string[] = []
  if (!dialer.roles.includes('dialer')) reasons.push(`${dialer.id} has no dialer role`)
  if (!listener.roles.includes('listener')) reasons.push(`${listener.id} has no listener role`)
  // Features are compared only for a role the implementation has.
  const dm = dialer.roles.includes('dialer') ? s.requires.dialer.filter(f => !dialer.features.includes(f)) : []
  const lm = listener.roles.includes('listener') ? s.requires.listener.filter(f => !listener.features.includes(f)) : []
  if (dm.length > 0) reasons.push(`dialer ${dialer.id} lacks ${dm.join(', ')}`)
  if (lm.length > 0) reasons.push(`listener ${listener.id} lacks ${lm.join(', ')}`)
  if (reasons.length === 0) {
    const r = s.notApplicable?.({ dialer, listener })
    if (r !== undefined) reasons.push(r)
  }
  return reasons.length === 0 ? undefined : reasons.join('; ')
}

export function buildMatrix (scenarios: readonly Scenario[], impls: readonly Impl[]): Cell[] {
  const cells: Cell[] = []
  const runnable = impls.filter(i => i.command !== undefined)
  for (const scenario of scenarios) {
    for (const dialer of runnable) {
      for (const listener of runnable) {
        const cell: Cell = { scenario, dialer, listener }
        const na = applicability(scenario, dialer, listener)
        if (na !== undefined) cell.notApplicable = na
        cells.push(cell)
      }
    }
  }
  return cells
}
