/**
 * connect-and-describe: the dialer connects (TCP, Noise, Yamux) and asks the listener for its description
 * (spec §9.1).
 *
 * Dialer result: `description` (the message in the vectors' JSON mapping), `peer` (the listener's PeerId
 * as authenticated by the connection).
 */
import { PROTOCOLS } from '../lib/contract.ts'
import type { PortLayout } from '../lib/contract.ts'
import { Checks } from './types.ts'
import type { Scenario } from './types.ts'

interface JsonPort { name?: unknown, direction?: unknown, kind?: unknown, channels?: unknown }

const key = (p: JsonPort): string => `${String(p.name)}/${String(p.direction)}/${String(p.kind)}/${String(p.channels)}`

export const connectAndDescribe: Scenario = {
  id: 'connect-and-describe',
  title: 'Connect and describe',
  summary: 'The dialer connects to the listener and reads its description over /spikewire/describe/1.0.0.',
  criteria: [
    'the description lists exactly the ports of SW_PORTS (name, direction, kind, channels)',
    'the PeerId the dialer authenticated is the one the listener announced',
    'name, role and software are non-empty texts; protocols, when present, include /spikewire/events/1.0.0'
  ],
  requires: { dialer: ['describe'], listener: ['describe'] },
  plan: pair => {
    const ports: PortLayout[] = [
      { name: 'spikes', direction: 'out', kind: 'spike', channels: 64 },
      { name: 'stim', direction: 'in', kind: 'spike', channels: 8 }
    ]
    if (pair.listener.features.includes('weighted')) ports.push({ name: 'weights', direction: 'out', kind: 'weighted', channels: 4 })
    return { ports, params: {} }
  },
  check: o => {
    const c = new Checks()
    const d = o.dialer.result?.description as { type?: unknown, name?: unknown, role?: unknown, software?: unknown, ports?: JsonPort[], protocols?: unknown } | undefined
    if (d === undefined || typeof d !== 'object') return ['the dialer reported no description']
    c.equal(d.type, 'description', 'description.type')
    const want = o.plan.ports.map(p => key(p)).sort()
    const got = Array.isArray(d.ports) ? d.ports.map(key).sort() : []
    c.that(JSON.stringify(got) === JSON.stringify(want), `ports: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
    c.equal(o.dialer.result?.peer, o.listener.listening?.peer, 'the PeerId the dialer connected to')
    for (const f of ['name', 'role', 'software'] as const) c.that(typeof d[f] === 'string' && d[f] !== '', `description.${f} must be a non-empty text`)
    if (d.protocols !== undefined) {
      c.that(Array.isArray(d.protocols) && d.protocols.includes(PROTOCOLS.events), `protocols ${JSON.stringify(d.protocols)} lack ${PROTOCOLS.events}`)
    }
    return c.failures
  }
}
