import test from 'ava'
import { mkdtemp, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseSpikeTrain, readSpikeTrainFile, replay, replayFile, ReplayFormatError } from '../../src/models/index.ts'
import { ModelParamError, ModelUsageError } from '../../src/models/errors.ts'
import type { ReplayErrorCode, ReplayParseOptions } from '../../src/models/index.ts'
import { collect } from './helpers.ts'

test('CSV: header, CRLF, blank lines, spaces around fields, fractions, BOM', t => {
  const train = parseSpikeTrain('\ufeffchannel,time_us\r\n0,1000\r\n\r\n 3 , 1250.5\n0,1250.5\n')
  t.deepEqual([...train.channel], [0, 3, 0])
  t.deepEqual([...train.timeUs], [1000, 1250.5, 1250.5])
  t.is(train.maxChannel, 3)
})

test('NDJSON: both key spellings, and bytes input', t => {
  const text = '{"channel":2,"time_us":10}\n{"ch":1,"t":20}\n{"t":30,"ch":0}\n'
  const train = parseSpikeTrain(new TextEncoder().encode(text))
  t.deepEqual([...train.channel], [2, 1, 0])
  t.deepEqual([...train.timeUs], [10, 20, 30])
})

const bad: Array<[string, string | Uint8Array, ReplayParseOptions, ReplayErrorCode, number]> = [
  ['file-too-large', 'channel,time_us\n0,1\n', { maxBytes: 10 }, 'file-too-large', 0],
  ['bad-encoding', Uint8Array.from([0x7b, 0xff, 0xfe, 0x0a]), {}, 'bad-encoding', 0],
  ['unknown-format', '\n0,100\n', {}, 'unknown-format', 2],
  ['line-too-long', `channel,time_us\n0,${'1'.repeat(40)}\n`, { maxLineChars: 32 }, 'line-too-long', 2],
  ['bad-header (missing)', '0,100\n', { format: 'csv' }, 'bad-header', 1],
  ['bad-header (wrong names)', 'chan,time\n0,100\n', { format: 'csv' }, 'bad-header', 1],
  ['bad-field-count', 'channel,time_us\n0,100\n1,200,3\n', {}, 'bad-field-count', 3],
  ['bad-channel (negative)', 'channel,time_us\n-1,100\n', {}, 'bad-channel', 2],
  ['bad-channel (fraction)', 'channel,time_us\n1.5,100\n', {}, 'bad-channel', 2],
  ['bad-channel (too large)', 'channel,time_us\n4294967295,100\n', {}, 'bad-channel', 2],
  ['bad-channel (above count)', 'channel,time_us\n0,1\n4,100\n', { channels: 4 }, 'bad-channel', 3],
  ['bad-time (exponent)', 'channel,time_us\n0,1e5\n', {}, 'bad-time', 2],
  ['bad-time (negative)', 'channel,time_us\n0,-5\n', {}, 'bad-time', 2],
  ['bad-time (empty)', 'channel,time_us\n0,\n', {}, 'bad-time', 2],
  ['bad-time (above 2^53)', 'channel,time_us\n0,9999999999999999\n', {}, 'bad-time', 2],
  ['time-regression (CSV)', 'channel,time_us\n0,100\n1,99\n', {}, 'time-regression', 3],
  ['too-many-events', 'channel,time_us\n0,1\n0,2\n0,3\n', { maxEvents: 2 }, 'too-many-events', 4],
  ['empty-file (nothing)', '', {}, 'empty-file', 0],
  ['empty-file (header only)', 'channel,time_us\n', {}, 'empty-file', 0],
  ['bad-json', '{"ch":0,"t":1}\n{"ch":1,\n', {}, 'bad-json', 2],
  ['bad-record (array)', '[0,1]\n', { format: 'ndjson' }, 'bad-record', 1],
  ['bad-record (extra key)', '{"ch":0,"t":1,"x":2}\n', {}, 'bad-record', 1],
  ['bad-record (mixed keys)', '{"channel":0,"t":1}\n', {}, 'bad-record', 1],
  ['bad-record (__proto__)', '{"ch":0,"t":1,"__proto__":{}}\n', {}, 'bad-record', 1],
  ['bad-channel (string)', '{"ch":"0","t":1}\n', {}, 'bad-channel', 1],
  ['bad-time (string)', '{"ch":0,"t":"1"}\n', {}, 'bad-time', 1],
  ['bad-time (overflow to Infinity)', '{"ch":0,"t":1e400}\n', {}, 'bad-time', 1],
  ['time-regression (NDJSON)', '{"ch":0,"t":5}\n{"ch":0,"t":4}\n', {}, 'time-regression', 2]
]

for (const [title, input, opts, code, line] of bad) {
  test(`rejects ${title}`, t => {
    const err = t.throws(() => parseSpikeTrain(input, opts), { instanceOf: ReplayFormatError })
    t.is(err?.name, 'ReplayFormatError')
    t.is(err?.code, code)
    t.is(err?.line, line)
  })
}

