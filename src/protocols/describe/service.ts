/**
 * The describe service (spec §9.1): serves the node's description on /spikewire/describe/1.0.0 and asks
 * remote nodes for theirs.
 */
import type { Libp2p } from '@libp2p/interface'
import type { Startable } from '../../base/service.ts'
import { DESCRIBE_PROTOCOL } from '../../codec/index.ts'
import type { Description, ErrorCodeName } from '../../codec/index.ts'
import { DEFAULTS, LIMITS } from '../../wire/defaults.ts'
import { PeerStreams, refuseStream } from '../../wire/peer-streams.ts'
import type { Target } from '../../wire/target.ts'
import { describeRemote, handleDescribeStream } from './describe.ts'

export interface DescribeServiceComponents {
  libp2p: Libp2p
  /** The node's description as it is now. */
  description: () => Description
  /** A stream was refused (for the node's counts and its 'refused' event). */
  onRefused?: (peer: string, code: ErrorCodeName, reason: string) => void
}

export interface DescribeServiceInit {
  maxInboundStreams?: number
  /** Describe streams one peer may hold at once, all connections together (spec §11.4). */
  maxStreamsPerPeer?: number
  timeoutMs?: number
}

export class DescribeService implements Startable {
  readonly #components: DescribeServiceComponents
  readonly #init: DescribeServiceInit

  constructor (components: DescribeServiceComponents, init: DescribeServiceInit = {}) {
    this.#components = components
    this.#init = init
  }

  async start (): Promise<void> {
    const max = this.#init.maxInboundStreams ?? DEFAULTS.maxInboundStreams.describe
    const timeoutMs = this.#init.timeoutMs ?? DEFAULTS.describeTimeoutMs
    const peers = new PeerStreams(this.#init.maxStreamsPerPeer ?? LIMITS.maxDescribeStreamsPerPeer.default)
    await this.#components.libp2p.handle(DESCRIBE_PROTOCOL, (stream, connection) => {
      const peer = connection.remotePeer.toString()
      const release = peers.take(peer)
      if (release === undefined) {
        const reason = `this peer holds ${peers.max} describe streams already`
        this.#components.onRefused?.(peer, 'too-many-streams', reason)
        refuseStream(stream, 'too-many-streams', reason, timeoutMs)
        return
      }
      handleDescribeStream(stream, this.#components.description, timeoutMs, release)
    }, {
      maxInboundStreams: max, maxOutboundStreams: max, runOnLimitedConnection: true
    })
  }

  async stop (): Promise<void> {
    await this.#components.libp2p.unhandle(DESCRIBE_PROTOCOL).catch(() => {})
  }

  /** Ask a remote node what it is. */
  async describe (target: Target, options: { signal?: AbortSignal } = {}): Promise<Description & { peer: string }> {
    return await describeRemote(this.#components.libp2p, target, options)
  }
}

export function describeService (init: DescribeServiceInit = {}): (components: DescribeServiceComponents) => DescribeService {
  return components => new DescribeService(components, init)
}
