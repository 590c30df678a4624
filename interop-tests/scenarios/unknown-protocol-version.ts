/**
 * unknown-protocol-version: the dialer proposes /spikewire/events/2.0.0, which the listener does not
 * serve: multistream-select must answer "na" (spec §4.4). It then proposes [2.0.0, 1.0.0] on a new stream,
 * gets 1.0.0, and subscribes as usual.
 *
 * Dialer result: `unknown_refused` (the negotiation failed), `unknown_error` (what the library said),
 * `fallback_protocol` (the id negotiated from the list), `fallback_accepted` (the subscription's accept).
 */
import { PROTOCOLS } from '../lib/contract.ts'
import { Checks } from './types.ts'
import type { Scenario } from './types.ts'

const UNKNOWN = '/spikewire/events/2.0.0'

export const unknownProtocolVersion: Scenario = {
  id: 'unknown-protocol-version',
  title: 'Unknown protocol version refused by negotiation',
  summary: `The dialer proposes ${UNKNOWN}; the listener refuses it in multistream-select; proposing it and then 1.0.0 negotiates 1.0.0.`,
  criteria: [
    `the negotiation of ${UNKNOWN} alone fails`,
    'proposing 2.0.0 then 1.0.0 negotiates /spikewire/events/1.0.0',
    'an open on the negotiated stream is accepted'
  ],
  requires: { dialer: ['subscribe'], listener: ['subscribe'] },
  notApplicable: pair => pair.listener.protocols.includes(UNKNOWN) ? `${pair.listener.id} serves ${UNKNOWN}` : undefined,
  plan: () => ({
    ports: [{ name: 'spikes', direction: 'out', kind: 'spike', channels: 4 }],
    params: { unknown: UNKNOWN, port: 'spikes' }
  }),
  check: o => {
    const r = o.dialer.result
    return new Checks()
      .equal(r?.unknown_refused, true, `the negotiation of ${UNKNOWN} was refused`)
      .equal(r?.fallback_protocol, PROTOCOLS.events, 'the protocol negotiated from [2.0.0, 1.0.0]')
      .equal(r?.fallback_accepted, true, 'the open on the negotiated stream was accepted')
      .failures
  }
}
