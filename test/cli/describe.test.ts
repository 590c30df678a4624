/**
 * `spikewire describe` against a node that answers close{code} instead of a description (spec §9.1 allows
 * close{unauthorized}): the command reports the close's code and exits 1. Real child processes; the
 * listener is a scripted libp2p peer in the test process.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { DESCRIBE_PROTOCOL, FrameDecoder, decodeMessage, encodeFrame } from '../../src/codec/index.ts'
import type { Message } from '../../src/codec/index.ts'
import { startAdversary } from '../helpers/adversary.ts'
import { run } from './helpers.ts'

/** A describe listener that answers every describe-request with `answer` and then ends its write side. */
async function listener (t: ExecutionContext, answer: Message | undefined): Promise<string> {
  const server = await startAdversary(t)
  await server.handle(DESCRIBE_PROTOCOL, stream => {
    const decoder = new FrameDecoder()
    stream.addEventListener('message', evt => {
      try {
        for (const body of decoder.push(evt.data)) {
          if (decodeMessage(body).type !== 'describe-request') continue
          if (answer !== undefined) stream.send(encodeFrame(answer))
          void stream.close().catch(() => {})
        }
      } catch (err) {
        stream.abort(err as Error)
      }
    })
  })
  return server.getMultiaddrs()[0].toString()
}

test('describe reports close{unauthorized} by its code and exits 1', async t => {
  const addr = await listener(t, { type: 'close', code: 'unauthorized', reason: 'not for you' })
  const [text, json] = await Promise.all([run(t, ['describe', addr]), run(t, ['describe', addr, '--json'])])
  for (const r of [text, json]) {
    t.is(r.code, 1, r.stderr)
    t.is(r.stdout, '')
    t.regex(r.stderr, /^spikewire describe: RemoteCloseError: the peer closed the stream with unauthorized: not for you\n$/)
    t.notRegex(r.stderr, /unexpected-message/)
  }
})

test('describe reports an unregistered close code by its number', async t => {
  const addr = await listener(t, { type: 'close', code: 4000 })
  const r = await run(t, ['describe', addr])
  t.is(r.code, 1, r.stderr)
  t.regex(r.stderr, /^spikewire describe: RemoteCloseError internal-error: the peer closed the stream with 4000\n$/)
})

test('describe fails at once, not after its timeout, when the listener ends the stream without answering', async t => {
  const addr = await listener(t, undefined)
  const r = await run(t, ['describe', addr, '--timeout', '30'], 25_000)
  t.is(r.code, 1, r.stderr)
  t.regex(r.stderr, /^spikewire describe: StreamError unexpected-message: the stream ended before description\n$/)
})
