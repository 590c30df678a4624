/**
 * `spikewire tap` shows the protocol errors behind its reconnects: every close the publisher sent, every
 * refusal, stream errors and failed attempts, counted by code in the summary (text and --json); and a tap
 * that never subscribed exits 1 so a script can tell it from a quiet port. Real child processes.
 */
import test from 'ava'
import { join } from 'node:path'
import type { Stream } from '@libp2p/interface'
import { EVENTS_PROTOCOL, FrameDecoder, decodeMessage, encodeFrame } from '../../src/codec/index.ts'
import type { Message } from '../../src/codec/index.ts'
import { createDelayProxy } from '../../src/netem/index.ts'
import { startAdversary } from '../helpers/adversary.ts'
import { cli, freePort, publisherConfig, startNode, tempDir, writeJson } from './helpers.ts'

const FAKE_PEER = '12D3KooWHJvQfsXmiU3gizLUc13sTgJ3vHZFTDtV5ex2LBzdVyfu'
const T = 1_800_000_000_000_000

type Summary = Record<string, unknown> & {
  closes: Record<string, number>
  rejects: Record<string, number>
  stream_errors: Record<string, number>
  connect_errors: Record<string, number>
}

const total = (c: Record<string, number>): number => Object.values(c).reduce((a, b) => a + b, 0)

test('a tap that never reaches its node exits 1 after --duration, its failed attempts counted by code', async t => {
  const addr = `/ip4/127.0.0.1/tcp/${await freePort()}/p2p/${FAKE_PEER}`
  const json = cli(t, ['tap', addr, 'spikes', '--json', '--duration', '1.5', '--max-backoff', '0.2'])
  const human = cli(t, ['tap', addr, 'spikes', '--duration', '1.5', '--max-backoff', '0.2'])
  const [j, h] = await Promise.all([json.exit(20_000), human.exit(20_000)])

  t.is(j.code, 1, json.stderr)
  const summary = json.json.find(l => l.summary === true) as Summary | undefined
  t.truthy(summary, json.stdout)
  t.is(summary!.events, 0)
  t.is(summary!.streams, 0)
  t.is(summary!.ended, 'duration')
  t.true(total(summary!.connect_errors) >= 1, JSON.stringify(summary!.connect_errors))
  t.true(Object.keys(summary!.connect_errors).some(k => /ECONNREFUSED/.test(k)), JSON.stringify(summary!.connect_errors))
  t.deepEqual([summary!.closes, summary!.rejects, summary!.stream_errors], [{}, {}, {}])
  t.regex(json.stderr, /^spikewire tap: SpikewireError timeout: never subscribed to spikes at \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\w+ in the [\d.]+ s it ran \(last error: .*ECONNREFUSED.*\)$/m)

  t.is(h.code, 1, human.stderr)
  t.regex(human.stdout, /^summary: 0 events in .*; failed attempts: \S*ECONNREFUSED\S* ×\d+; never subscribed$/m)
})

