/** Real nodes on loopback for tests, stopped when the test ends. */
import type { ExecutionContext } from 'ava'
import { createNode, startNode as startHostedNode } from '../../src/hosting/start.ts'
import type { Hosted } from '../../src/hosting/start.ts'
import type { CreateNodeOptions, SpikewireNode } from '../../src/node/node.ts'
import type { NodeConfig } from '../../src/hosting/config.ts'

export async function startNode (t: ExecutionContext, config: NodeConfig, options: CreateNodeOptions = {}): Promise<SpikewireNode> {
  const node = await createNode({ listen: ['/ip4/127.0.0.1/tcp/0'], ...config }, options)
  t.teardown(async () => { await node.stop() })
  return node
}

/** A node from a whole config, with what the config started in it, stopped when the test ends. */
export async function startHosted (t: ExecutionContext, config: NodeConfig, options: CreateNodeOptions = {}): Promise<Hosted> {
  const hosted = await startHostedNode({ listen: ['/ip4/127.0.0.1/tcp/0'], ...config }, options)
  t.teardown(async () => { await hosted.node.stop() })
  return hosted
}

/** Poll `fn` until it returns true or the time runs out. */
export async function until (fn: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

export function nowUs (node: SpikewireNode): number {
  return Math.round(node.clock.nowUs())
}
