/**
 * The orchestrator's own node: it subscribes to every out port of every site and keeps every event, in
 * the sender's clock; `localUs` maps a time to the recorder's clock with the recorder's clock estimate of
 * the sender (run with the final estimates, after the experiment).
 */
import { createNode } from '../../src/index.ts'
import type { Clock, SpikewireNode, Subscription } from '../../src/index.ts'
import type { NodeName } from './params.ts'
import { subscribeTo } from './wiring.ts'

export interface RecordedEvent {
  node: NodeName
  port: string
  channel: number
  /** Sender's clock, µs. */
  timeUs: number
  value?: number
}

/** Every out port of the experiment. */
export const STREAMS: Array<{ node: NodeName, port: string }> = [
  { node: 'zurich', port: 'pacemaker' },
  { node: 'synapse-a', port: 'out' },
  { node: 'synapse-a', port: 'weight' },
  { node: 'padova', port: 'spikes' },
  { node: 'synapse-b', port: 'out' },
  { node: 'synapse-b', port: 'weight' },
  { node: 'zurich', port: 'neuron' }
]

export class Recorder {
  readonly node: SpikewireNode
  readonly events: RecordedEvent[] = []
  readonly subscriptions: Array<{ node: NodeName, port: string, sub: Subscription }> = []
  readonly #peers: Record<NodeName, string>

  private constructor (node: SpikewireNode, peers: Record<NodeName, string>) {
    this.node = node
    this.#peers = peers
  }

  /** `listen`: the recorder's listen addresses (default 127.0.0.1, any port). */
  static async start (key: string, peers: Record<NodeName, string>, clock?: Clock, listen = ['/ip4/127.0.0.1/tcp/0']): Promise<Recorder> {
    const node = await createNode({
      name: 'recorder',
      role: 'recorder',
      identity: key,
      listen,
      allow: (['padova', 'synapse-a', 'synapse-b', 'zurich'] as const).map(n => peers[n])
    }, { clock })
    return new Recorder(node, peers)
  }

  /** Subscribe to `port` of `node` at `multiaddr` and record its events. */
  follow (node: NodeName, multiaddr: string, port: string): Subscription {
    const { sub, source } = subscribeTo(this.node, multiaddr, port)
    source.inbox.onDelivery(({ batch }) => {
      for (let i = 0; i < batch.count; i++) {
        const e: RecordedEvent = { node, port, channel: batch.channels[i], timeUs: batch.times[i] }
        if (batch.values !== undefined) e.value = batch.values[i]
        this.events.push(e)
      }
    })
    this.subscriptions.push({ node, port, sub })
    return sub
  }

  /** Map a time of `node`'s clock to the recorder's clock (current estimate). */
  localUs (node: NodeName, timeUs: number): number {
    return this.node.clockMap(this.#peers[node])(timeUs)
  }

  async stop (): Promise<void> {
    await this.node.stop()
  }
}