test('every error code is exercised', t => {
  const codes = new Set(bad.map(b => b[3]))
  for (const c of ['file-too-large', 'bad-encoding', 'unknown-format', 'line-too-long', 'bad-header', 'bad-field-count',
    'bad-json', 'bad-record', 'bad-channel', 'bad-time', 'time-regression', 'too-many-events', 'empty-file'] as const) {
    t.true(codes.has(c), c)
  }
})

test('replay, relative time base: the first event at startUs, distances kept', t => {
  const train = parseSpikeTrain('channel,time_us\n1,5000\n0,5000\n2,7500\n1,105000\n')
  const r = replay(train, { startUs: 1_000_000 })
  t.is(r.output.channels, 3)
  t.is(r.nextEventUs(), 1_000_000)
  t.deepEqual(collect(r, 1_002_499), [{ channel: 1, timeUs: 1_000_000 }, { channel: 0, timeUs: 1_000_000 }])
  t.deepEqual(collect(r, 1_002_500), [{ channel: 2, timeUs: 1_002_500 }])
  t.deepEqual(collect(r, 2_000_000), [{ channel: 1, timeUs: 1_100_000 }])
  t.is(r.nextEventUs(), Infinity)
  t.deepEqual(r.stats(), { spikes: 4, skipped: 0, remaining: 0 })
})

test('replay, absolute time base: file times kept, earlier events skipped and counted', t => {
  const train = parseSpikeTrain('{"ch":0,"t":100}\n{"ch":0,"t":200}\n{"ch":0,"t":300}\n')
  const r = replay(train, { timeBase: 'absolute', startUs: 150, channels: 4 })
  t.is(r.output.channels, 4)
  t.deepEqual(collect(r, 1000).map(e => e.timeUs), [200, 300])
  t.is(r.stats().skipped, 1)
  const d = new Map(r.describe().params.map(([n, v, u]) => [n, [v, u]]))
  t.deepEqual(d.get('absolute_time'), [1, ''])
  t.deepEqual(d.get('duration'), [0.2, 'ms'])
})

test('files: format from the extension, size checked before reading', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'spikewire-replay-'))
  try {
    await writeFile(join(dir, 'a.csv'), 'channel,time_us\n0,10\n1,20\n')
    await writeFile(join(dir, 'b.jsonl'), '{"ch":0,"t":10}\n')
    await writeFile(join(dir, 'c.txt'), '{"ch":0,"t":10}\n')
    await writeFile(join(dir, 'd.csv'), '{"ch":0,"t":10}\n')
    t.is((await readSpikeTrainFile(join(dir, 'a.csv'))).timeUs.length, 2)
    t.is((await readSpikeTrainFile(join(dir, 'b.jsonl'))).timeUs.length, 1)
    t.is((await readSpikeTrainFile(join(dir, 'c.txt'))).timeUs.length, 1)
    const e1 = await t.throwsAsync(readSpikeTrainFile(join(dir, 'd.csv')), { instanceOf: ReplayFormatError })
    t.is(e1?.code, 'bad-header')
    const e2 = await t.throwsAsync(readSpikeTrainFile(join(dir, 'a.csv'), { maxBytes: 8 }), { instanceOf: ReplayFormatError })
    t.is(e2?.code, 'file-too-large')
    const r = await replayFile(join(dir, 'a.csv'), { startUs: 50 })
    t.deepEqual(collect(r, 100), [{ channel: 0, timeUs: 50 }, { channel: 1, timeUs: 60 }])
    await t.throwsAsync(readSpikeTrainFile(join(dir, 'a.csv'), {}, { signal: AbortSignal.abort() }))
  } finally {
    await rm(dir, { recursive: true })
  }
})

test('start: first-subscriber by default; startAt places the train before the first advanceTo, never after', t => {
  const train = parseSpikeTrain('channel,time_us\n0,1000\n1,1500\n0,3000\n')
  const rel = replay(train, { startUs: 0 })
  t.is(rel.start, 'first-subscriber')
  rel.startAt(10_000)
  t.is(rel.timeUs, 10_000)
  t.deepEqual(collect(rel, 20_000), [{ channel: 0, timeUs: 10_000 }, { channel: 1, timeUs: 10_500 }, { channel: 0, timeUs: 12_000 }])
  const err = t.throws(() => { rel.startAt(30_000) }, { instanceOf: ModelUsageError })
  t.is(err?.code, 'already-started')
  // Absolute time base: file times stay; events before the new start are skipped and counted.
  const abs = replay(train, { timeBase: 'absolute', start: 'now' })
  t.is(abs.start, 'now')
  abs.startAt(1200)
  t.deepEqual(collect(abs, 5000), [{ channel: 1, timeUs: 1500 }, { channel: 0, timeUs: 3000 }])
  t.is(abs.stats().skipped, 1)
  const bad = t.throws(() => replay(train, { start: 'later' as 'now' }), { instanceOf: ModelParamError })
  t.is(bad?.param, 'start')
})
