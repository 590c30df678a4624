/** What the benchmark scripts share for printing their results. */

/** One result per line: JSON with --json, `key=value` pairs otherwise. */
export function printer (json: boolean): (r: Record<string, unknown>) => void {
  return r => {
    if (json) console.log(JSON.stringify(r))
    else console.log(Object.entries(r).map(([k, v]) => `${k}=${String(v)}`).join(' '))
  }
}

/** `x` with `digits` decimals, as a number. */
export const round = (x: number, digits = 0): number => Number(x.toFixed(digits))

/** The q-quantile of ascending `sorted` (the element at ⌊q·n⌋). */
export function quantile (sorted: ArrayLike<number>, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
