/**
 * The published config schema (schema/node-config.schema.json) and the validator (parseConfig) say the
 * same thing: every example config in the repository is valid under both, every invalid config here is
 * refused by both, the only configs they disagree on are the documented gaps (SCHEMA_GAPS), limits and
 * their ranges are those of src/wire/defaults.ts, and docs/config.md documents every field and range.
 *
 * The schema is checked with ajv 6 (draft-07), the JSON Schema validator already in node_modules (it comes
 * with eslint); nothing here depends on ajv beyond `compile` and `validateSchema`.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import Ajv from 'ajv'
import fc from 'fast-check'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../../src/node/errors.ts'
import { parseConfig } from '../../src/hosting/config.ts'
import { SCHEMA_GAPS, configSchema } from '../../src/hosting/config-schema.ts'
import { LIMITS, OUT_PORT } from '../../src/wire/defaults.ts'
import type { Tunable } from '../../src/wire/defaults.ts'
import { publisherConfig } from '../cli/helpers.ts'

const ROOT = new URL('../../', import.meta.url).pathname
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')
const PEER = '12D3KooWHJvQfsXmiU3gizLUc13sTgJ3vHZFTDtV5ex2LBzdVyfu'

const schema = configSchema()
const ajv = new Ajv({ allErrors: true })
const validate = ajv.compile(schema)

interface Verdicts { schema: boolean, validator: boolean, schemaErrors: string, validatorError: string }

function judge (config: unknown): Verdicts {
  const ok = validate(config) === true
  const schemaErrors = ok ? '' : ajv.errorsText(validate.errors)
  try {
    parseConfig(structuredClone(config))
    return { schema: ok, validator: true, schemaErrors, validatorError: '' }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return { schema: ok, validator: false, schemaErrors, validatorError: err.message }
  }
}

function bothAccept (t: ExecutionContext, config: unknown, what: string): void {
  const v = judge(config)
  t.true(v.schema, `${what}: the schema refuses it: ${v.schemaErrors}`)
  t.true(v.validator, `${what}: parseConfig refuses it: ${v.validatorError}`)
}

function bothRefuse (t: ExecutionContext, config: unknown, what: string, path?: RegExp): void {
  const v = judge(config)
  t.false(v.schema, `${what}: the schema accepts it`)
  t.false(v.validator, `${what}: parseConfig accepts it`)
  if (path !== undefined && !v.validator) t.regex(v.validatorError, path, what)
}

test('the published schema file is the generated one (run npm run schema after changing a field)', t => {
  t.deepEqual(JSON.parse(read('schema/node-config.schema.json')), JSON.parse(JSON.stringify(schema)))
})

test('the schema is a valid draft-07 JSON Schema', t => {
  t.is(schema.$schema, 'http://json-schema.org/draft-07/schema#')
  t.true(ajv.validateSchema(schema) as boolean, ajv.errorsText(ajv.errors))
})

/** JSON code blocks of a markdown file. */
function jsonBlocks (path: string): string[] {
  return [...read(path).matchAll(/```json\n([\s\S]*?)```/g)].map(m => m[1])
}

/** Every config example in the repository's documentation, with where it comes from. */
function documentedConfigs (): Array<{ where: string, config: unknown }> {
  const found: Array<{ where: string, config: unknown }> = []
  for (const path of ['README.md', 'docs/config.md', 'docs/cli.md', 'docs/architecture.md', 'examples/quickstart/README.md', 'examples/three-sites/README.md']) {
    jsonBlocks(path).forEach((text, i) => {
      // Placeholders of the quickstart README ("<source PeerId>") stand for real PeerIds.
      const config = JSON.parse(text.replace(/<[a-z ]+PeerId>/g, PEER)) as unknown
      found.push({ where: `${path} json block ${i + 1}`, config })
    })
  }
  // docs/cli.md shows its config in the example session, after `$ cat pub.json`.
  const session = /\$ cat pub\.json\n([\s\S]*?)\n\$ /.exec(read('docs/cli.md'))
  if (session !== null) found.push({ where: 'docs/cli.md pub.json', config: JSON.parse(session[1]) })
  return found
}