test('the summary counts each close, reject and stream error of a scripted publisher by code', async t => {
  // The publisher answers each open differently, in this order, then keeps the last stream open.
  const script: Array<(stream: Stream, port: string) => void> = [
    (s, port) => {
      s.send(encodeFrame({ type: 'accept', port, kind: 'spike', channels: 2, time: T }))
      s.send(encodeFrame({ type: 'batch', seq: 0, base: T, count: 2, channels: Uint32Array.of(0, 1), times: Float64Array.of(T, T + 5) }))
      s.send(encodeFrame({ type: 'close', code: 'slow-consumer', reason: 'scripted' }))
      void s.close().catch(() => {})
    },
    s => {
      s.send(encodeFrame({ type: 'close', code: 'shutdown' }))
      void s.close().catch(() => {})
    },
    s => {
      s.send(encodeFrame({ type: 'reject', code: 'too-many-streams', reason: 'full' }))
      void s.close().catch(() => {})
    },
    (s, port) => {
      s.send(encodeFrame({ type: 'accept', port, kind: 'spike', channels: 2, time: T }))
      s.send(encodeFrame({ type: 'close', code: 4000 }))
      void s.close().catch(() => {})
    },
    (s, port) => {
      s.send(encodeFrame({ type: 'accept', port, kind: 'spike', channels: 2, time: T }))
      s.send(encodeFrame({ type: 'close', code: 'normal' }))
      void s.close().catch(() => {})
    },
    (s, port) => {
      // Ends its write side without a close: the tap must count a failed stream (spec §9.2.10).
      s.send(encodeFrame({ type: 'accept', port, kind: 'spike', channels: 2, time: T }))
      void s.close().catch(() => {})
    },
    (s, port) => {
      s.send(encodeFrame({ type: 'accept', port, kind: 'spike', channels: 2, time: T }))
    }
  ]
  const server = await startAdversary(t)
  let opens = 0
  await server.handle(EVENTS_PROTOCOL, stream => {
    const decoder = new FrameDecoder()
    stream.addEventListener('message', evt => {
      try {
        for (const body of decoder.push(evt.data)) {
          const msg: Message = decodeMessage(body)
          if (msg.type === 'open') script[Math.min(opens++, script.length - 1)](stream, msg.port)
          else if (msg.type === 'close') void stream.close().catch(() => {})
        }
      } catch (err) {
        stream.abort(err as Error)
      }
    })
    stream.addEventListener('remoteCloseWrite', () => { void stream.close().catch(() => {}) })
  })
  const addr = server.getMultiaddrs()[0].toString()
  const tap = cli(t, ['tap', addr, 'spikes', '--json', '--max-backoff', '0.2'])
  await tap.until(() => opens >= script.length && tap.errJson.filter(l => l.state === 'open').length >= 5, 20_000, 'the scripted opens')
  tap.kill('SIGINT')
  t.is((await tap.exit(20_000)).code, 0, tap.stderr)
  const summary = tap.json.find(l => l.summary === true) as Summary
  t.truthy(summary, tap.stdout)
  t.is(summary.events, 2)
  t.is(summary.streams, 5)
  t.is(summary.ended, 'signal')
  t.deepEqual(summary.closes, { 'slow-consumer': 1, shutdown: 1, 4000: 1, normal: 1 })
  t.deepEqual(summary.rejects, { 'too-many-streams': 1 })
  t.deepEqual(summary.stream_errors, { 'unexpected-message': 1 })
  t.deepEqual(summary.connect_errors, {})
  t.like(tap.errJson.find(l => l.event === 'close'), { code: 'slow-consumer', reason: 'scripted' })
  t.deepEqual(tap.errJson.filter(l => l.event === 'close').map(l => l.code), ['slow-consumer', 'shutdown', 4000, 'normal'])
})

test('a tap refused with too-many-streams for its whole run exits 1 and counts the refusals', async t => {
  const dir = await tempDir(t)
  const { addr } = await startNode(t, await writeJson(join(dir, 'pub.json'), publisherConfig('/ip4/127.0.0.1/tcp/0', { limits: { maxStreamsPerPort: 1 } })))
  const first = cli(t, ['tap', addr, 'spikes', '--json', '--quiet'])
  await first.until(() => first.errJson.some(l => l.state === 'open'), 20_000, 'the first tap to subscribe')
  const second = cli(t, ['tap', addr, 'spikes', '--json', '--duration', '2', '--max-backoff', '0.3'])
  t.is((await second.exit(20_000)).code, 1, second.stderr)
  const summary = second.json.find(l => l.summary === true) as Summary
  t.truthy(summary, second.stdout)
  t.is(summary.streams, 0)
  t.true((summary.rejects['too-many-streams'] ?? 0) >= 1, JSON.stringify(summary))
  t.regex(second.stderr, /SpikewireError timeout: never subscribed to spikes .*too-many-streams/)
  first.kill('SIGINT')
  t.is((await first.exit(20_000)).code, 0, first.stderr)
  t.like(first.json.find(l => l.summary === true), { streams: 1, closes: {}, rejects: {} })
})

test('a connection killed under the tap is counted as a stream error (no close came), and the tap reconnects', async t => {
  const dir = await tempDir(t)
  const { peer, addr } = await startNode(t, await writeJson(join(dir, 'pub.json'), publisherConfig('/ip4/127.0.0.1/tcp/0')))
  const port = Number(/\/tcp\/(\d+)\//.exec(addr)![1])
  // Both TCP sockets reset by a proxy in between: no stream reset and no muxer go-away reach the tap.
  const proxy = await createDelayProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port } })
  t.teardown(async () => { await proxy.close() })
  const tap = cli(t, ['tap', `/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${peer}`, 'spikes', '--json', '--max-backoff', '0.2'])
  await tap.until(() => tap.json.filter(l => l.summary === undefined).length >= 5, 20_000, 'events through the proxy')
  t.true(proxy.cut() >= 1)
  await tap.until(() => tap.errJson.filter(l => l.state === 'open').length >= 2, 20_000, 'the tap to reconnect')
  tap.kill('SIGINT')
  t.is((await tap.exit(20_000)).code, 0, tap.stderr)
  const summary = tap.json.find(l => l.summary === true) as Summary
  t.truthy(summary, tap.stdout)
  t.is(summary.streams, 2)
  t.is(summary.reconnects, 1)
  t.deepEqual(summary.stream_errors, { 'unexpected-message': 1 })
  t.deepEqual(summary.closes, {})
  t.regex(tap.stderr, /unexpected-message/)
})
