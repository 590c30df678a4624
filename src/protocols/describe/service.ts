/**
 * The describe service (spec §9.1): serves the node's description on /spikewire/describe/1.0.0 and asks
 * remote nodes for theirs.
 */
import type { Libp2p } from '@libp2p/interface'
import type { Startable } from '../../base/service.ts'
import { DESCRIBE_PROTOCOL } from '../../codec/index.ts'
import type { Description } from '../../codec/index.ts'
import { DEFAULTS } from '../../wire/defaults.ts'
import type { Target } from '../../wire/target.ts'
import { describeRemote, handleDescribeStream } from './describe.ts'

export interface DescribeServiceComponents {
  libp2p: Libp2p
  /** The node's description as it is now. */
  description: () => Description
}

export interface DescribeServiceInit {
  maxInboundStreams?: number
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
    await this.#components.libp2p.handle(DESCRIBE_PROTOCOL, (stream) => { handleDescribeStream(stream, this.#components.description, timeoutMs) }, {
      maxInboundStreams: max, maxOutboundStreams: max
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
