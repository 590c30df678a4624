/**
 * The event generator both sides agree on (interop-tests/README.md, "Event generator"), written again
 * from its description: 32-bit unsigned arithmetic only.
 */
export interface Spec {
  seed: number
  n: number
  channels: number
  min_gap_us?: number
  max_gap_us: number
  weighted?: boolean
}

export interface Expected {
  channel: number
  offset: number
  value?: number
}

export function expectedEvents (spec: Spec): Expected[] {
  const out: Expected[] = []
  const min = spec.min_gap_us ?? 0
  const span = spec.max_gap_us - min + 1
  let s = spec.seed >>> 0
  let t = 0
  for (let k = 0; k < spec.n; k++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    if (k > 0) t += min + ((s >>> 8) % span)
    const e: Expected = { channel: (s >>> 16) % spec.channels, offset: t }
    if (spec.weighted === true) e.value = (((s >>> 20) % 2001) - 1000) / 8
    out.push(e)
  }
  return out
}
