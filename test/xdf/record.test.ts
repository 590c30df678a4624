/**
 * `spikewire record` and `spikewire replay` as child processes against real nodes on loopback: every event,
 * channel, value and time recorded exactly; a killed recorder's file is read up to its last complete chunk;
 * a replay keeps every interval.
 */
import test from 'ava'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { Prng } from '../../src/base/prng.ts'
import { createSpikewireNode } from '../../src/node/node.ts'
import type { SpikewireNode } from '../../src/node/node.ts'
import { readXdf, readXdfFile } from '../../src/xdf/index.ts'
import type { XdfStream } from '../../src/xdf/index.ts'
import { cli, freePort, publisherConfig, startNode, tempDir, writeJson } from '../cli/helpers.ts'

interface Ev { ch: number, t: number, v: number }

async function publisher (t: ExecutionContext): Promise<SpikewireNode> {
  const node = await createSpikewireNode({ name: 'rec-pub', listen: ['/ip4/127.0.0.1/tcp/0'], model: { name: 'test', params: [['gain', 2.5, 'mV']] } })
  t.teardown(async () => { await node.stop() })
  node.addOutPort({ name: 'spikes', channels: 16, kind: 'spike', model: { name: 'poisson', params: [['rate', 1000, 'Hz']] } })
  node.addOutPort({ name: 'weights', channels: 3, kind: 'weighted' })
  return node
}

/** Emit `n` events per port over about `ms` ms, at random intervals (some equal times), with random channels and values. */
async function emitKnown (node: SpikewireNode, n: number, ms: number, seed: number): Promise<{ spikes: Ev[], weights: Ev[] }> {
  const rng = new Prng(seed)
  const out = { spikes: [] as Ev[], weights: [] as Ev[] }
  const ports = { spikes: node.outPort('spikes'), weights: node.outPort('weights') }
  const last = { spikes: 0, weights: 0 }
  const start = Date.now()
  for (let done = 0; done < n;) {
    const upTo = Math.min(n, Math.ceil(n * (Date.now() - start) / ms) + 1)
    for (; done < upTo; done++) {
      for (const name of ['spikes', 'weights'] as const) {
        const now = Math.round(node.clock.nowUs())
        const t = rng.next() < 0.1 ? Math.max(last[name], now - 500) : Math.max(last[name], now - Math.floor(rng.next() * 500))
        last[name] = t
        const ch = Math.floor(rng.next() * (name === 'spikes' ? 16 : 3))
        const v = Math.fround((rng.next() - 0.5) * 200)
        if (!ports[name].emit(ch, t, v)) throw new Error('refused')
        out[name].push({ ch, t, v: name === 'spikes' ? 0 : v })
      }
    }
    await new Promise(resolve => setTimeout(resolve, 2))
  }
  return out
}

/** The recorded events: time = time_origin_us (from the stream's desc) + round(stamp · 1e6). */
function recorded (s: XdfStream, weighted: boolean): Ev[] {
  const origin = Number(s.header.desc?.children.find(c => c.name === 'spikewire')?.children.find(c => c.name === 'time_origin_us')?.text)
  return Array.from({ length: s.count }, (_, i) => ({ ch: s.columns[0][i], t: origin + Math.round(s.times[i] * 1e6), v: weighted ? s.columns[1][i] : 0 }))
}

function stream (f: ReturnType<typeof readXdfFile>, port: string): XdfStream {
  const s = f.streams.find(x => x.header.name === port)
  if (s === undefined) throw new Error(`no stream ${port}`)
  return s
}

