import test from 'ava'
import { SystemClock } from '../../src/base/clock.ts'
import { PreciseTimer } from '../../src/netem/precise-timer.ts'
import { median, sleep } from './helpers.ts'

const clock = new SystemClock()

async function fireAt (timer: { schedule(due: number): void }, fired: Promise<number>, inMs: number): Promise<number> {
  const due = clock.nowUs() + inMs * 1000
  timer.schedule(due)
  return (await fired) - due
}

test.serial('never fires before the due time; with spinning it is late by well under 1 ms', async t => {
  for (const spinMs of [1, 0]) {
    const late: number[] = []
    for (let i = 0; i < 20; i++) {
      let resolve: (us: number) => void = () => {}
      const fired = new Promise<number>(r => { resolve = r })
      const timer = new PreciseTimer(clock, () => { resolve(clock.nowUs()) }, spinMs)
      late.push(await fireAt(timer, fired, 2 + (i % 5) * 0.3))
      timer.stop()
    }
    t.log(`spinMs ${spinMs}: lateness median ${(median(late) / 1000).toFixed(4)} ms, max ${(Math.max(...late) / 1000).toFixed(4)} ms`)
    t.true(Math.min(...late) >= 0)
    if (spinMs > 0) t.true(median(late) < 500, `median lateness ${median(late)} µs`)
  }
})

test.serial('the earliest request wins and stop() cancels', async t => {
  const fires: number[] = []
  const timer = new PreciseTimer(clock, now => { fires.push(now) })
  const now = clock.nowUs()
  timer.schedule(now + 30_000)
  timer.schedule(now + 5_000)
  timer.schedule(now + 20_000) // later than the pending one: ignored
  await sleep(12)
  t.is(fires.length, 1)
  t.true(fires[0] >= now + 5_000)
  timer.schedule(clock.nowUs() + 5_000)
  timer.stop()
  await sleep(15)
  t.is(fires.length, 1)
  timer.schedule(clock.nowUs())
  await sleep(5)
  t.is(fires.length, 1, 'a stopped timer stays stopped')
})
