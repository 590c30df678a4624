import test from 'ava'
import { join } from 'node:path'
import { cli, freePort, publisherConfig, startNode, tempDir, writeJson } from './helpers.ts'

interface EventLine { peer: string, port: string, channel: number, time_us: number, value?: number }

test('tap --json --duration prints every event and a summary without gaps or losses; text output too', async t => {
  const dir = await tempDir(t)
  const { peer, addr } = await startNode(t, await writeJson(join(dir, 'pub.json'), publisherConfig('/ip4/127.0.0.1/tcp/0')))
  const all = cli(t, ['tap', addr, 'spikes', '--json', '--duration', '2'])
  const some = cli(t, ['tap', addr, 'spikes', '--json', '--duration', '2', '--channels', '2,1'])
  const human = cli(t, ['tap', addr, 'spikes', '--duration', '1'])
  const [a, s, h] = await Promise.all([all.exit(15_000), some.exit(15_000), human.exit(15_000)])
  t.is(a.code, 0, all.stderr)
  t.is(s.code, 0, some.stderr)
  t.is(h.code, 0, human.stderr)

  const events = all.json.filter(l => l.summary === undefined) as unknown as EventLine[]
  const summary = all.json.at(-1)!
  t.is(summary.summary, true)
  t.true((summary.events as number) > 100, `events ${String(summary.events)}`)
  t.is(events.length, summary.events as number)
  t.is(summary.printed, summary.events)
  t.is(summary.not_printed, 0)
  t.is(summary.gaps, 0)
  t.is(summary.losses, 0)
  t.is(summary.reconnects, 0, all.stderr)
  t.is(summary.ended, 'duration')
  t.true(Math.abs((summary.duration_s as number) - 2) < 0.5)
  t.true(Math.abs((summary.rate as number) - (summary.events as number) / (summary.duration_s as number)) < 1)
  t.deepEqual([...new Set(events.map(e => e.channel))].sort(), [0, 1, 2, 3])
  for (let i = 0; i < events.length; i++) {
    const e = events[i]
    t.true(e.peer === peer && e.port === 'spikes' && Number.isInteger(e.time_us) && e.value === undefined, JSON.stringify(e))
    if (i > 0) t.true(e.time_us >= events[i - 1].time_us, 'times are in order')
  }
  const filtered = some.json.filter(l => l.summary === undefined) as unknown as EventLine[]
  t.true(filtered.length > 0)
  t.deepEqual([...new Set(filtered.map(e => e.channel))].sort(), [1, 2])
  t.true(all.errJson.some(l => l.event === 'status' && l.state === 'open' && l.peer === peer))

  const lines = human.stdout.trimEnd().split('\n')
  t.regex(lines.at(-1)!, /^summary: \d+ events in 1\.\d\d s \([\d.]+ events\/s\), \d+ batches, 0 missing \(gaps\), 0 lost, 0 reconnects/)
  t.true(lines.length > 10)
  for (const l of lines.slice(0, -1)) t.regex(l, /^\d+ us {2}ch [0-3]$/)
  t.regex(human.stderr, /^tap: connecting to \/ip4\/.* spikes$/m)
  t.regex(human.stderr, /^tap: open \(peer 12D3KooW\w+\)$/m)
})

test('when stdout falls behind, whole batches are counted as not printed, never dropped silently', async t => {
  const dir = await tempDir(t)
  const config = publisherConfig('/ip4/127.0.0.1/tcp/0')
  ;(config.ports as Array<Record<string, unknown>>)[0].source = { type: 'poisson', rateHz: 10_000, seed: 3 }
  const { addr } = await startNode(t, await writeJson(join(dir, 'fast.json'), config))
  const tap = cli(t, ['tap', addr, 'spikes', '--json', '--duration', '2'])
  tap.child.stdout!.pause()
  await tap.until(() => tap.errJson.some(l => l.event === 'output' && l.skipping === true), 20_000, 'the tap to skip output')
  tap.child.stdout!.resume()
  t.is((await tap.exit(20_000)).code, 0, tap.stderr)
  const summary = tap.json.at(-1)!
  t.is(summary.summary, true)
  const printed = tap.json.length - 1
  t.true((summary.not_printed as number) > 0)
  t.true((summary.not_printed_batches as number) > 0)
  t.is(summary.printed, printed)
  t.is((summary.printed as number) + (summary.not_printed as number), summary.events as number)
  t.is(summary.gaps, 0)
  t.is(summary.losses, 0)
})

