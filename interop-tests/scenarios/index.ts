/** Every scenario, in the order of the report. */
import { abruptDisconnectReconnect } from './abrupt-disconnect-reconnect.ts'
import { adversarialToDialer, adversarialToListener, oversizeToDialer, oversizeToListener } from './adversarial.ts'
import { authorizationRefused } from './authorization-refused.ts'
import { clockSync } from './clock-sync.ts'
import { connectAndDescribe } from './connect-and-describe.ts'
import { gracefulClose } from './graceful-close.ts'
import { lossNotice } from './loss-notice.ts'
import { merge } from './merge.ts'
import { playout } from './playout.ts'
import { pushIntoInPort } from './push-into-in-port.ts'
import { subscribeReceiveN } from './subscribe-receive-n.ts'
import { unknownProtocolVersion } from './unknown-protocol-version.ts'
import { watermarksIdle } from './watermarks-idle.ts'
import { weightedEvents } from './weighted-events.ts'
import type { Scenario } from './types.ts'

export const SCENARIOS: readonly Scenario[] = [
  connectAndDescribe,
  subscribeReceiveN,
  weightedEvents,
  pushIntoInPort,
  watermarksIdle,
  lossNotice,
  clockSync,
  playout,
  merge,
  authorizationRefused,
  unknownProtocolVersion,
  adversarialToListener,
  adversarialToDialer,
  oversizeToListener,
  oversizeToDialer,
  abruptDisconnectReconnect,
  gracefulClose
]

export function scenarioById (id: string): Scenario | undefined {
  return SCENARIOS.find(s => s.id === id)
}

export type { Scenario }
