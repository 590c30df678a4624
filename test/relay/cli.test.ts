/**
 * The relay from the command line, as real child processes: `spikewire relay` with --json --stats,
 * `spikewire node` with "relays" in its config and no listen address of its own (its start line shows the
 * relayed address), and `spikewire tap` and `describe` through the relay; the relay's statistics count the
 * reservation and the relayed bytes, and SIGTERM stops it cleanly with a final report.
 */
import test from 'ava'
import { join } from 'node:path'
import { cli, publisherConfig, run, startNode, tempDir, writeJson } from '../cli/helpers.ts'

test('spikewire relay + spikewire node with relays + spikewire tap through the relay', async t => {
  const dir = await tempDir(t)
  const relayConfig = await writeJson(join(dir, 'relay.json'), { name: 'hub', listen: ['/ip4/127.0.0.1/tcp/0'], identity: 'relay.key', reservations: '*', list: true })
  const relay = cli(t, ['relay', '--config', relayConfig, '--json', '--stats', '0.5'])
  await relay.until(() => relay.json.some(l => l.event === 'started'), 20_000, 'the relay to start')
  const started = relay.json.find(l => l.event === 'started')!
  t.is(started.name, 'hub')
  const relayAddr = (started.multiaddrs as string[])[0]
  t.regex(relayAddr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW\w+$/)

  const { peer, addr } = await startNode(t, await writeJson(join(dir, 'pub.json'), { ...publisherConfig('/ip4/127.0.0.1/tcp/0'), listen: [], relays: [relayAddr] }))
  t.is(addr, `${relayAddr}/p2p-circuit/p2p/${peer}`, 'the start line shows the relayed address')

  const tap = await run(t, ['tap', addr, 'spikes', '--json', '--duration', '2'], 30_000)
  t.is(tap.code, 0, tap.stderr)
  const summary = JSON.parse(tap.stdout.trimEnd().split('\n').at(-1)!) as Record<string, number | boolean>
  t.is(summary.summary, true)
  t.true((summary.events as number) > 100, `events ${String(summary.events)}`)
  t.is(summary.gaps, 0)
  t.is(summary.losses, 0)
  t.is(summary.reconnects, 0)

  const describe = await run(t, ['describe', addr, '--json'], 30_000)
  t.is(describe.code, 0, describe.stderr)
  t.is((JSON.parse(describe.stdout) as { name: string }).name, 'pub')

  await relay.until(() => relay.json.some(l => l.event === 'stats' && (l.relayed as { total: number }).total >= 2 && (l.reservations as { held: number }).held === 1), 20_000, 'stats with the relayed connections')
  relay.child.kill('SIGTERM')
  t.is((await relay.exit(20_000)).code, 0, relay.stderr)
  const final = relay.json.find(l => l.event === 'stats' && l.final === true)!
  const relayed = final.relayed as { total: number, bytesToReserved: number, bytesFromReserved: number, limited: number }
  t.true(relayed.bytesFromReserved > relayed.bytesToReserved && relayed.bytesToReserved > 0, JSON.stringify(relayed))
  t.is(relayed.limited, 0)
  t.is(relay.json.at(-1)!.event, 'stopped')
})

test('spikewire relay refuses a config with an unknown field or no reservations, naming it (exit 1)', async t => {
  const dir = await tempDir(t)
  const bad = await run(t, ['relay', '--config', await writeJson(join(dir, 'r.json'), { reservations: '*', limts: {} })])
  t.is(bad.code, 1)
  t.regex(bad.stderr, /relay\.limts is not a known field/)
  const none = await run(t, ['relay', '--config', await writeJson(join(dir, 'n.json'), { listen: ['/ip4/127.0.0.1/tcp/0'] })])
  t.is(none.code, 1)
  t.regex(none.stderr, /relay\.reservations is required/)
  const usage = await run(t, ['relay'])
  t.is(usage.code, 2)
})
