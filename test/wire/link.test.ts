/**
 * ReconnectingLink (src/wire/link.ts) and reconnectLoop (src/wire/reconnect.ts) with scripted sessions:
 * status order, backoff, giving up, close at every stage. Waits between attempts are injected and
 * recorded, so no test depends on timers.
 */
import test from 'ava'
import { LinkClosedError } from '../../src/wire/errors.ts'
import { ReconnectingLink } from '../../src/wire/link.ts'
import type { ReconnectingLinkInit } from '../../src/wire/link.ts'
import { backoffDelay } from '../../src/wire/reconnect.ts'
import type { LinkStatus, Session } from '../../src/wire/reconnect.ts'

class Refused extends Error {
  readonly code: string
  constructor (code: string) {
    super(`refused: ${code}`)
    this.code = code
  }
}

/** One scripted session: it ends when the test says so; close() ends it cleanly. */
class Scripted {
  readonly ended = Promise.withResolvers<Error | undefined>()
  closes = 0
  /** The code each close asked the session to end with. */
  readonly codes: string[] = []
  session (): Session {
    return { ended: this.ended.promise, close: async code => { this.closes++; this.codes.push(code); this.ended.resolve(undefined) } }
  }
}

type Step = Error | Scripted | 'hang'

class TestLink extends ReconnectingLink {
  readonly statuses: LinkStatus[] = []
  readonly delays: number[] = []
  readonly steps: Step[]
  opens = 0
  ended: Error | undefined | null = null

  constructor (steps: Step[], init: Partial<ReconnectingLinkInit> = {}, wait?: ReconnectingLinkInit['wait']) {
    super({
      name: 'test link',
      random: () => 0,
      reconnect: { initialDelayMs: 100, factor: 2, maxDelayMs: 1000 },
      wait: wait ?? (async ms => { this.delays.push(ms) }),
      ...init
    })
    this.steps = steps
    this.addEventListener('status', e => { this.statuses.push(e.detail) })
    this.start()
  }

  protected override async openSession (signal: AbortSignal): Promise<Session> {
    this.opens++
    const step = this.steps.shift()
    if (step === undefined || step === 'hang') {
      // Connecting until the link is closed, like a dial that does not answer.
      return await new Promise<Session>((_resolve, reject) => {
        signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
      })
    }
    if (step instanceof Error) throw step
    this.markReady()
    return step.session()
  }

  protected override onEnd (err: Error | undefined): void {
    this.ended = err
  }

  get states (): string[] {
    return this.statuses.map(s => s.state === 'retrying' ? `retrying#${s.attempt}` : s.state)
  }
}

/** Let the link's promise chains run. */
async function turn (): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
}

test('a link opens, becomes ready, and close() ends the session gracefully', async t => {
  const s = new Scripted()
  const link = new TestLink([s])
  await link.ready()
  t.is(link.state, 'open')
  await link.close()
  t.is(s.closes, 1)
  t.deepEqual(s.codes, ['normal'])
  t.is(link.state, 'closed')
  t.is(link.error, undefined)
  t.is(link.ended, undefined, 'onEnd ran')
  t.deepEqual(link.states, ['connecting', 'open', 'closed'])
})

test('shutdown() ends the session with the shutdown code and the link like close()', async t => {
  const s = new Scripted()
  const link = new TestLink([s, new Scripted()])
  await link.ready()
  await link.shutdown()
  t.deepEqual(s.codes, ['shutdown'])
  t.is(link.state, 'closed')
  t.is(link.error, undefined)
  t.is(link.opens, 1, 'no reconnect after shutdown')
  t.deepEqual(link.states, ['connecting', 'open', 'closed'])
})

test('failed attempts back off exponentially up to the cap; a session that held for stableMs resets the count', async t => {
  const s1 = new Scripted()
  const s2 = new Scripted()
  let nowMs = 0
  const link = new TestLink([new Error('a'), new Error('b'), new Error('c'), new Error('d'), new Error('e'), s1, s2], {
    reconnect: { initialDelayMs: 100, factor: 2, maxDelayMs: 1000, stableMs: 5000 },
    now: () => nowMs
  })
  await link.ready()
  t.deepEqual(link.delays, [100, 200, 400, 800, 1000])
  await turn()
  nowMs += 5000
  s1.ended.resolve(new Error('lost'))
  await turn()
  t.deepEqual(link.delays.slice(5), [100], 'after a session that held the wait starts again from the first')
  const retrying = link.statuses.filter(s => s.state === 'retrying')
  t.deepEqual(retrying.map(s => s.attempt), [1, 2, 3, 4, 5, 0])
  t.is(retrying.at(-1)!.error?.message, 'lost')
  t.is(link.opens, 7)
  await link.close()
})

