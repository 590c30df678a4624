import test from 'ava'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import type { XdfErrorCode } from '../../src/xdf/index.ts'
import { Prng } from '../../src/base/prng.ts'
import { XdfError, XdfWriter, readXdf, readXdfFile } from '../../src/xdf/index.ts'

async function tempFile (t: ExecutionContext, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spikewire-xdf-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return join(dir, name)
}

/** A file with every kind of stream the recorder writes, and two more formats. */
async function sample (t: ExecutionContext): Promise<{ path: string, spikeTimes: number[], spikeCh: number[] }> {
  const path = await tempFile(t, 'a.xdf')
  const w = new XdfWriter(path, { header: [{ name: 'spikewire', children: [{ name: 'recorder', text: 'me' }] }] })
  const log = w.addStream({ name: 'log', type: 'Markers', channelCount: 1, channelFormat: 'string', nominalSrate: 0, sourceId: 'me/log', createdAt: 1.5 })
  const spikes = w.addStream({ name: 'spikes', type: 'Spikes', channelCount: 1, channelFormat: 'int32', nominalSrate: 0, sourceId: 'p/spikes', createdAt: 1.5, desc: [{ name: 'spikewire', children: [{ name: 'port', text: 'spikes' }, { name: 'note', text: 'a <tag> & "quotes"' }] }] })
  const weighted = w.addStream({ name: 'w', type: 'Events', channelCount: 2, channelFormat: 'double64', nominalSrate: 0, sourceId: 'p/w', createdAt: 1.5 })
  const spikeTimes = [1_796_606_443_476_697, 1_796_606_443_476_698, 1_796_606_443_480_001]
  const spikeCh = [3, 0, 2_000_000_000]
  w.writeSamples(spikes, 3, spikeTimes.map(x => x / 1e6), [spikeCh])
  w.writeClockOffset(spikes, { time: 1_796_606_444.5, value: -0.000123 })
  w.writeBoundary()
  w.writeSamples(weighted, 2, [1.25, 2.5], [[1, 7], [0.5, -3.25]])
  w.writeStrings(log, [1.75], ['{"event":"open"} ünïcode'])
  w.writeFooter(spikes)
  w.writeFooter(weighted)
  w.writeFooter(log)
  w.close()
  return { path, spikeTimes, spikeCh }
}

test('what the writer writes, the reader reads: every stream, value, time, offset, footer and the desc', async t => {
  const { path, spikeTimes, spikeCh } = await sample(t)
  const f = readXdfFile(path)
  t.is(f.truncated, undefined)
  t.is(f.boundaries, 1)
  t.is(f.completeBytes, f.fileBytes)
  t.is(f.header?.children.find(c => c.name === 'version')?.text, '1.0')
  const [log, spikes, weighted] = f.streams
  t.deepEqual([log.id, spikes.id, weighted.id], [1, 2, 3])
  t.deepEqual(log.strings, ['{"event":"open"} ünïcode'])
  t.is(spikes.header.channelFormat, 'int32')
  t.is(spikes.header.sourceId, 'p/spikes')
  t.is(spikes.header.desc?.children[0].children[1].text, 'a <tag> & "quotes"')
  t.deepEqual([...spikes.columns[0]], spikeCh)
  t.deepEqual([...spikes.times].map(s => Math.round(s * 1e6)), spikeTimes)
  t.deepEqual(spikes.clockOffsets, [{ time: 1_796_606_444.5, value: -0.000123 }])
  t.deepEqual([...weighted.columns[0]], [1, 7])
  t.deepEqual([...weighted.columns[1]], [0.5, -3.25])
  const footer = spikes.footer!
  t.is(footer.children.find(c => c.name === 'sample_count')?.text, '3')
  t.is(Number(footer.children.find(c => c.name === 'first_timestamp')?.text), spikeTimes[0] / 1e6)
  t.is(Number(footer.children.find(c => c.name === 'last_timestamp')?.text), spikeTimes[2] / 1e6)
  t.is(footer.children.find(c => c.name === 'clock_offsets')?.children.length, 1)
})

