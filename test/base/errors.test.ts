/**
 * The error convention: every error class extends SpikewireBaseError, sets `name` to its class name and
 * carries a non-empty kebab-case `code`. The classes are found by walking what the package exports (and the
 * netem and CLI modules), and by reading src/ for class declarations, so a new class that skips the
 * convention, or a bare Error thrown from library code, fails here.
 */
import test from 'ava'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import * as api from '../../src/index.ts'
import * as netem from '../../src/netem/index.ts'
import { UsageError } from '../../src/cli/command.ts'
import { ViewError } from '../../src/cli/view.ts'
import { UnknownPortError } from '../../src/view/session.ts'

const { SpikewireBaseError } = api
const SRC = new URL('../../src/', import.meta.url).pathname
const README = new URL('../../README.md', import.meta.url).pathname
const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/

type ErrorClass = abstract new (...args: never[]) => Error

function isErrorClass (v: unknown): v is ErrorClass {
  return typeof v === 'function' && v.prototype instanceof Error
}

/** Every error class reachable from the package entry point, models, netem, the CLI and the view page, by export name. */
function errorClasses (): Map<string, ErrorClass> {
  const found = new Map<string, ErrorClass>()
  for (const ns of [api, api.models, netem, { UsageError, ViewError, UnknownPortError }] as Array<Record<string, unknown>>) {
    for (const [key, v] of Object.entries(ns)) if (isErrorClass(v)) found.set(key, v)
  }
  return found
}

/** One instance of each class (the root is abstract and has none). Add a line when adding a class. */
const samples: Record<string, () => Error> = {
  InvalidArgumentError: () => new api.InvalidArgumentError('m'),
  SpikewireError: () => new api.SpikewireError('internal-error', 'm'),
  FrameError: () => new api.FrameError('malformed-frame', 'm'),
  CborError: () => new api.CborError('m'),
  MessageError: () => new api.MessageError('invalid-message', 'm'),
  StreamError: () => new api.StreamError('unexpected-message', 'm'),
  RejectedError: () => new api.RejectedError('unauthorized', 'm'),
  RemoteCloseError: () => new api.RemoteCloseError('slow-consumer', 'm'),
  PeerReportedError: () => new api.PeerReportedError('internal-error', 'm'),
  LinkClosedError: () => new api.LinkClosedError('subscription'),
  ConfigError: () => new api.ConfigError('config-invalid', 'm'),
  PortError: () => new api.PortError('unknown-port', 'm'),
  InvalidClockSampleError: () => new api.InvalidClockSampleError('m'),
  InvalidClockOptionError: () => new api.InvalidClockOptionError('m'),
  InvalidTimingOptionError: () => new api.InvalidTimingOptionError('m'),
  UnknownInputError: () => new api.UnknownInputError(1),
  ClosedError: () => new api.ClosedError('merge'),
  DeliveryThreadError: () => new api.DeliveryThreadError('m'),
  ModelError: () => new api.models.ModelError('invalid-param', 'm'),
  ModelParamError: () => new api.models.ModelParamError('p', 'm'),
  ModelUsageError: () => new api.models.ModelUsageError('invalid-time', 'm'),
  ReplayFormatError: () => new api.models.ReplayFormatError('bad-time', 1, 'm'),
  NetemAddressError: () => new netem.NetemAddressError('m'),
  NetemParamsError: () => new netem.NetemParamsError('m'),
  NetemClosedError: () => new netem.NetemClosedError('m'),
  UsageError: () => new UsageError('m'),
  XdfError: () => new api.XdfError('xdf-bad-chunk', 'm', 0),
  DialFailedError: () => new api.DialFailedError([new Error('a')], 'm'),
  ViewError: () => new ViewError('unreachable', 'm'),
  UnknownPortError: () => new UnknownPortError('m')
}

function sourceFiles (dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter(f => f.endsWith('.ts')).map(f => join(dir, f))
}

