/** Shared helpers of the model tests. */
import type { Model } from '../../src/models/index.ts'

export interface Ev {
  channel: number
  timeUs: number
  value?: number
}

/** Advance `model` to `tUs` and collect what it emits. */
export function collect (model: Model, tUs: number, out: Ev[] = []): Ev[] {
  model.advanceTo(tUs, (channel, timeUs, value) => {
    out.push(value === undefined ? { channel, timeUs } : { channel, timeUs, value })
  })
  return out
}

export function isSorted (evs: Ev[]): boolean {
  for (let i = 1; i < evs.length; i++) if (evs[i].timeUs < evs[i - 1].timeUs) return false
  return true
}

export function intervals (times: number[]): number[] {
  const d: number[] = []
  for (let i = 1; i < times.length; i++) d.push(times[i] - times[i - 1])
  return d
}

export function mean (xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length
}

export function sd (xs: number[]): number {
  const m = mean(xs)
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1))
}