test('sessions that open and fail at once back off like failed connects (a peer that fails every session)', async t => {
  const sessions = Array.from({ length: 6 }, () => new Scripted())
  let nowMs = 0
  const link = new TestLink([...sessions], { reconnect: { initialDelayMs: 100, factor: 2, maxDelayMs: 1000, stableMs: 5000 }, now: () => nowMs })
  for (const [i, s] of sessions.entries()) {
    await link.ready()
    await turn()
    t.is(link.opens, i + 1)
    nowMs += 10 // each session fails 10 ms after it opened: an invalid answer, an immediate close
    s.ended.resolve(i % 2 === 0 ? new Error('invalid-message') : undefined)
    await turn()
  }
  t.deepEqual(link.delays, [100, 200, 400, 800, 1000, 1000], 'clean or not, a short session is one more failure')
  t.deepEqual(link.statuses.filter(s => s.state === 'retrying').map(s => s.attempt), [1, 2, 3, 4, 5, 6])
  await link.close()
})

test('jitter takes up to the configured fraction off each wait', t => {
  t.is(backoffDelay(1, { initialDelayMs: 100, jitter: 0.5 }, () => 1), 50)
  t.is(backoffDelay(1, { initialDelayMs: 100, jitter: 0.5 }, () => 0), 100)
  t.is(backoffDelay(10, { initialDelayMs: 100, maxDelayMs: 5000, jitter: 0 }), 5000)
  t.is(backoffDelay(3, { initialDelayMs: 10, factor: 3, jitter: 0 }), 90)
})

test('an error retrying cannot fix ends the link at once with that error', async t => {
  const link = new TestLink([new Refused('unauthorized')], { isPermanent: err => err instanceof Refused })
  const err = await t.throwsAsync(link.ready())
  t.true(err instanceof Refused)
  await link.done()
  t.is(link.error, err)
  t.is(link.opens, 1)
  t.deepEqual(link.delays, [])
  t.deepEqual(link.states, ['connecting', 'closed'])
  t.is(link.statuses.at(-1)!.error, err)
})

test('a permanent error at the end of an open session ends the link too', async t => {
  const s = new Scripted()
  const link = new TestLink([s], { isPermanent: err => err instanceof Refused })
  await link.ready()
  s.ended.resolve(new Refused('kind-mismatch'))
  await link.done()
  t.is((link.error as Refused).code, 'kind-mismatch')
  t.deepEqual(link.states, ['connecting', 'open', 'closed'])
})

test('maxAttempts gives up after that many consecutive failures, with the last error', async t => {
  const link = new TestLink([new Error('1'), new Error('2'), new Error('3'), new Scripted()], { reconnect: { maxAttempts: 3, initialDelayMs: 1 } })
  await link.done()
  t.is(link.error?.message, '3')
  t.is(link.opens, 3)
  t.deepEqual(link.states, ['connecting', 'retrying#1', 'connecting', 'retrying#2', 'connecting', 'closed'])
  const err = await t.throwsAsync(link.ready())
  t.is(err?.message, '3')
})

test('reconnect: false ends the link with its first session, even on an error that could be retried', async t => {
  const s = new Scripted()
  const link = new TestLink([s, new Scripted()], { reconnect: false })
  await link.ready()
  s.ended.resolve(new Error('lost'))
  await link.done()
  t.is(link.error?.message, 'lost')
  t.is(link.opens, 1)
})

test('reconnect: false ends the link when the first connect fails', async t => {
  const link = new TestLink([new Error('no route'), new Scripted()], { reconnect: false })
  await t.throwsAsync(link.ready(), { message: 'no route' })
  t.is(link.opens, 1)
  t.deepEqual(link.delays, [])
})

test('close while connecting: the link ends without an error and ready() rejects with link-closed', async t => {
  const link = new TestLink(['hang'])
  await turn()
  t.is(link.state, 'connecting')
  await link.close()
  t.is(link.state, 'closed')
  t.is(link.error, undefined, 'the abort of the pending connect is not a failure of the link')
  const err = await t.throwsAsync(link.ready())
  t.true(err instanceof LinkClosedError)
  t.is((err as LinkClosedError).code, 'link-closed')
  t.deepEqual(link.states, ['connecting', 'closed'])
})

test('close while waiting to retry stops the wait and tries no more; the last failure is kept', async t => {
  const waiting = Promise.withResolvers<void>()
  const link = new TestLink([new Error('down'), new Scripted()], {}, async (_ms, { signal }) => {
    waiting.resolve()
    await new Promise(resolve => { signal.addEventListener('abort', resolve, { once: true }) })
  })
  await waiting.promise
  t.is(link.state, 'retrying')
  await link.close()
  t.is(link.opens, 1)
  t.is(link.state, 'closed')
  t.is(link.error?.message, 'down')
})

test('the signal given at creation closes the link; an aborted one closes it before any attempt', async t => {
  const ac = new AbortController()
  const s = new Scripted()
  const link = new TestLink([s], { signal: ac.signal })
  await link.ready()
  ac.abort()
  await link.done()
  t.is(s.closes, 1)
  t.is(link.state, 'closed')

  const never = new TestLink([new Scripted()], { signal: AbortSignal.abort() })
  await never.done()
  t.is(never.opens, 0)
  await t.throwsAsync(never.ready(), { instanceOf: LinkClosedError })
})

test('close() twice and close() after the end are harmless', async t => {
  const link = new TestLink([new Scripted()])
  await link.ready()
  await Promise.all([link.close(), link.close()])
  await link.close()
  t.deepEqual(link.states, ['connecting', 'open', 'closed'])
})
