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

test('the memory, clock-server and flush limits are config fields with the ranges of wire/defaults.ts', t => {
  const c = parseConfig({
    name: 'x',
    flushIntervalUs: 0,
    limits: { queueBytes: 1 << 20, inboxBytes: 1 << 20, clockIdleMs: 30_000, clockRequestsPerSecond: 50, clockBurst: 16 }
  })
  t.deepEqual(c.limits, { queueBytes: 1 << 20, inboxBytes: 1 << 20, clockIdleMs: 30_000, clockRequestsPerSecond: 50, clockBurst: 16 })
  t.is(c.flushIntervalUs, 0)
  for (const [field, value] of [['queueBytes', 1024], ['inboxBytes', 2 ** 31], ['clockIdleMs', 10], ['clockRequestsPerSecond', 0], ['clockBurst', 1.5]] as const) {
    const err = t.throws(() => parseConfig({ name: 'x', limits: { [field]: value } }), { instanceOf: ConfigError })
    t.regex(err!.message, new RegExp(`config\\.limits\\.${field}`))
  }
  t.regex(t.throws(() => parseConfig({ name: 'x', flushIntervalUs: -1 }))!.message, /config\.flushIntervalUs/)
})
