import test from 'ava'
import { StreamTotals } from '../../src/wire/totals.ts'

test('totals sum the live streams as they count and keep each ended stream\'s final counts once', t => {
  const totals = new StreamTotals(['events', 'batches'] as const)
  const a = { stats: { events: 3, batches: 1 } }
  const b = { stats: { events: 5, batches: 2 } }
  const endA = totals.add(a)
  totals.add(b)
  t.deepEqual(totals.totals(), { events: 8, batches: 3 })
  t.is(totals.live, 2)
  a.stats.events = 4
  t.deepEqual(totals.totals(), { events: 9, batches: 3 }, 'a live stream is read when asked')
  endA()
  endA()
  a.stats.events = 100
  t.deepEqual(totals.totals(), { events: 9, batches: 3 }, 'an ended stream counts once, with its counts at the end')
  t.is(totals.live, 1)
})