test('every config example in README, docs and examples is valid under the schema and parseConfig', t => {
  const examples = documentedConfigs()
  t.true(examples.length >= 6, `found ${examples.length} examples: ${examples.map(e => e.where).join(', ')}`)
  t.true(examples.some(e => e.where === 'docs/cli.md pub.json'))
  for (const { where, config } of examples) bothAccept(t, config, where)
})

test('the configs the CLI tests and the quickstart generate are valid under both', t => {
  bothAccept(t, publisherConfig('/ip4/127.0.0.1/tcp/0'), 'test/cli/helpers.ts publisherConfig')
  bothAccept(t, publisherConfig('/ip4/127.0.0.1/tcp/0', { limits: { maxStreamsPerPort: 1 }, role: 'culture' }), 'publisherConfig with limits')
  const dir = mkdtempSync(join(tmpdir(), 'spikewire-schema-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const r = spawnSync(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'examples/quickstart/setup.ts'), '--dir', dir], { encoding: 'utf8', timeout: 60_000 })
  t.is(r.status, 0, r.stderr)
  for (const name of ['neuron.json', 'source.json']) bothAccept(t, JSON.parse(readFileSync(join(dir, name), 'utf8')), `quickstart ${name}`)
})

const out = { name: 'spikes', direction: 'out', channels: 4 }
const inp = { name: 'stim', direction: 'in', channels: 2 }
const base = { name: 'x', ports: [out, inp] }
const withPort = (p: Record<string, unknown>): unknown => ({ name: 'x', ports: [{ ...out, ...p }] })
const withIn = (p: Record<string, unknown>): unknown => ({ name: 'x', ports: [{ ...inp, ...p }] })
const withLink = (l: Record<string, unknown>): unknown => ({ ...base, links: [{ from: 'spikes', to: `/ip4/10.0.0.1/tcp/1/p2p/${PEER}`, port: 'in', ...l }] })
const withSub = (s: Record<string, unknown>): unknown => ({ ...base, subscriptions: [{ from: `/ip4/10.0.0.1/tcp/1/p2p/${PEER}`, port: 'spikes', to: 'stim', ...s }] })
const withHost = (h: Record<string, unknown>): unknown => ({ ...base, hosts: [{ model: 'lif', input: 'stim', output: 'spikes', ...h }] })
const synapseBase = { name: 'x', ports: [{ name: 'pre', direction: 'in', channels: 1 }, { name: 'post', direction: 'in', channels: 1 }, { name: 'w', direction: 'out', kind: 'weighted', channels: 1 }] }
const withSynapse = (h: Record<string, unknown>): unknown => ({ ...synapseBase, hosts: [{ model: 'synapse', pre: 'pre', post: 'post', output: 'w', ...h }] })

test('configs that use every field are valid under both', t => {
  bothAccept(t, { name: 'x' }, 'the smallest config')
  bothAccept(t, withPort({ kind: 'weighted', subscribe: [PEER], model: { name: 'm', params: [['a', 1, ''], ['b', -2.5, 'mV']] } }), 'an out port with every field')
  bothAccept(t, withPort({ source: { type: 'poisson', rateHz: 0, seed: 2 ** 32 - 1 } }), 'poisson at its bounds')
  bothAccept(t, withPort({ source: { type: 'pacemaker', rateHz: 1e5, phase: 0.999999 } }), 'pacemaker at its bounds')
  bothAccept(t, withPort({ source: { type: 'replay', file: 'a.csv', format: 'ndjson', timeBase: 'absolute', start: 'now' } }), 'replay with every field')
  bothAccept(t, withIn({ push: '*' }), 'an in port open to every pusher')
  bothAccept(t, { name: 'x', ports: [{ ...out, channels: 2 ** 32 - 1 }] }, 'the most channels')
  bothAccept(t, withLink({ channels: [0, 3], delay: 60_000_000 }), 'a link with every field')
  bothAccept(t, withSub({ channels: [1] }), 'a subscription with every field')
  bothAccept(t, withHost({ model: 'adex', params: { channels: 2 }, delayUs: 0 }), 'an adex host')
  bothAccept(t, withHost({ model: 'culture', limits: { maxChargeNc: 10 }, delayUs: 60_000_000 }), 'a culture host with limits')
  bothAccept(t, withSynapse({ weight: 'w', params: { rule: 'stdp' }, stallAfterUs: 1000 }), 'a synapse host with every field')
  bothAccept(t, { ...base, role: 'anything', listen: ['/ip4/0.0.0.0/tcp/4001'], identity: 'k.key', allow: [PEER], model: { name: 'm' } }, 'the node-level fields')
  bothAccept(t, { name: 'x', ports: Array.from({ length: 256 }, (_, i) => ({ name: `p${i}`, direction: 'in', channels: 1 })) }, '256 ports')
})

const invalid: Array<[string, unknown, RegExp]> = [
  ['not an object', [], /^config must be an object/],
  ['no name', {}, /config\.name/],
  ['an empty name', { name: '' }, /config\.name/],
  ['a name of 257 characters', { name: 'x'.repeat(257) }, /config\.name/],
  ['a name that is a number', { name: 5 }, /config\.name/],
  ['an unknown top-level field', { name: 'x', bogus: 1 }, /config\.bogus/],
  ['listen not an array', { name: 'x', listen: '/ip4/0.0.0.0/tcp/1' }, /config\.listen/],
  ['a listen address without a leading slash', { name: 'x', listen: ['ip4/0.0.0.0/tcp/1'] }, /config\.listen\[0\]/],
  ['17 listen addresses', { name: 'x', listen: Array.from({ length: 17 }, () => '/ip4/0.0.0.0/tcp/0') }, /config\.listen/],
  ['allow as a word', { name: 'x', allow: 'all' }, /config\.allow/],
  ['allow with a bad PeerId', { name: 'x', allow: ['not-a-peer'] }, /config\.allow\[0\]/],
  ['an empty identity', { name: 'x', identity: '' }, /config\.identity/],
  ['ports not an array', { name: 'x', ports: {} }, /config\.ports/],
  ['257 ports', { name: 'x', ports: Array.from({ length: 257 }, (_, i) => ({ name: `p${i}`, direction: 'in', channels: 1 })) }, /config\.ports/],
  ['a port without channels', { name: 'x', ports: [{ name: 'a', direction: 'out' }] }, /channels/],
  ['a port with 0 channels', withPort({ channels: 0 }), /channels/],
  ['a port with 2^32 channels', withPort({ channels: 2 ** 32 }), /channels/],
  ['a port with 1.5 channels', withPort({ channels: 1.5 }), /channels/],
  ['a port direction "both"', withPort({ direction: 'both' }), /direction/],
  ['a port kind "analog"', withPort({ kind: 'analog' }), /kind/],
  ['a port name with a space', withPort({ name: 'Bad Name' }), /ports\[0\]\.name/],
  ['a port name starting with "-"', withPort({ name: '-a' }), /ports\[0\]\.name/],
  ['a port name of 65 characters', withPort({ name: 'a'.repeat(65) }), /ports\[0\]\.name/],
  ['an unknown port field', withPort({ rate: 1 }), /ports\[0\]\.rate/],
  ['subscribe on an in port', withIn({ subscribe: '*' }), /subscribe/],
  ['push on an out port', withPort({ push: '*' }), /push/],
  ['a source on an in port', withIn({ source: { type: 'poisson', rateHz: 1 } }), /source/],
  ['a source of unknown type', withPort({ source: { type: 'noise', rateHz: 1 } }), /source\.type/],
  ['poisson without rateHz', withPort({ source: { type: 'poisson' } }), /rateHz/],
  ['poisson with a negative rate', withPort({ source: { type: 'poisson', rateHz: -1 } }), /rateHz/],
  ['poisson above 100 kHz per channel', withPort({ source: { type: 'poisson', rateHz: 100_001 } }), /rateHz/],
  ['poisson with a negative seed', withPort({ source: { type: 'poisson', rateHz: 1, seed: -1 } }), /seed/],
  ['poisson with a seed of 2^32', withPort({ source: { type: 'poisson', rateHz: 1, seed: 2 ** 32 } }), /seed/],
  ['poisson with a phase', withPort({ source: { type: 'poisson', rateHz: 1, phase: 0 } }), /phase/],
  ['pacemaker at 0 Hz', withPort({ source: { type: 'pacemaker', rateHz: 0 } }), /rateHz/],
  ['pacemaker with phase 1', withPort({ source: { type: 'pacemaker', rateHz: 1, phase: 1 } }), /phase/],
  ['replay without a file', withPort({ source: { type: 'replay' } }), /file/],
  ['replay format "tsv"', withPort({ source: { type: 'replay', file: 'a', format: 'tsv' } }), /format/],
  ['replay timeBase "local"', withPort({ source: { type: 'replay', file: 'a', timeBase: 'local' } }), /timeBase/],
  ['replay start "later"', withPort({ source: { type: 'replay', file: 'a', start: 'later' } }), /start/],
  ['a model without a name', withPort({ model: { params: [] } }), /model\.name/],
  ['a param of two elements', withPort({ model: { name: 'm', params: [['a', 1]] } }), /params\[0\]/],
  ['a param with a text value', withPort({ model: { name: 'm', params: [['a', '1', '']] } }), /params\[0\]\[1\]/],
  ['a param with a numeric unit', withPort({ model: { name: 'm', params: [['a', 1, 1]] } }), /params\[0\]\[2\]/],
  ['a param with an empty name', withPort({ model: { name: 'm', params: [['', 1, '']] } }), /params\[0\]\[0\]/],
  ['257 params', withPort({ model: { name: 'm', params: Array.from({ length: 257 }, () => ['a', 1, '']) } }), /params/],
  ['an unknown model field', { name: 'x', model: { name: 'm', version: 1 } }, /model\.version/],
  ['links not an array', { ...base, links: {} }, /config\.links/],
  ['a link without port', withLink({ port: undefined }), /links\[0\]\.port/],
  ['a link to an address without a PeerId', withLink({ to: '/ip4/10.0.0.1/tcp/1' }), /links\[0\]\.to/],
  ['a link to a bad port name', withLink({ port: 'In' }), /links\[0\]\.port/],
  ['a link with an empty channel list', withLink({ channels: [] }), /channels/],
  ['a link with a negative channel', withLink({ channels: [-1] }), /channels/],
  ['a link with a repeated channel', withLink({ channels: [1, 1] }), /channels/],
  ['a link with a negative delay', withLink({ delay: -1 }), /delay/],
  ['a link with a fractional delay', withLink({ delay: 1.5 }), /delay/],
  ['a link delay above 60 s', withLink({ delay: 60_000_001 }), /delay/],
  ['an unknown link field', withLink({ via: 'relay' }), /links\[0\]\.via/],
  ['a subscription from an address without a PeerId', withSub({ from: '/ip4/10.0.0.1/tcp/1' }), /subscriptions\[0\]\.from/],
  ['a subscription without to', withSub({ to: undefined }), /subscriptions\[0\]\.to/],
  ['a subscription to a bad port name', withSub({ port: 'Spikes!' }), /subscriptions\[0\]\.port/],
  ['an unknown subscription field', withSub({ delay: 1 }), /subscriptions\[0\]\.delay/],
  ['a host of unknown model', withHost({ model: 'hh' }), /hosts\[0\]\.model/],
  ['a lif host without output', withHost({ output: undefined }), /hosts\[0\]\.output/],
  ['a lif host with stimulation limits', withHost({ limits: {} }), /hosts\[0\]\.limits/],
  ['a host with a negative delay', withHost({ delayUs: -1 }), /delayUs/],
  ['a host whose params are an array', withHost({ params: [] }), /params/],
  ['a synapse host with an input field', withSynapse({ input: 'pre' }), /hosts\[0\]\.input/],
  ['a synapse host that stalls after 10 µs', withSynapse({ stallAfterUs: 10 }), /stallAfterUs/],
  ['a synapse host with a delay field', withSynapse({ delayUs: 0 }), /hosts\[0\]\.delayUs/],
  ['65 hosts', { ...base, hosts: Array.from({ length: 65 }, () => ({ model: 'lif', input: 'stim', output: 'spikes' })) }, /config\.hosts/],
  ['limits not an object', { name: 'x', limits: 5 }, /config\.limits/],
  ['an unknown limit', { name: 'x', limits: { maxPeers: 5 } }, /config\.limits\.maxPeers/]
]

for (const [what, config, path] of invalid) {
  test(`refused by both: ${what}`, t => {
    bothRefuse(t, JSON.parse(JSON.stringify(config)) as unknown, what, path)
  })
}

/** The configs only parseConfig refuses, one per documented gap: what a JSON Schema cannot express. */
const gaps: Array<[string, unknown]> = [
  ['port names are unique', { name: 'x', ports: [out, { ...inp, name: 'spikes' }] }],
  ['a channel list is strictly ascending', withLink({ channels: [2, 1] })],
  ['a link names a local port of the right direction', withLink({ from: 'stim' })],
  ['a host\'s params are at most 64 KiB', withHost({ params: { big: 'x'.repeat(70_000) } })]
]

test('the only configs the schema accepts and parseConfig refuses are the documented gaps', t => {
  t.is(gaps.length, SCHEMA_GAPS.length, 'one case per gap')
  for (const [what, config] of gaps) {
    const v = judge(config)
    t.true(v.schema, `${what}: the schema accepts it (${v.schemaErrors})`)
    t.false(v.validator, `${what}: parseConfig refuses it`)
  }
  for (const gap of SCHEMA_GAPS) t.true(read('docs/config.md').includes(`- ${gap}\n`), `docs/config.md lists the gap: ${gap}`)
})

const tunables: Array<[string, Tunable, (v: unknown) => unknown]> = [
  ...Object.entries(LIMITS).map(([k, r]): [string, Tunable, (v: unknown) => unknown] => [`limits.${k}`, r, v => ({ name: 'x', limits: { [k]: v } })]),
  ...Object.entries(OUT_PORT).map(([k, r]): [string, Tunable, (v: unknown) => unknown] => [k, r, v => ({ name: 'x', [k]: v })])
]

test('every limit and out-port tunable has the range and default of src/wire/defaults.ts in the schema', t => {
  const props = schema.properties as Record<string, Record<string, unknown>>
  const limits = props.limits.properties as Record<string, Record<string, unknown>>
  t.deepEqual(Object.keys(limits).sort(), Object.keys(LIMITS).sort())
  for (const [name, range] of tunables) {
    const s = name.startsWith('limits.') ? limits[name.slice(7)] : props[name]
    t.like(s, { type: 'integer', minimum: range.min, maximum: range.max, default: range.default }, name)
  }
})

test('both accept each tunable at its bounds and default, and refuse it just outside or fractional', t => {
  for (const [name, range, config] of tunables) {
    for (const v of [range.min, range.max, range.default]) bothAccept(t, config(v), `${name} = ${v}`)
    for (const v of [range.min - 1, range.max + 1, '10']) bothRefuse(t, config(v), `${name} = ${JSON.stringify(v)}`, new RegExp(name.replace('.', '\\.')))
    if (range.min + 0.5 <= range.max) bothRefuse(t, config(range.min + 0.5), `${name} = ${range.min + 0.5}`)
  }
})

test('docs/config.md gives each limit and tunable the default and range of src/wire/defaults.ts', t => {
  const doc = read('docs/config.md')
  const rows = new Map<string, number[]>()
  for (const m of doc.matchAll(/^\| `([\w.]+)` \| (-?\d+) \| (-?\d+) \| (-?\d+) \|/gm)) rows.set(m[1], [Number(m[2]), Number(m[3]), Number(m[4])])
  for (const [name, range] of tunables) t.deepEqual(rows.get(name), [range.default, range.min, range.max], `docs/config.md row for ${name}`)
  t.deepEqual([...rows.keys()].sort(), tunables.map(([n]) => n).sort(), 'no row for a tunable that does not exist')
})

/** Every property name anywhere in the schema. */
function propertyNames (s: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(s)) for (const x of s) propertyNames(x, into)
  else if (typeof s === 'object' && s !== null) {
    for (const [k, v] of Object.entries(s)) {
      if (k === 'properties') for (const name of Object.keys(v as object)) into.add(name)
      propertyNames(v, into)
    }
  }
  return into
}

test('docs/config.md documents every field of the schema', t => {
  const doc = read('docs/config.md')
  const names = propertyNames(schema)
  t.true(names.size > 40, `${names.size} fields`)
  for (const name of names) t.true(doc.includes(`\`${name}\``) || doc.includes(`\`limits.${name}\``), `docs/config.md documents ${name}`)
  t.regex(doc, /\*\*on each channel\*\*/, 'Poisson rateHz is per channel')
})

test('the schema and parseConfig agree on generated ports, sources and limits', t => {
  // Each field takes a valid value most of the time and a value just outside its rules now and then, so
  // valid and invalid configs both occur often and each invalid one is usually wrong in one place.
  const mix = (valid: unknown[], invalid: unknown[]): fc.Arbitrary<unknown> =>
    fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 12 }, { arbitrary: fc.constantFrom(...invalid), weight: 1 })
  const range = (r: Tunable): fc.Arbitrary<unknown> => mix([r.min, r.max, r.default], [r.min - 1, r.max + 1, r.min + 0.5, String(r.default)])
  const stray = mix([undefined], [1, 'x'])
  const seed = mix([0, 7, 2 ** 32 - 1], [2 ** 32, -1, 0.5])
  const source = fc.oneof(
    fc.record({ type: mix(['poisson'], ['noise']), rateHz: mix([0, 5, 1e5], [1e5 + 1, -1, '5']), seed, phase: stray }, { requiredKeys: ['type', 'rateHz'] }),
    fc.record({ type: mix(['pacemaker'], ['Pacemaker']), rateHz: mix([1e-6, 5, 1e5], [0, 1e5 + 1]), phase: mix([0, 0.5, 0.999999], [1, -0.1]), seed: stray }, { requiredKeys: ['type', 'rateHz'] }),
    fc.record({
      type: mix(['replay'], ['replays']),
      file: mix(['train.csv'], ['', 7]),
      format: mix(['csv', 'ndjson'], ['tsv']),
      timeBase: mix(['relative', 'absolute'], ['local']),
      start: mix(['first-subscriber', 'now'], ['later']),
      rateHz: stray
    }, { requiredKeys: ['type', 'file'] })
  )
  const peers = mix(['*', [], [PEER]], [['x'], 'all', {}])
  const common = {
    name: mix(['spikes', 'a.b_c-1', '0'], ['Bad', '', '-a', 5]),
    kind: mix(['spike', 'weighted'], ['analog', null]),
    channels: mix([1, 4, 2 ** 32 - 1], [0, 2 ** 32, 1.5, '4']),
    model: mix([{ name: 'm' }, { name: 'm', params: [['a', 1, ''], ['b', 2.5, 'mV']] }], [{ name: 'm', params: [['a', 1]] }, {}]),
    extra: stray
  }
  const required = ['name', 'direction', 'channels'] as const
  const port = fc.oneof(
    fc.record({ ...common, direction: mix(['out'], ['both']), subscribe: peers, source, push: mix([undefined], ['*']) }, { requiredKeys: [...required] }),
    fc.record({ ...common, direction: mix(['in'], ['In']), push: peers, subscribe: mix([undefined], ['*']), source: mix([undefined], [{ type: 'poisson', rateHz: 1 }]) }, { requiredKeys: [...required] })
  )
  const limits = fc.record({ ...Object.fromEntries(Object.entries(LIMITS).map(([k, r]) => [k, range(r)])), other: stray }, { requiredKeys: [] })
  const tuning = fc.record(Object.fromEntries(Object.entries(OUT_PORT).map(([k, r]) => [k, range(r)])), { requiredKeys: [] })
  const config = fc.tuple(fc.array(port, { minLength: 1, maxLength: 1 }), fc.option(limits, { nil: undefined }), tuning)
    .map(([ports, l, rest]) => JSON.parse(JSON.stringify({ name: 'x', ports, limits: l, ...rest })) as unknown)
  let accepted = 0
  const runs = 5000
  fc.assert(fc.property(config, c => {
    const v = judge(c)
    if (v.validator) accepted++
    return v.schema === v.validator
  }), { numRuns: runs, seed: 11 })
  t.log(`${accepted} of ${runs} generated configs valid`)
  t.true(accepted > runs / 10, `${accepted} valid: too few to compare verdicts on valid configs`)
  t.true(accepted < runs - runs / 10, `${accepted} valid: too few invalid ones`)
})
