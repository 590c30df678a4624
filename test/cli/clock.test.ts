import test from 'ava'
import { join } from 'node:path'
import { run, startNode, tempDir, writeJson, publisherConfig } from './helpers.ts'

test('spikewire clock --json prints estimates and a summary with offset ± uncertainty, rtt and drift', async t => {
  const dir = await tempDir(t)
  const config = await writeJson(join(dir, 'pub.json'), publisherConfig('/ip4/127.0.0.1/tcp/0'))
  const { addr } = await startNode(t, config)
  const r = await run(t, ['clock', addr, '--json', '--duration', '3'], 15_000)
  t.is(r.code, 0, r.stderr)
  const lines = r.stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
  const estimates = lines.filter(l => l.summary === undefined)
  t.true(estimates.length >= 3)
  const s = lines.at(-1)!
  t.is(s.summary, true)
  // Same machine, same clock: the true offset is 0, and it must lie within the reported uncertainty.
  t.true(Math.abs(s.offset_us as number) <= (s.uncertainty_us as number), JSON.stringify(s))
  t.true((s.rtt_us as number) > 0 && (s.rtt_us as number) < 50_000)
  t.true(typeof s.drift_ppm === 'number')
  t.true((s.answers as number) > 0)
})

test('spikewire tap summary reports latency and the clock estimate', async t => {
  const dir = await tempDir(t)
  const config = await writeJson(join(dir, 'pub.json'), publisherConfig('/ip4/127.0.0.1/tcp/0'))
  const { addr } = await startNode(t, config)
  const r = await run(t, ['tap', addr, 'spikes', '--json', '--quiet', '--duration', '3'], 15_000)
  t.is(r.code, 0, r.stderr)
  const s = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, number>
  t.true(s.latency_samples > 0)
  t.true(s.latency_p50_us > -1000 && s.latency_p50_us < 20_000, `p50 ${s.latency_p50_us}`)
  t.true(typeof s.clock_uncertainty_us === 'number')
})
