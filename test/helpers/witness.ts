/** A victim node under attack and a witness subscriber that shows whether it still serves everyone else. */
import type { ExecutionContext } from 'ava'
import type { NodeConfig } from '../../src/hosting/config.ts'
import type { CreateNodeOptions, SpikewireNode } from '../../src/node/node.ts'
import { nowUs, startNode, until } from './nodes.ts'

export interface Victim {
  node: SpikewireNode
  /** Events the witness has received so far. */
  witness: () => number
  addr: string
}

/**
 * A node with an 8-channel out port `spikes` (plus `config`), and a witness node subscribed to it.
 * `witnessOptions` go to the witness node (e.g. `{ clockSync: false }`, so that every clock request the
 * victim serves comes from the adversary).
 */
export async function victimWithWitness (t: ExecutionContext, config: Partial<NodeConfig> = {}, witnessOptions: CreateNodeOptions = {}): Promise<Victim> {
  const node = await startNode(t, { name: 'victim', ...config, ports: [{ name: 'spikes', direction: 'out', channels: 8 }, ...(config.ports ?? [])] })
  const other = await startNode(t, { name: 'witness' }, witnessOptions)
  const sub = other.subscribe(node.multiaddrs[0], 'spikes')
  let got = 0
  sub.onBatch(d => { got += d.batch.count })
  await sub.ready()
  return { node, witness: () => got, addr: node.multiaddrs[0] }
}

/** The victim still serves: an event it emits now reaches the witness. */
export async function stillServes (t: ExecutionContext, node: SpikewireNode, witness: () => number): Promise<void> {
  const before = witness()
  node.outPort('spikes').emit(1, nowUs(node))
  await until(() => witness() > before, 20_000, 'the witness subscriber to get an event')
  t.pass()
}
