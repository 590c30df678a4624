/**
 * /spikewire/describe/1.0.0 (spec §9.1): the dialer sends describe-request, the listener answers with its
 * description and closes the stream.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { DESCRIBE_PROTOCOL, DESCRIBE_TIMEOUT_MS, StreamError } from '../../codec/index.ts'
import type { Description, Message } from '../../codec/index.ts'
import { request } from '../../wire/dial.ts'
import { FramedStream } from '../../wire/framed.ts'
import type { Target } from '../../wire/target.ts'

/** Serve one describe stream with the node's current description; `onClose` when the stream is gone. */
export function handleDescribeStream (stream: Stream, describe: () => Description, timeoutMs = DESCRIBE_TIMEOUT_MS, onClose?: () => void): void {
  const framed = new FramedStream(stream, {
    maxFrameBytes: 4096,
    onClose: () => {
      clearTimeout(timer)
      onClose?.()
    }
  })
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

/**
 * Ask a remote node for its description. Rejects with a RemoteCloseError when the listener closes instead
 * of answering, a StreamError 'timeout' after DESCRIBE_TIMEOUT_MS, or the error of the dial.
 */
export async function describeRemote (libp2p: Libp2p, target: Target, options: { signal?: AbortSignal } = {}): Promise<Description & { peer: string }> {
  const { framed, reply, peer } = await request<Description>(libp2p, target, {
    protocol: DESCRIBE_PROTOCOL,
    request: { type: 'describe-request' },
    timeoutMs: DESCRIBE_TIMEOUT_MS,
    awaiting: 'description',
    onReply: msg => {
      if (msg.type !== 'description') throw new StreamError('unexpected-message', `expected description, got ${msg.type}`)
      return msg
    }
  }, options)
  await framed.close().catch(() => {})
  return { ...reply, peer }
}
