/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: it throws on anything the
 * format does not allow or that a scraper would reject — a bad metric or label name, a bad escape, a
 * value that is not a float, a sample before its family's TYPE, a TYPE given twice, families interleaved,
 * a series repeated, a counter's sample not named as its family, histogram buckets that are not
 * cumulative or whose +Inf bucket differs from _count.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

export interface PromSample { name: string, labels: Record<string, string>, value: number }
export interface PromFamily { name: string, type: MetricType, help?: string, samples: PromSample[] }

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

export function parsePromText (text: string): Map<string, PromFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with a line feed')
  const families = new Map<string, PromFamily>()
  const series = new Set<string>()
  let current: PromFamily | undefined
  const lines = text.split('\n')
  lines.pop()
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line.slice(0, 120))}`
    if (line.trim() === '') return
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
      if (m === null) return // a plain comment
      const [, kw, name, rest] = m
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`)
      let f = families.get(name)
      if (f !== undefined && f !== current) throw new Error(`${where}: family ${name} is not contiguous`)
      if (f === undefined) {
        f = { name, type: 'untyped', samples: [] }
        families.set(name, f)
      }
      current = f
      if (kw === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`)
        if (f.samples.length > 0) throw new Error(`${where}: TYPE after samples`)
        if ((f as { typed?: boolean }).typed === true) throw new Error(`${where}: TYPE given twice`)
        ;(f as { typed?: boolean }).typed = true
        f.type = rest as MetricType
      } else {
        if (f.help !== undefined) throw new Error(`${where}: HELP given twice`)
        f.help = unescapeHelp(rest, where)
      }
      return
    }
    const s = parseSample(line, where)
    const family = familyOf(s.name, current)
    if (family === undefined || family !== current) throw new Error(`${where}: sample ${s.name} outside its family (missing TYPE, or interleaved)`)
    const key = `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`
    if (series.has(key)) throw new Error(`${where}: series repeated`)
    series.add(key)
    family.samples.push(s)
  })
  for (const f of families.values()) checkFamily(f)
  return families
}

function familyOf (name: string, current: PromFamily | undefined): PromFamily | undefined {
  if (current === undefined) return undefined
  if (name === current.name) return current.type === 'histogram' || current.type === 'summary' ? undefined : current
  if (current.type === 'histogram' && [`${current.name}_bucket`, `${current.name}_sum`, `${current.name}_count`].includes(name)) return current
  if (current.type === 'summary' && [`${current.name}_sum`, `${current.name}_count`].includes(name)) return current
  return undefined
}

function parseSample (line: string, where: string): PromSample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{)?/.exec(line)
  if (m === null) throw new Error(`${where}: bad metric name`)
  const name = m[1]
  let i = m[0].length
  const labels: Record<string, string> = {}
  if (m[2] === '{') {
    while (line[i] !== '}') {
      const ln = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(i))
      if (ln === null || !LABEL_NAME.test(ln[1])) throw new Error(`${where}: bad label at ${i}`)
      i += ln[0].length
      let v = ''
      for (;;) {
        const c = line[i++]
        if (c === undefined) throw new Error(`${where}: unterminated label value`)
        if (c === '"') break
        if (c === '\\') {
          const e = line[i++]
          if (e === '\\') v += '\\'
          else if (e === '"') v += '"'
          else if (e === 'n') v += '\n'
          else throw new Error(`${where}: bad escape \\${e}`)
        } else v += c
      }
      if (Object.hasOwn(labels, ln[1])) throw new Error(`${where}: label ${ln[1]} repeated`)
      labels[ln[1]] = v
      if (line[i] === ',') i++
      else if (line[i] !== '}') throw new Error(`${where}: expected , or } at ${i}`)
    }
    i++
  }
  const rest = line.slice(i)
  const vm = /^ (\S+)(?: (-?\d+))?$/.exec(rest)
  if (vm === null) throw new Error(`${where}: expected one space, a value and an optional timestamp`)
  return { name, labels, value: parseValue(vm[1], where) }
}

/** A float as Go's strconv.ParseFloat reads it (the format's rule): NaN and Inf in any case, with a sign for Inf. */
function parseValue (s: string, where: string): number {
  const word = s.toLowerCase()
  if (word === 'nan') return NaN
  if (word === '+inf' || word === 'inf' || word === '+infinity' || word === 'infinity') return Infinity
  if (word === '-inf' || word === '-infinity') return -Infinity
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`${where}: ${s} is not a float`)
  return Number(s)
}

function unescapeHelp (s: string, where: string): string {
  return s.replace(/\\(.?)/g, (_all, e: string) => {
    if (e === '\\') return '\\'
    if (e === 'n') return '\n'
    throw new Error(`${where}: bad escape in HELP`)
  })
}

function checkFamily (f: PromFamily): void {
  if (f.type === 'counter') {
    for (const s of f.samples) {
      if (s.name !== f.name) throw new Error(`counter ${f.name}: sample ${s.name}`)
      if (!(s.value >= 0)) throw new Error(`counter ${f.name}: value ${s.value}`)
    }
  }
  if (f.type !== 'histogram') return
  const groups = new Map<string, PromSample[]>()
  for (const s of f.samples) {
    const { le, ...rest } = s.labels
    if (s.name.endsWith('_bucket') && le === undefined) throw new Error(`histogram ${f.name}: bucket without le`)
    const key = JSON.stringify(Object.entries(rest).sort())
    groups.set(key, [...(groups.get(key) ?? []), s])
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter(s => s.name.endsWith('_bucket')).map(s => ({ le: parseValue(s.labels.le, f.name), v: s.value })).sort((a, b) => a.le - b.le)
    const count = samples.find(s => s.name === `${f.name}_count`)
    if (samples.find(s => s.name === `${f.name}_sum`) === undefined || count === undefined) throw new Error(`histogram ${f.name} ${key}: no _sum or _count`)
    if (buckets.at(-1)?.le !== Infinity) throw new Error(`histogram ${f.name} ${key}: no +Inf bucket`)
    for (let i = 1; i < buckets.length; i++) if (buckets[i].v < buckets[i - 1].v) throw new Error(`histogram ${f.name} ${key}: buckets not cumulative`)
    if (buckets.at(-1)!.v !== count.value) throw new Error(`histogram ${f.name} ${key}: +Inf bucket ${buckets.at(-1)!.v} ≠ count ${count.value}`)
  }
}

/** The value of the one sample of `name` whose labels include `labels`; throws unless exactly one matches. */
export function sample (families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number {
  const all = [...families.values()].flatMap(f => f.samples).filter(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (all.length !== 1) throw new Error(`${all.length} samples of ${name} ${JSON.stringify(labels)}`)
  return all[0].value
}

/** Every sample of `name`. */
export function samples (families: Map<string, PromFamily>, name: string): PromSample[] {
  return [...families.values()].flatMap(f => f.samples).filter(s => s.name === name)
}