test('every exported error class extends SpikewireBaseError, names itself and carries a kebab-case code', t => {
  const classes = errorClasses()
  t.true(classes.size > 20, `found ${classes.size} error classes`)
  for (const [key, Cls] of classes) {
    t.is(Cls.name, key, `${key} is exported under its class name`)
    if (Cls === SpikewireBaseError) continue
    t.true(Cls.prototype instanceof SpikewireBaseError, `${key} extends SpikewireBaseError`)
    const make = samples[key]
    if (make === undefined) {
      t.fail(`${key}: add a sample to this test`)
      continue
    }
    const err = make()
    t.true(err instanceof Cls, key)
    t.is(err.name, key, `${key}.name`)
    const code = (err as { code?: unknown }).code
    t.true(typeof code === 'string' && KEBAB.test(code), `${key}.code ${String(code)} is kebab-case`)
    const staticCode = (Cls as unknown as { code?: unknown }).code
    if (staticCode !== undefined) t.true(staticCode === code, `${key}.code (static) matches the instance`)
  }
  for (const key of Object.keys(samples)) t.true(classes.has(key), `${key} is exported`)
})

test('every wire registry name is kebab-case', t => {
  for (const name of Object.keys(api.ErrorCode)) t.regex(name, KEBAB)
})

test('every error class declared in src/ is one of the exported classes', t => {
  const classes = errorClasses()
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/\bclass\s+(\w+)(?:<[^>{]*>)?\s+extends\s+(\w+)/g)) {
      const [, name, parent] = m
      if (!name.endsWith('Error') && !parent.endsWith('Error')) continue
      t.true(classes.has(name), `${file}: ${name} extends ${parent} but is not exported (or not checked here)`)
    }
  }
})

test('library code throws named classes, never a bare Error, RangeError or TypeError', t => {
  for (const file of sourceFiles(SRC)) {
    if (file.startsWith(join(SRC, 'cli'))) continue
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/throw new (Error|RangeError|TypeError|SyntaxError)\(/g)) {
      const line = text.slice(0, m.index).split('\n').length
      t.fail(`${file}:${line} throws a bare ${m[1]}`)
    }
  }
  t.pass()
})

test('the README lists every error class an application can see', t => {
  const readme = readFileSync(README, 'utf8')
  const section = readme.split(/^## /m).find(s => s.startsWith('Errors an application can see'))
  if (section === undefined) {
    t.fail('README has no section "Errors an application can see"')
    return
  }
  for (const key of errorClasses().keys()) t.true(section.includes(`\`${key}\``), `README names ${key}`)
})

test('throws that were bare RangeError or TypeError now carry a class and a code', t => {
  const clock = new api.ManualClock(1000)
  t.is(t.throws(() => { clock.advance(-1) }, { instanceOf: api.InvalidArgumentError })?.code, 'invalid-argument')
  t.is(t.throws(() => { clock.set(0) }, { instanceOf: api.InvalidArgumentError })?.code, 'invalid-argument')
  t.is(t.throws(() => api.fromHex('zz'), { instanceOf: api.InvalidArgumentError })?.code, 'invalid-argument')
  t.is(t.throws(() => new api.BatchBuilder(0), { instanceOf: api.InvalidArgumentError })?.code, 'invalid-argument')
  t.is(t.throws(() => new api.BatchBuilder(4).take(0), { instanceOf: api.InvalidArgumentError })?.code, 'invalid-argument')
  t.is(t.throws(() => api.models.prng(1).int(0), { instanceOf: api.InvalidArgumentError })?.code, 'invalid-argument')
})

test('a node names a missing or duplicate port with PortError, a clock target without a peer id with InvalidArgumentError', async t => {
  const node = await api.createNode({ name: 'errors', ports: [{ name: 'spikes', direction: 'out', channels: 1 }] }, { clockSync: false })
  try {
    t.is(t.throws(() => node.outPort('nope'), { instanceOf: api.PortError })?.code, 'unknown-port')
    t.is(t.throws(() => node.inPort('spikes'), { instanceOf: api.PortError })?.code, 'unknown-port')
    t.is(t.throws(() => node.addInPort({ name: 'spikes', channels: 1 }), { instanceOf: api.PortError })?.code, 'port-exists')
    t.is(t.throws(() => node.clockFor('/ip4/127.0.0.1/tcp/1'), { instanceOf: api.InvalidArgumentError })?.code, 'invalid-argument')
  } finally {
    await node.stop()
  }
})
