import test from 'ava'
import { parseConfig } from '../../src/hosting/config.ts'
import { ConfigError } from '../../src/node/errors.ts'

const withSource = (source: Record<string, unknown>): unknown => ({ name: 'x', ports: [{ name: 'spikes', direction: 'out', channels: 3, source }] })

test('a replay source takes start "first-subscriber" or "now", and names the field when it is anything else', t => {
  for (const start of ['first-subscriber', 'now'] as const) {
    const c = parseConfig(withSource({ type: 'replay', file: 'train.csv', start }))
    t.deepEqual(c.ports?.[0].source, { type: 'replay', file: 'train.csv', start })
  }
  t.deepEqual(parseConfig(withSource({ type: 'replay', file: 'train.csv' })).ports?.[0].source, { type: 'replay', file: 'train.csv' })
  for (const start of ['later', 0, null, 'First-Subscriber']) {
    const err = t.throws(() => parseConfig(withSource({ type: 'replay', file: 'train.csv', start })), { instanceOf: ConfigError })
    t.is(err?.code, 'config-invalid')
    t.regex(err!.message, /config\.ports\[0\]\.source\.start.*"first-subscriber" or "now"/)
  }
  // Only the replay source has a start.
  t.regex(t.throws(() => parseConfig(withSource({ type: 'poisson', rateHz: 5, start: 'now' })))!.message, /source\.start/)
})