test('record writes every event of two ports exactly (channel, value, µs time), with headers, clock offsets, footers and the log; replay serves them again keeping every interval', async t => {
  const dir = await tempDir(t)
  const pub = await publisher(t)
  const addr = pub.multiaddrs[0]
  const path = join(dir, 'two.xdf')
  const rec = cli(t, ['record', addr, 'spikes', addr, 'weights', '--out', path, '--json', '--progress', '0.5', '--boundary-s', '0.3'])
  await rec.until(() => rec.errJson.filter(l => l.event === 'open' && l.peer === pub.peerId).length >= 2, 20_000, 'both subscriptions to open')
  const sent = await emitKnown(pub, 3000, 1500, 5)
  const total = sent.spikes.length + sent.weights.length
  await rec.until(() => rec.errJson.some(l => l.event === 'progress' && l.events === total), 20_000, `the recorder to count ${total} events`)
  rec.kill('SIGINT')
  const exit = await rec.exit(20_000)
  t.is(exit.code, 0, rec.stderr)
  const summary = rec.json.at(-1)!
  t.is(summary.events, total)
  t.is(summary.missing, 0)
  t.is(summary.lost, 0)

  const f = readXdfFile(path)
  t.is(f.truncated, undefined)
  t.true(f.boundaries >= 1)
  const spikes = stream(f, 'spikes')
  const weights = stream(f, 'weights')
  t.deepEqual(recorded(spikes, false), sent.spikes)
  t.deepEqual(recorded(weights, true), sent.weights)
  t.is(spikes.header.type, 'Spikes')
  t.is(spikes.header.channelFormat, 'int32')
  t.is(spikes.header.sourceId, `${pub.peerId}/spikes`)
  t.is(weights.header.type, 'Events')
  t.is(weights.header.channelFormat, 'double64')
  t.is(weights.header.channelCount, 2)
  const sw = spikes.header.desc!.children.find(c => c.name === 'spikewire')!
  const text = (name: string): string | undefined => sw.children.find(c => c.name === name)?.text
  t.is(text('peer'), pub.peerId)
  t.is(text('channels'), '16')
  t.is(text('kind'), 'spike')
  t.is(text('node'), 'rec-pub')
  t.deepEqual(sw.children.find(c => c.name === 'model')!.children.map(c => c.children.length > 0 ? c.children.map(x => x.text).join(':') : c.text), ['poisson', 'rate:1000:Hz'])
  for (const s of [spikes, weights]) {
    t.true(s.clockOffsets.length >= 1)
    for (const o of s.clockOffsets) t.true(Math.abs(o.value) < 0.05, `one machine: a small offset (${o.value} s)`)
    const footer = s.footer!
    const ft = (name: string): string | undefined => footer.children.find(c => c.name === name)?.text
    t.is(Number(ft('sample_count')), s.count)
    t.is(Number(ft('first_timestamp')), s.times[0])
    t.is(Number(ft('last_timestamp')), s.times[s.count - 1])
    const counts = footer.children.find(c => c.name === 'spikewire')!
    t.is(counts.children.find(c => c.name === 'missing')?.text, '0')
    t.is(counts.children.find(c => c.name === 'lost')?.text, '0')
  }
  const log = stream(f, 'spikewire-recorder')
  t.is(log.header.channelFormat, 'string')
  t.is(log.strings.filter(l => (JSON.parse(l) as { event: string }).event === 'open').length, 2)
  t.is((JSON.parse(log.strings.at(-1)!) as { event: string, events: number }).events, total)

  // Replay it and subscribe from this process: every event, every interval.
  const replay = cli(t, ['replay', path, '--listen', '/ip4/127.0.0.1/tcp/0', '--json', '--linger', '1'])
  await replay.until(() => replay.json.some(l => l.event === 'started'), 20_000, 'the replay node to start')
  const started = replay.json.find(l => l.event === 'started')!
  const raddr = (started.multiaddrs as string[])[0]
  const sub = await createSpikewireNode({ name: 'replay-sub', listen: [] })
  t.teardown(async () => { await sub.stop() })
  const got: Record<string, Ev[]> = { spikes: [], weights: [] }
  for (const port of ['spikes', 'weights']) {
    sub.subscribe(raddr, port).onBatch(({ batch }) => {
      for (let i = 0; i < batch.count; i++) got[port].push({ ch: batch.channels[i], t: batch.times[i], v: batch.values?.[i] ?? 0 })
    })
  }
  t.is((await replay.exit(30_000)).code, 0, replay.stderr)
  const rs = replay.json.at(-1)!
  t.is(rs.emitted, total)
  t.is(rs.refused, 0)
  for (const port of ['spikes', 'weights'] as const) {
    const a = sent[port]
    const b = got[port]
    t.is(b.length, a.length, port)
    t.deepEqual(b.map(e => e.ch), a.map(e => e.ch))
    t.deepEqual(b.map(e => e.v), a.map(e => e.v))
    // Same offset for every event: every interval is the recorded one, to the µs, across both ports.
    const shift = b[0].t - a[0].t
    t.true(b.every((e, i) => e.t - a[i].t === shift), `${port}: intervals kept`)
  }
  t.is(got.spikes[0].t - sent.spikes[0].t, got.weights[0].t - sent.weights[0].t)
})

