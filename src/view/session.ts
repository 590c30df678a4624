/**
 * The view's session with one node: ask its description, start the clock sync with it, and subscribe to its
 * out ports (all of them unless told which), with spikewire's own describe, clock and events code. No DOM:
 * it runs in the page and, for tests, in Node.
 */
import type { Libp2p } from '@libp2p/interface'
import type { Clock } from '../base/clock.ts'
import { SpikewireBaseError } from '../base/errors.ts'
import type { Description, PortInfo } from '../codec/index.ts'
import { describeRemote } from '../protocols/describe/describe.ts'
import { ClockService } from '../protocols/clock/service.ts'
import type { PeerTime } from '../protocols/clock/peer-time.ts'
import { Subscription } from '../protocols/events/subscription.ts'
import { subscriptionStream } from '../protocols/events/service.ts'

export interface ViewSession {
  description: Description & { peer: string }
  /** The node's time: clock sync, mapping of its timestamps, latency per subscription. */
  time: PeerTime
  /** One subscription per drawn port, in the description's order. */
  ports: Array<{ info: PortInfo, sub: Subscription }>
  close: () => Promise<void>
}

/** A port named for the view that is not an out port of the node. */
export class UnknownPortError extends SpikewireBaseError<'unknown-port'> {
  override name = 'UnknownPortError'
  constructor (message: string) {
    super('unknown-port', message)
  }
}

/** The out ports to draw: those named (each must be an out port of the node), or every out port. */
export function choosePorts (d: Description, names: string[]): PortInfo[] {
  const outs = d.ports.filter(p => p.direction === 'out')
  if (names.length === 0) return outs
  return names.map(n => {
    const p = outs.find(o => o.name === n)
    if (p === undefined) throw new UnknownPortError(`${d.name} has no out port ${JSON.stringify(n)} (out ports: ${outs.map(o => o.name).join(', ') || 'none'})`)
    return p
  })
}

export async function openViewSession (libp2p: Libp2p, target: string, names: string[], clock: Clock, signal?: AbortSignal): Promise<ViewSession> {
  const description = await describeRemote(libp2p, target, { signal })
  const infos = choosePorts(description, names)
  const clocks = new ClockService({ libp2p, clock })
  const time = clocks.peer(target)
  const ports = infos.map(info => {
    const sub = new Subscription(libp2p, target, info.name)
    sub.time = time
    const stream = subscriptionStream(info.name)
    sub.inbox.observe(({ batch }) => { time.record(stream, batch) })
    return { info, sub }
  })
  return {
    description,
    time,
    ports,
    close: async () => {
      await Promise.allSettled(ports.map(async p => { await p.sub.close() }))
      await clocks.stop()
    }
  }
}