// Serial: alone in this file, so the 10 kHz publisher of the test above does not load the machine meanwhile
// (late spikes come from a loaded machine: this test checks that they are flagged and counted).
test.serial('tap --playout prints events when playout delivers them and adds the playout counts to the summary', async t => {
  const dir = await tempDir(t)
  // 100 events/s: the playout timers of each tap poll the last 2 ms before a delivery, so at the default
  // 800/s three taps would keep both cores busy and starve the publisher.
  const config = publisherConfig('/ip4/127.0.0.1/tcp/0')
  ;(config.ports as Array<Record<string, unknown>>)[0].source = { type: 'poisson', rateHz: 25, seed: 7 }
  const { addr } = await startNode(t, await writeJson(join(dir, 'pub.json'), config))
  const fixed = cli(t, ['tap', addr, 'spikes', '--json', '--duration', '2', '--playout', 'fixed:30'])
  const synaptic = cli(t, ['tap', addr, 'spikes', '--json', '--duration', '2', '--playout', 'synaptic:0'])
  const human = cli(t, ['tap', addr, 'spikes', '--duration', '1', '--playout', 'adaptive', '--late', 'drop'])
  const [f, s, h] = await Promise.all([fixed.exit(15_000), synaptic.exit(15_000), human.exit(15_000)])
  t.is(f.code, 0, fixed.stderr)
  t.is(s.code, 0, synaptic.stderr)
  t.is(h.code, 0, human.stderr)

  const summary = fixed.json.at(-1)!
  const lines = fixed.json.slice(0, -1)
  t.is(summary.playout_mode, 'fixed')
  t.is(summary.playout_delay_us, 30_000)
  t.true((summary.events as number) > 50, `events ${String(summary.events)}`)
  t.is(summary.played, lines.length)
  t.is(summary.printed, lines.length)
  // Every received event is accounted for: played, dropped late, refused by a full queue, or still queued at the end.
  const accounted = ['played', 'late_dropped', 'overflow', 'discarded'].reduce((n, k) => n + (summary[k] as number), 0)
  t.is(accounted, summary.events as number)
  // How many arrive later than D depends on how busy the machine is (playout targets live in bench:playout);
  // what must hold is that each late one is flagged, delivered (the default policy) and counted.
  t.is(summary.late, lines.filter(l => l.late === true).length, 'the summary counts exactly the events delivered late')
  t.log(`late: ${String(summary.late)} of ${String(summary.events)}`)
  for (const l of lines) {
    const e = l as { local_us: number, due_us: number, at_us: number, late: boolean, violation: boolean, time_us: number }
    // On time: due at mapped time + D. Late (arrived after that): due when it arrived, later than that.
    if (e.late) t.true(e.due_us - e.local_us > 30_000 - 1, JSON.stringify(e))
    else t.true(Math.abs(e.due_us - e.local_us - 30_000) <= 1, JSON.stringify(e))
    t.true(e.at_us >= e.due_us - 1, `delivered before its due time: ${JSON.stringify(e)}`)
    t.false(e.violation)
  }
  const times = lines.map(l => l.time_us as number)
  t.deepEqual(times, [...times].sort((a, b) => a - b), 'delivered in time order')

  // A declared delay of 0 is always shorter than the path: events are delay violations, never late. An event
  // counts as on time only where the clock estimate maps its send time after its arrival, i.e. where the
  // estimate's error exceeds the loopback path (about a millisecond): one in ten did on a busy machine (182 of
  // 203 violations in a CI run with one core kept busy), so the bound is a majority, not every event.
  const ss = synaptic.json.at(-1)!
  t.is(ss.playout_mode, 'synaptic')
  t.is(ss.late, 0)
  t.true((ss.violations as number) >= 0.5 * (ss.events as number), `violations ${String(ss.violations)} of ${String(ss.events)}`)
  t.true(synaptic.json.slice(0, -1).every(l => l.violation === true || l.violation === false))

  const text = human.stdout.trimEnd().split('\n')
  t.regex(text.at(-1)!, /; playout adaptive D [\d.]+ ms: \d+ played, \d+ late \(\d+ dropped\), 0 delay violations, 0 overflow, \d+ discarded at the end$/)
  for (const l of text.slice(0, -1)) t.regex(l, /^\d+ us {2}ch [0-3] {2}at \d+ us \(due \+\d+ us\)( {2}LATE)?$/)
})

// Serial: it runs alone in this file, so process start-up under load does not stretch it.
test.serial('a tap survives the publisher process being killed and restarted on the same port and identity', async t => {
  const dir = await tempDir(t)
  const port = await freePort()
  const config = await writeJson(join(dir, 'pub.json'), publisherConfig(`/ip4/127.0.0.1/tcp/${port}`))
  const first = await startNode(t, config)
  const tap = cli(t, ['tap', first.addr, 'spikes', '--json', '--duration', '30', '--max-backoff', '0.5'])
  const eventCount = (): number => tap.json.filter(l => l.channel !== undefined).length
  await tap.until(() => eventCount() >= 50, 20_000, 'events before the kill')

  first.proc.kill('SIGKILL')
  t.is((await first.proc.exit(5000)).signal, 'SIGKILL')
  await tap.until(() => tap.errJson.some(l => l.state === 'retrying'), 20_000, 'the tap to notice the loss')
  const beforeRestart = eventCount()

  const second = await startNode(t, config)
  t.is(second.peer, first.peer)
  t.is(second.addr, first.addr)
  await tap.until(() => tap.errJson.filter(l => l.state === 'open').length >= 2, 20_000, 'the tap to reconnect')
  await tap.until(() => eventCount() >= beforeRestart + 50, 20_000, 'events after the reconnect')
  await tap.until(() => tap.errJson.some(l => l.event === 'gap' && l.reason === 'reconnect'), 20_000, 'the reconnect gap line')

  tap.kill('SIGINT')
  t.is((await tap.exit(20_000)).code, 0, tap.stderr)
  const summary = tap.json.at(-1)!
  t.is(summary.summary, true)
  t.is(summary.ended, 'signal')
  t.true((summary.reconnects as number) >= 1)
  t.true((summary.reconnect_gaps as number) >= 1)
  const gap = tap.errJson.find(l => l.event === 'gap' && l.reason === 'reconnect')!
  t.true((gap.gap_ms as number) > 0)
  t.true((summary.reconnect_gap_ms as number) >= (gap.gap_ms as number))
  t.is(summary.gaps, 0)
  t.is(summary.losses, 0)
  t.is(summary.events, eventCount())
  const statuses = tap.errJson.filter(l => l.event === 'status').map(l => l.state)
  t.deepEqual(statuses.slice(0, 2), ['connecting', 'open'])
  t.true(statuses.indexOf('retrying') > 1 && statuses.lastIndexOf('open') > statuses.indexOf('retrying'), statuses.join(' '))
})