test('a recorder killed with SIGKILL leaves a file read up to its last complete chunk, every event in it equal to a tap\'s; cut at random bytes it still loads', async t => {
  const dir = await tempDir(t)
  const config = publisherConfig('/ip4/127.0.0.1/tcp/0')
  ;(config.ports as Array<Record<string, unknown>>)[0].source = { type: 'poisson', rateHz: 500, seed: 9 }
  const { addr } = await startNode(t, await writeJson(join(dir, 'pub.json'), config))
  const path = join(dir, 'killed.xdf')
  const tap = cli(t, ['tap', addr, 'spikes', '--json'])
  await tap.until(() => tap.json.length > 0, 20_000, 'the tap to get events')
  const rec = cli(t, ['record', addr, 'spikes', '--out', path, '--json', '--progress', '0.2'])
  await rec.until(() => rec.errJson.some(l => l.event === 'progress' && (l.events as number) > 2000), 20_000, 'the recorder to write events')
  rec.kill('SIGKILL')
  t.is((await rec.exit(10_000)).signal, 'SIGKILL')
  tap.kill('SIGINT')
  t.is((await tap.exit(20_000)).code, 0, tap.stderr)

  const f = readXdfFile(path)
  const s = stream(f, 'spikes')
  t.is(s.footer, undefined, 'no footer after SIGKILL')
  t.true(s.count > 1000, `${s.count} events`)
  // Every recorded event is the tap's event at the same time, and none is missing in between.
  const tapped = tap.json.filter(l => l.summary === undefined).map(l => ({ ch: l.channel as number, t: l.time_us as number, v: 0 }))
  const mine = recorded(s, false)
  const from = tapped.findIndex(e => e.t === mine[0].t && e.ch === mine[0].ch)
  t.true(from >= 0, `the first recorded event is one the tap saw (tap: ${tapped.length} events from ${tapped[0]?.t} to ${tapped.at(-1)?.t}; recorded from ${mine[0].t})`)
  t.deepEqual(mine, tapped.slice(from, from + mine.length))

  // The same file cut at random bytes: never an error, always a prefix.
  const bytes = new Uint8Array(await readFile(path))
  const rng = new Prng(3)
  for (let k = 0; k < 200; k++) {
    const cut = Math.floor(rng.next() * bytes.length)
    const g = readXdf(bytes.subarray(0, cut))
    const gs = g.streams.find(x => x.header.name === 'spikes')
    if (gs !== undefined) t.deepEqual([...gs.times], [...s.times].slice(0, gs.count))
    t.true(g.completeBytes <= cut)
  }
  await writeFile(join(dir, 'cut.xdf'), bytes.subarray(0, Math.floor(bytes.length / 2)))
  const half = readXdfFile(join(dir, 'cut.xdf'))
  t.true(stream(half, 'spikes').count > 0)
})

test('record fails with a usage error without --out, with a clear error for a port the publisher lacks, and on a full disk', async t => {
  const pub = await publisher(t)
  const dir = await tempDir(t)
  const noOut = cli(t, ['record', pub.multiaddrs[0], 'spikes'])
  t.is((await noOut.exit(20_000)).code, 2)
  t.regex(noOut.stderr, /--out FILE.xdf is required/)
  const bad = cli(t, ['record', pub.multiaddrs[0], 'nosuch', '--out', join(dir, 'x.xdf')])
  t.is((await bad.exit(30_000)).code, 1)
  t.regex(bad.stderr, /no out port nosuch/)
  const full = cli(t, ['record', pub.multiaddrs[0], 'spikes', '--out', '/dev/full'])
  t.is((await full.exit(30_000)).code, 1)
  t.regex(full.stderr, /ENOSPC/)
})

test('a publisher that restarts: the recorder logs the reconnect in the file as it happens, counts it in the footer, and records the events on both sides of it', async t => {
  const dir = await tempDir(t)
  const port = await freePort()
  const configPath = await writeJson(join(dir, 'pub.json'), publisherConfig(`/ip4/127.0.0.1/tcp/${port}`))
  const first = await startNode(t, configPath)
  const path = join(dir, 'restart.xdf')
  const rec = cli(t, ['record', first.addr, 'spikes', '--out', path, '--json', '--progress', '0.2'])
  await rec.until(() => rec.errJson.some(l => l.event === 'progress' && (l.events as number) > 100), 20_000, 'events before the restart')
  first.proc.kill('SIGKILL')
  await first.proc.exit(10_000)
  await rec.until(() => rec.errJson.some(l => l.event === 'retrying'), 20_000, 'the recorder to notice')
  const before = (rec.errJson.filter(l => l.event === 'progress').at(-1)!.events as number)
  const second = await startNode(t, configPath)
  t.is(second.peer, first.peer)
  await rec.until(() => rec.errJson.some(l => l.event === 'progress' && (l.events as number) > before + 100), 20_000, 'events after the restart')
  rec.kill('SIGINT')
  t.is((await rec.exit(20_000)).code, 0, rec.stderr)
  const f = readXdfFile(path)
  const s = stream(f, 'spikes')
  const log = stream(f, 'spikewire-recorder').strings.map(l => JSON.parse(l) as Record<string, unknown>)
  t.is(log.filter(e => e.event === 'open').length, 2)
  t.true(log.some(e => e.event === 'retrying'))
  t.true(log.some(e => e.event === 'gap' && e.reason === 'reconnect'))
  const counts = s.footer!.children.find(c => c.name === 'spikewire')!
  t.is(counts.children.find(c => c.name === 'reconnects')?.text, '1')
  t.true(s.count > before + 100)
  for (let i = 1; i < s.count; i++) if (s.times[i] < s.times[i - 1]) t.fail('times go back')
})
