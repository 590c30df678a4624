/**
 * authorization-refused: the listener has an out port `private` that no peer may subscribe to and an in
 * port `stim` that no peer may push into (spec §11.2); the dialer, a peer the listener does not know,
 * tries them, then subscribes to the open port `spikes` as a control.
 *
 * Params: attempts [{mode, port}] (push only when the dialer can push), control (port name).
 * Dialer result: `attempts` [{mode, port, outcome: "rejected" | "accepted" | "failed", code}],
 * `control` ("accepted" or what happened).
 */
import { Checks } from './types.ts'
import type { Scenario } from './types.ts'

interface Attempt { mode?: unknown, port?: unknown, outcome?: unknown, code?: unknown }

export const authorizationRefused: Scenario = {
  id: 'authorization-refused',
  title: 'Opens refused for an unknown peer',
  summary: 'The dialer subscribes to a port closed to it (and pushes into an in port nobody may push into); both are refused; a subscription to an open port still works.',
  criteria: [
    'every attempt on a closed port ends with reject{unauthorized}',
    'the control subscription to the open port is accepted'
  ],
  requires: { dialer: ['subscribe'], listener: ['subscribe', 'authorization'] },
  plan: pair => {
    const attempts: Array<{ mode: string, port: string }> = [{ mode: 'subscribe', port: 'private' }]
    if (pair.dialer.features.includes('push') && pair.listener.features.includes('push')) attempts.push({ mode: 'push', port: 'stim' })
    return {
      ports: [
        { name: 'spikes', direction: 'out', kind: 'spike', channels: 4 },
        { name: 'private', direction: 'out', kind: 'spike', channels: 4, allow: 'none' },
        { name: 'stim', direction: 'in', kind: 'spike', channels: 4, allow: 'none' }
      ],
      params: { attempts, control: 'spikes' }
    }
  },
  check: o => {
    const c = new Checks()
    const want = o.plan.params.attempts as Array<{ mode: string, port: string }>
    const got = (o.dialer.result?.attempts ?? []) as Attempt[]
    for (const w of want) {
      const a = got.find(x => x.mode === w.mode && x.port === w.port)
      c.that(a !== undefined && a.outcome === 'rejected' && a.code === 'unauthorized',
        `${w.mode} ${w.port}: want reject{unauthorized}, got ${JSON.stringify(a ?? 'nothing')}`)
    }
    c.equal(o.dialer.result?.control, 'accepted', 'the control subscription')
    return c.failures
  }
}
