/**
 * Which handler plays which role of which scenario in the TypeScript implementation. A scenario or role
 * missing here is answered with exit code 3 (the manifest should not claim it).
 */
import { abortUnderSubscription, closeBothWays, closeWhenAsked, survivesDisconnect } from './lifecycle.ts'
import { adversaryDialer, adversaryListener } from './adversary.ts'
import { describeListener, tryRefused, tryUnknownVersion } from './access.ts'
import { emitOnSubscribe, pushGenerated, receiveAndCheck, receivePushed, recordWatermarks, serve } from './events.ts'
import type { Fields } from './events.ts'
import { burstWhenPaused, pausedSubscriber } from './loss.ts'
import { probeCases } from './probe.ts'
import { emitClumped, estimateClock, mergeTrains, playoutTrain } from './timing.ts'
import type { Ctx } from './context.ts'
import type { Peer } from './peer.ts'

export interface Handler {
  /** "spikewire": the library's node; "raw": a bare libp2p node (the adversary). */
  node: 'spikewire' | 'raw'
  /** false: no clock sync with peers (the adversary does not serve the clock protocol). */
  clockSync?: false
  /** Listeners call ctx.ready() once set up and return after ctx.done. */
  run: (ctx: Ctx, peer: Peer) => Promise<Fields>
}

const lib = (run: Handler['run'], clockSync?: false): Handler => clockSync === false ? { node: 'spikewire', run, clockSync } : { node: 'spikewire', run }

export const HANDLERS: Record<string, { dialer?: Handler, listener?: Handler }> = {
  'connect-and-describe': { dialer: lib(describeListener), listener: lib(serve) },
  'subscribe-receive-n': { dialer: lib(receiveAndCheck), listener: lib(emitOnSubscribe) },
  'weighted-events': { dialer: lib(receiveAndCheck), listener: lib(emitOnSubscribe) },
  'push-into-in-port': { dialer: lib(pushGenerated), listener: lib(receivePushed) },
  'watermarks-idle': { dialer: lib(recordWatermarks), listener: lib(serve) },
  'loss-notice': { dialer: lib(pausedSubscriber), listener: lib(burstWhenPaused) },
  'clock-sync': { dialer: lib(estimateClock), listener: lib(serve) },
  playout: { dialer: lib(playoutTrain), listener: lib(emitClumped) },
  merge: { dialer: lib(mergeTrains), listener: lib(emitClumped) },
  'authorization-refused': { dialer: lib(tryRefused), listener: lib(serve) },
  'unknown-protocol-version': { dialer: lib(tryUnknownVersion), listener: lib(serve) },
  'adversarial-to-listener': { dialer: { node: 'raw', run: adversaryDialer }, listener: lib(serve) },
  'adversarial-to-dialer': { dialer: lib(probeCases, false), listener: { node: 'raw', run: adversaryListener } },
  'oversize-frame-to-listener': { dialer: { node: 'raw', run: adversaryDialer }, listener: lib(serve) },
  'oversize-frame-to-dialer': { dialer: lib(probeCases, false), listener: { node: 'raw', run: adversaryListener } },
  'abrupt-disconnect-reconnect': { dialer: lib(survivesDisconnect), listener: lib(abortUnderSubscription) },
  'graceful-close': { dialer: lib(closeBothWays), listener: lib(closeWhenAsked) }
}

