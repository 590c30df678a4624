/** The throwaway node that `describe` and `tap` use: a fresh key, listening nowhere. */
import { createNode } from '../node/node.ts'
import type { SpikewireNode } from '../node/node.ts'

export async function startClient (name: string): Promise<SpikewireNode> {
  return await createNode({ name, listen: [] })
}