test('a time stamp of µs / 1e6 gives the µs back exactly, for every time below 2^32 s (the year 2106)', t => {
  const rng = new Prng(11)
  const limits = [0, 1, 1_700_000_000_000_000, 1_796_606_443_476_697, 4_102_444_800_000_000, 2 ** 32 * 1e6 - 1]
  for (const us of limits) t.is(Math.round((us / 1e6) * 1e6), us, String(us))
  for (let i = 0; i < 200_000; i++) {
    const us = Math.floor(rng.next() * 2 ** 32 * 1e6)
    if (Math.round((us / 1e6) * 1e6) !== us) { t.fail(`${us} does not come back`); return }
  }
  t.pass()
})

test('a file cut at any byte is read up to its last complete chunk, the cut reported, never an error', async t => {
  const { path } = await sample(t)
  const bytes = new Uint8Array(await readFile(path))
  const whole = readXdf(bytes)
  // The end offset of each chunk, from reading ever longer prefixes.
  let lastComplete = 0
  for (let cut = 0; cut < bytes.length; cut++) {
    const f = readXdf(bytes.subarray(0, cut))
    // A cut between two chunks is a clean (shorter) file; anywhere else the cut is reported.
    if (f.truncated === undefined) t.is(f.completeBytes, cut)
    else t.true((f.completeBytes < cut || cut < 4) && f.truncated.offset === f.completeBytes, `cut at ${cut}: ${JSON.stringify(f.truncated)} after ${f.completeBytes}`)
    t.true(f.completeBytes >= lastComplete)
    lastComplete = f.completeBytes
    // Every stream it has is a prefix of the whole file's.
    for (const s of f.streams) {
      const w = whole.streams.find(x => x.id === s.id)!
      t.deepEqual([...s.times], [...w.times].slice(0, s.count))
    }
  }
  t.is(readXdf(bytes).completeBytes, bytes.length)
})

interface Bad { name: string, code: XdfErrorCode, bytes: () => Promise<Uint8Array> }

function patch (b: Uint8Array, at: number, values: number[]): Uint8Array {
  const c = b.slice()
  c.set(values, at)
  return c
}

/** The bytes of a file with a file header and then `chunks` (each [tag, ...content]), lengths as 1-byte. */
function build (...chunks: number[][]): Uint8Array {
  const header = [...new TextEncoder().encode('<info><version>1.0</version></info>')]
  const all = [[0x01, 0x00, ...header], ...chunks]
  const out: number[] = [0x58, 0x44, 0x46, 0x3a]
  for (const c of all) {
    if (c.length < 256) out.push(1, c.length, ...c)
    else out.push(4, c.length & 0xff, (c.length >> 8) & 0xff, (c.length >> 16) & 0xff, c.length >>> 24, ...c)
  }
  return new Uint8Array(out)
}

const xml = (s: string): number[] => [...new TextEncoder().encode(s)]
const header = (id: number, fmt = 'int32', n = 1): number[] => [0x02, 0x00, id, 0, 0, 0, ...xml(`<info><name>x</name><type>Spikes</type><channel_count>${n}</channel_count><channel_format>${fmt}</channel_format><nominal_srate>0</nominal_srate></info>`)]

