import test from 'ava'
import { startNode, until } from '../helpers/nodes.ts'

test('a LIF neuron hosted from config fires when a Poisson source pushes into it', async t => {
  const lifNode = await startNode(t, {
    name: 'neuron',
    ports: [
      { name: 'in', direction: 'in', kind: 'spike', channels: 1, push: '*' },
      { name: 'spikes', direction: 'out', channels: 1 }
    ],
    hosts: [{ model: 'lif', input: 'in', output: 'spikes', params: { wUnitMv: 8 }, delayUs: 20_000 }]
  })
  const src = await startNode(t, { name: 'source', ports: [{ name: 'spikes', direction: 'out', channels: 1, source: { type: 'poisson', rateHz: 400, seed: 7 } }] })
  const link = src.push('spikes', lifNode.multiaddrs[0], 'in')
  await link.ready()
  const watcher = await startNode(t, { name: 'watcher' })
  const sub = watcher.subscribe(lifNode.multiaddrs[0], 'spikes')
  let out = 0
  sub.onBatch(d => { out += d.batch.count })
  await until(() => out >= 5, 8000, 'neuron output spikes')
  const host = lifNode.hosts[0]
  const stats = host.stats() as { model: Record<string, number>, playout: { delivered: number } }
  t.true(stats.playout.delivered > 0)
  t.log(`inputs delivered ${stats.playout.delivered}, output spikes ${out}`)
})

test('hosting refuses a port too small for the model', async t => {
  await t.throwsAsync(startNode(t, {
    name: 'bad',
    ports: [{ name: 'stim', direction: 'in', kind: 'weighted', channels: 4 }, { name: 'spikes', direction: 'out', channels: 4 }],
    hosts: [{ model: 'culture', input: 'stim', output: 'spikes', params: { electrodes: 4 } }]
  }), { message: /8/ })
})
