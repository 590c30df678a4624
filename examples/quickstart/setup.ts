/**
 * Writes the quickstart's two node configs: a Poisson spike source that pushes into a LIF neuron.
 *
 *   node examples/quickstart/setup.ts [--dir out/quickstart] [--port 4101] [--source-port 4102]
 *
 * Each node gets a fixed identity (an Ed25519 key file, created once and reused on later runs), because
 * the neuron's `in` port only accepts pushes from peers it lists by PeerId, and the source's link names
 * the neuron by PeerId. The configs refer to the key files by relative path.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { loadOrCreateKey, peerIdOf } from '../../src/index.ts'
import type { NodeConfig } from '../../src/index.ts'

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: 'out/quickstart' },
    port: { type: 'string', default: '4101' },
    'source-port': { type: 'string' }
  }
})
const port = Number(values.port)
const sourcePort = Number(values['source-port'] ?? port + 1)
for (const p of [port, sourcePort]) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`not a TCP port: ${p}`)
const dir = resolve(values.dir)
await mkdir(dir, { recursive: true })

const neuronId = peerIdOf((await loadOrCreateKey(join(dir, 'neuron.key'))).key)
const sourceId = peerIdOf((await loadOrCreateKey(join(dir, 'source.key'))).key)
const neuronAddr = `/ip4/127.0.0.1/tcp/${port}/p2p/${neuronId}`

const neuron: NodeConfig = {
  name: 'neuron',
  role: 'neuron',
  listen: [`/ip4/127.0.0.1/tcp/${port}`],
  identity: 'neuron.key',
  ports: [
    // Only the source may push into the neuron's input.
    { name: 'in', direction: 'in', kind: 'spike', channels: 1, push: [sourceId] },
    { name: 'spikes', direction: 'out', kind: 'spike', channels: 1 }
  ],
  // A leaky integrate-and-fire neuron run in real time: each input spike moves its membrane by 5 mV
  // (threshold 20 mV above rest, τ 10 ms), 20 ms after the spike's time (a synaptic delay that also
  // absorbs the network latency).
  hosts: [{ model: 'lif', input: 'in', output: 'spikes', params: { wUnitMv: 5 }, delayUs: 20_000 }]
}

const source: NodeConfig = {
  name: 'source',
  role: 'source',
  listen: [`/ip4/127.0.0.1/tcp/${sourcePort}`],
  identity: 'source.key',
  // 200 spikes per second at random (Poisson), like the summed input of many cells.
  ports: [{ name: 'spikes', direction: 'out', kind: 'spike', channels: 1, source: { type: 'poisson', rateHz: 200, seed: 1 } }],
  links: [{ from: 'spikes', to: neuronAddr, port: 'in' }]
}

await writeFile(join(dir, 'neuron.json'), JSON.stringify(neuron, null, 2) + '\n')
await writeFile(join(dir, 'source.json'), JSON.stringify(source, null, 2) + '\n')

const rel = relative(process.cwd(), dir) || '.'
process.stdout.write(`wrote ${rel}/neuron.json (PeerId ${neuronId})
wrote ${rel}/source.json (PeerId ${sourceId})

terminal 1:  npx spikewire node --config ${rel}/neuron.json
terminal 2:  npx spikewire node --config ${rel}/source.json
terminal 3:  npx spikewire describe ${neuronAddr}
             npx spikewire tap ${neuronAddr} spikes
`)