const BAD: Bad[] = [
  { name: 'not XDF', code: 'xdf-bad-magic', bytes: async () => new TextEncoder().encode('PK\u0003\u0004 a zip') },
  { name: 'NumLengthBytes 3', code: 'xdf-bad-length', bytes: async () => patch(build(), 4, [3]) },
  { name: 'a chunk of 2^40 bytes', code: 'xdf-too-large', bytes: async () => new Uint8Array([0x58, 0x44, 0x46, 0x3a, 8, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0]) },
  { name: 'a chunk shorter than its tag', code: 'xdf-bad-length', bytes: async () => new Uint8Array([0x58, 0x44, 0x46, 0x3a, 1, 1, 1]) },
  { name: 'first chunk not a file header', code: 'xdf-bad-chunk', bytes: async () => new Uint8Array([0x58, 0x44, 0x46, 0x3a, 1, 2, 5, 0]) },
  { name: 'samples of a stream without a header', code: 'xdf-unknown-stream', bytes: async () => build([0x03, 0x00, 9, 0, 0, 0, 1, 0]) },
  { name: 'a repeated stream header', code: 'xdf-unknown-stream', bytes: async () => build(header(1), header(1)) },
  { name: 'a sample count larger than the chunk', code: 'xdf-bad-chunk', bytes: async () => build(header(1), [0x03, 0x00, 1, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0x7f, 8]) },
  { name: 'samples that stop short of their count', code: 'xdf-bad-chunk', bytes: async () => build(header(1), [0x03, 0x00, 1, 0, 0, 0, 1, 2, 0, 1, 0, 0, 0, 0, 1, 0, 0]) },
  { name: 'bytes after the last sample', code: 'xdf-bad-chunk', bytes: async () => build(header(1), [0x03, 0x00, 1, 0, 0, 0, 1, 1, 0, 5, 0, 0, 0, 9]) },
  { name: 'TimeStampBytes 4', code: 'xdf-bad-chunk', bytes: async () => build(header(1), [0x03, 0x00, 1, 0, 0, 0, 1, 1, 4, 5, 0, 0, 0]) },
  { name: 'an unknown channel format', code: 'xdf-bad-format', bytes: async () => build(header(1, 'int128')) },
  { name: 'a channel count of 0', code: 'xdf-bad-format', bytes: async () => build(header(1, 'int32', 0)) },
  { name: 'a header without channel_format', code: 'xdf-bad-xml', bytes: async () => build([0x02, 0x00, 1, 0, 0, 0, ...xml('<info><channel_count>1</channel_count></info>')]) },
  { name: 'unterminated XML', code: 'xdf-bad-xml', bytes: async () => build([0x02, 0x00, 1, 0, 0, 0, ...xml('<info><name>x</info>')]) },
  { name: 'XML with an unknown entity', code: 'xdf-bad-xml', bytes: async () => build([0x02, 0x00, 1, 0, 0, 0, ...xml('<info><name>&bogus;</name></info>')]) },
  { name: 'XML nested 100 deep', code: 'xdf-bad-xml', bytes: async () => build([0x02, 0x00, 1, 0, 0, 0, ...xml('<a>'.repeat(100) + '</a>'.repeat(100))]) },
  { name: 'XML that is not UTF-8', code: 'xdf-bad-xml', bytes: async () => build([0x02, 0x00, 1, 0, 0, 0, 0xff, 0xfe]) },
  { name: 'a boundary without the UUID', code: 'xdf-bad-chunk', bytes: async () => build([0x05, 0x00, ...new Array(16).fill(0)]) },
  { name: 'a clock offset of the wrong size', code: 'xdf-bad-chunk', bytes: async () => build(header(1), [0x04, 0x00, 1, 0, 0, 0, 1, 2, 3]) },
  { name: 'a string longer than the chunk', code: 'xdf-bad-chunk', bytes: async () => build(header(1, 'string'), [0x03, 0x00, 1, 0, 0, 0, 1, 1, 0, 1, 200, 65]) },
  { name: 'a second footer', code: 'xdf-bad-chunk', bytes: async () => build(header(1), [0x06, 0x00, 1, 0, 0, 0, ...xml('<info/>')], [0x06, 0x00, 1, 0, 0, 0, ...xml('<info/>')]) }
]

for (const b of BAD) {
  test(`malformed: ${b.name} → XdfError ${b.code}`, async t => {
    const bytes = await b.bytes()
    const e = t.throws(() => readXdf(bytes), { instanceOf: XdfError })
    t.is(e?.code, b.code, e?.message)
    // The same from a file on disk.
    const path = await tempFile(t, 'bad.xdf')
    await writeFile(path, bytes)
    t.is(t.throws(() => readXdfFile(path), { instanceOf: XdfError })?.code, b.code)
  })
}

test('a missing file is xdf-io; unknown chunk tags are skipped and counted', async t => {
  t.is(t.throws(() => readXdfFile('/nonexistent/x.xdf'), { instanceOf: XdfError })?.code, 'xdf-io')
  const f = readXdf(build([0x07, 0x00, 1, 2, 3]))
  t.is(f.unknownChunks, 1)
  t.is(f.truncated, undefined)
})
