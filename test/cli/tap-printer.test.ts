import test from 'ava'
import { TapPrinter, batchJson } from '../../src/cli/tap-printer.ts'
import type { Delivery } from '../../src/wire/inbox.ts'

function delivery (count: number, weighted = false): Delivery {
  const channels = Uint32Array.from({ length: count }, (_, i) => i % 3)
  const times = Float64Array.from({ length: count }, (_, i) => 1_700_000_000_000_000 + i * 10)
  const values = weighted ? Float32Array.from({ length: count }, (_, i) => i / 2) : undefined
  return { peer: '12D3KooWpeer', port: 'spikes', to: 'spikes', batch: { type: 'batch', seq: 0, base: times[0], count, channels, times, values } }
}

test('batchJson writes one parseable line per event, with values only on weighted ports', t => {
  const lines = batchJson(delivery(3)).trimEnd().split('\n').map(l => JSON.parse(l) as unknown)
  t.deepEqual(lines[1], { peer: '12D3KooWpeer', port: 'spikes', channel: 1, time_us: 1_700_000_000_000_010 })
  const weighted = batchJson(delivery(3, true)).trimEnd().split('\n').map(l => JSON.parse(l) as unknown)
  t.deepEqual(weighted[2], { peer: '12D3KooWpeer', port: 'spikes', channel: 2, time_us: 1_700_000_000_000_020, value: 1 })
})

test('whole batches are counted, not printed, while the sink is over its bound; printing resumes after', t => {
  const sink = { writableLength: 0, writes: [] as string[], write (s: string) { this.writes.push(s) } }
  const notices: boolean[] = []
  const p = new TapPrinter({ json: true, sink, maxBuffered: 1000, onSkip: s => { notices.push(s) } })
  p.batch(delivery(5))
  sink.writableLength = 5000
  p.batch(delivery(7))
  p.batch(delivery(2))
  sink.writableLength = 10
  p.batch(delivery(4))
  t.is(sink.writes.length, 2)
  t.is(p.printedEvents, 9)
  t.is(p.notPrintedEvents, 9)
  t.is(p.notPrintedBatches, 2)
  t.deepEqual(notices, [true, false])
})

test('quiet prints nothing and counts nothing as not printed', t => {
  const sink = { writableLength: 0, writes: [] as string[], write (s: string) { this.writes.push(s) } }
  const p = new TapPrinter({ json: false, quiet: true, sink })
  p.batch(delivery(5))
  t.deepEqual([sink.writes.length, p.printedEvents, p.notPrintedEvents], [0, 0, 0])
})
