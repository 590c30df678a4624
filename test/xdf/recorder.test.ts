import test from 'ava'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Recorder } from '../../src/hosting/recording.ts'
import { createSpikewireNode } from '../../src/node/node.ts'
import { readXdfFile } from '../../src/xdf/index.ts'

test('a write that fails stops the recording once, reported through onError; what was written stays readable', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'spikewire-recorder-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const pub = await createSpikewireNode({ name: 'pub', listen: ['/ip4/127.0.0.1/tcp/0'] })
  const me = await createSpikewireNode({ name: 'rec', listen: [] })
  t.teardown(async () => { await me.stop(); await pub.stop() })
  const port = pub.addOutPort({ name: 'spikes', channels: 2, kind: 'spike' })
  const path = join(dir, 'f.xdf')
  const rec = await Recorder.start({ node: me, path, sources: [{ target: pub.multiaddrs[0], port: 'spikes' }], flushMs: 20 })
  const errors: Error[] = []
  rec.onError = e => { errors.push(e) }
  const deadline = Date.now() + 20_000
  while (port.stats.streams === 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
  for (let i = 0; i < 10; i++) port.emit(i % 2, Math.round(pub.clock.nowUs()))
  while (rec.stats()[0].events < 10 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
  await new Promise(resolve => setTimeout(resolve, 100))
  // The file goes away under the recorder (as a full disk or an I/O error would make writes fail).
  rec.writer.close()
  for (let i = 0; i < 10; i++) port.emit(i % 2, Math.round(pub.clock.nowUs()))
  while (errors.length === 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
  t.is(errors.length, 1)
  t.is((errors[0] as Error & { code?: string }).code, 'closed')
  t.is(rec.error, errors[0])
  await rec.stop()
  const f = readXdfFile(path)
  t.is(f.streams.find(s => s.header.name === 'spikes')?.count, 10)
})
