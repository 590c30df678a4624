/**
 * Checks shared by the scenarios in which one side sends generated events and the other checks them
 * (subscribe-receive-n, weighted-events, push-into-in-port).
 */
import type { ResultLine } from '../lib/contract.ts'
import { Checks, num } from './types.ts'

/** `sender` reports {sent, t0}; `receiver` reports {received, mismatches, examples, gap, lost, t0}. */
export function checkReceived (n: number, sender: ResultLine | undefined, receiver: ResultLine | undefined): Checks {
  const c = new Checks()
  c.equal(num(sender, 'sent'), n, 'events the sender sent')
  c.equal(num(receiver, 'received'), n, 'events the receiver got')
  c.equal(num(receiver, 'mismatches'), 0, `events that differ from the generator ${JSON.stringify(receiver?.examples ?? [])}`)
  c.equal(num(receiver, 'gap'), 0, 'unreported missing events (gap)')
  c.equal(num(receiver, 'lost'), 0, 'events reported lost')
  c.equal(num(receiver, 't0'), num(sender, 't0'), 'the time of event 0 (t0) on both sides')
  return c
}
