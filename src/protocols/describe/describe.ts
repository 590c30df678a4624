/**
 * /spikewire/describe/1.0.0 (spec §9.1): the dialer sends describe-request, the listener answers with its
 * description and closes the stream.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { DESCRIBE_PROTOCOL, DESCRIBE_TIMEOUT_MS, StreamError } from '../../codec/index.ts'
import type { Description, Message } from '../../codec/index.ts'
import { FramedStream } from '../../wire/framed.ts'
import { parseTarget } from '../../wire/target.ts'
import type { Target } from '../../wire/target.ts'

/** Serve one describe stream with the node's current description. */
export function handleDescribeStream (stream: Stream, describe: () => Description, timeoutMs = DESCRIBE_TIMEOUT_MS): void {
  const framed = new FramedStream(stream, { maxFrameBytes: 4096, onClose: () => { clearTimeout(timer) } })
  const timer = setTimeout(() => { framed.fail(new StreamError('timeout', 'no describe-request in time')) }, timeoutMs)
  timer.unref?.()
  framed.onMessage = (msg: Message) => {
    if (msg.type !== 'describe-request') throw new StreamError('unexpected-message', `expected describe-request, got ${msg.type}`)
    clearTimeout(timer)
    framed.onMessage = (m: Message) => { throw new StreamError('unexpected-message', `${m.type} after describe-request`) }
    framed.send(describe())
    void framed.stream.close().catch(err => { framed.abort(err) })
  }
}

/** Ask a remote node for its description. */
export async function describeRemote (libp2p: Libp2p, target: Target, options: { signal?: AbortSignal } = {}): Promise<Description & { peer: string }> {
  const timeout = AbortSignal.timeout(DESCRIBE_TIMEOUT_MS)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
  const connection = await libp2p.dial(parseTarget(target), { signal })
  const stream = await connection.newStream(DESCRIBE_PROTOCOL, { signal })
  const { promise, resolve, reject } = Promise.withResolvers<Description>()
  const framed = new FramedStream(stream, {
    onClose: err => { reject(err ?? new StreamError('unexpected-message', 'the stream closed without a description')) }
  })
  framed.onMessage = (msg: Message) => {
    if (msg.type !== 'description') throw new StreamError('unexpected-message', `expected description, got ${msg.type}`)
    resolve(msg)
  }
  const onAbort = (): void => {
    const err = new StreamError('timeout', 'no description in time')
    framed.fail(err)
    reject(err)
  }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    framed.send({ type: 'describe-request' })
    const d = await promise
    await framed.close().catch(() => {})
    return { ...d, peer: connection.remotePeer.toString() }
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
