import test from 'ava'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addReplayPorts, replay, replayStreams } from '../../src/hosting/replaying.ts'
import { createSpikewireNode } from '../../src/node/node.ts'
import { XdfWriter, readXdfFile } from '../../src/xdf/index.ts'

test('replay at --speed 2 halves every interval (to the µs), serves repeated port names as NAME-2, skips streams that are not spikewire ports', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'spikewire-replay-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const path = join(dir, 'r.xdf')
  const w = new XdfWriter(path)
  const origin = 1_796_000_000_000_000
  const desc = (port: string, kind: string, channels: number): Array<{ name: string, children: Array<{ name: string, text: string | number }> }> =>
    [{ name: 'spikewire', children: [{ name: 'port', text: port }, { name: 'kind', text: kind }, { name: 'channels', text: channels }, { name: 'time_origin_us', text: origin }] }]
  const a = w.addStream({ name: 'spikes', type: 'Spikes', channelCount: 1, channelFormat: 'int32', nominalSrate: 0, sourceId: 'p1/spikes', createdAt: 0, desc: desc('spikes', 'spike', 4) })
  const b = w.addStream({ name: 'spikes', type: 'Spikes', channelCount: 1, channelFormat: 'int32', nominalSrate: 0, sourceId: 'p2/spikes', createdAt: 0, desc: desc('spikes', 'spike', 2) })
  const c = w.addStream({ name: 'w', type: 'Events', channelCount: 2, channelFormat: 'double64', nominalSrate: 0, sourceId: 'p1/w', createdAt: 0, desc: desc('w', 'weighted', 3) })
  w.addStream({ name: 'eeg', type: 'EEG', channelCount: 8, channelFormat: 'float32', nominalSrate: 250, sourceId: 'x', createdAt: 0 })
  const ta = [0, 1001, 1001, 40_003, 100_000].map(x => x + 5_000_000)
  const tb = [2, 77_777].map(x => x + 5_000_000)
  const tc = [10, 60_001].map(x => x + 5_000_000)
  w.writeSamples(a, ta.length, ta.map(x => x / 1e6), [[0, 1, 2, 3, 0]])
  w.writeSamples(b, tb.length, tb.map(x => x / 1e6), [[1, 0]])
  w.writeSamples(c, tc.length, tc.map(x => x / 1e6), [[2, 0], [1.5, -0.25]])
  w.close()

  const streams = replayStreams(readXdfFile(path))
  t.deepEqual(streams.map(s => s.port), ['spikes', 'spikes-2', 'w'])
  t.deepEqual([...streams[0].timesUs], ta.map(x => x + origin))

  const node = await createSpikewireNode({ name: 'replay', listen: ['/ip4/127.0.0.1/tcp/0'], latenessUs: 1_000_000 })
  const sub = await createSpikewireNode({ name: 'sub', listen: [] })
  t.teardown(async () => { await sub.stop(); await node.stop() })
  const ports = addReplayPorts(node, streams)
  const got: Record<string, Array<[number, number, number]>> = { spikes: [], 'spikes-2': [], w: [] }
  const subs = Object.keys(got).map(port => {
    const s = sub.subscribe(node.multiaddrs[0], port)
    s.onBatch(({ batch }) => { for (let i = 0; i < batch.count; i++) got[port].push([batch.channels[i], batch.times[i], batch.values?.[i] ?? 0]) })
    return s
  })
  await Promise.all(subs.map(async s => { await s.ready() }))
  const stats = await replay({ node, streams, speed: 2 }, ports)
  t.deepEqual(stats.map(s => [s.emitted, s.refused]), [[5, 0], [2, 0], [2, 0]])
  const deadline = Date.now() + 20_000
  while (Object.values(got).reduce((n, x) => n + x.length, 0) < 9 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
  const start = got.spikes[0][1]
  const t0 = ta[0]
  t.deepEqual(got.spikes.map(e => e[1] - start), ta.map(x => Math.round((x - t0) / 2)))
  t.deepEqual(got['spikes-2'].map(e => e[1] - start), tb.map(x => Math.round((x - t0) / 2)))
  t.deepEqual(got.w.map(e => [e[0], e[1] - start, e[2]]), [[2, 5, 1.5], [0, 30_001, -0.25]])
  t.deepEqual(got.spikes.map(e => e[0]), [0, 1, 2, 3, 0])
})
