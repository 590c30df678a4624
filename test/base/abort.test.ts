/** The waiting helpers of src/base/abort.ts: cut short by a signal, never left hanging. */
import test from 'ava'
import { raceAbort, sleep, sleepUntil, withDeadline } from '../../src/base/abort.ts'
import { ManualClock } from '../../src/base/clock.ts'

test('sleep returns at once on an aborted signal and early when the signal aborts', async t => {
  await sleep(60_000, { signal: AbortSignal.abort() })
  const ac = new AbortController()
  const waiting = sleep(60_000, { signal: ac.signal })
  ac.abort()
  await waiting
  t.pass()
})

test('sleepUntil follows the injected clock, not the timer', async t => {
  const clock = new ManualClock(1_000_000)
  let done = false
  const waiting = sleepUntil(clock, 1_000_000 + 5_000, { until: () => false }).then(() => { done = true })
  await sleep(20)
  t.false(done, 'the clock has not moved')
  clock.advance(5_000)
  await waiting
  t.true(done)
})

test('sleepUntil stops when until() holds or the signal aborts', async t => {
  const clock = new ManualClock()
  let ready = false
  const waiting = sleepUntil(clock, clock.nowUs() + 60e6, { until: () => ready })
  ready = true
  await waiting
  const ac = new AbortController()
  const second = sleepUntil(clock, clock.nowUs() + 60e6, { signal: ac.signal })
  ac.abort()
  await second
  await sleepUntil(clock, clock.nowUs() - 1)
  t.pass()
})

test('withDeadline aborts with a TimeoutError, or with the caller\'s reason first', async t => {
  const deadline = withDeadline(1)
  await new Promise(resolve => { deadline.addEventListener('abort', resolve, { once: true }) })
  t.is((deadline.reason as Error).name, 'TimeoutError')
  const ac = new AbortController()
  const both = withDeadline(60_000, ac.signal)
  ac.abort(new Error('caller'))
  t.is((both.reason as Error).message, 'caller')
})

test('raceAbort settles like the promise, or rejects with the signal\'s reason', async t => {
  t.is(await raceAbort(Promise.resolve(1)), 1)
  t.is(await raceAbort(Promise.resolve(2), new AbortController().signal), 2)
  const ac = new AbortController()
  const pending = raceAbort(new Promise(() => {}), ac.signal)
  ac.abort(new Error('stop'))
  await t.throwsAsync(pending, { message: 'stop' })
  await t.throwsAsync(raceAbort(Promise.resolve(3), AbortSignal.abort(new Error('already'))), { message: 'already' })
})
