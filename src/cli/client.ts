/** The throwaway node that `describe` and `tap` use: a fresh key, listening nowhere. */
import type { SpikewireNode } from '../node/node.ts'

export async function startClient (name: string): Promise<SpikewireNode> {
  // Loaded here, not at the top, so that --help and usage errors stay fast.
  const { createSpikewireNode } = await import('../node/node.ts')
  return await createSpikewireNode({ name, listen: [] })
}
