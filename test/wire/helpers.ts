/** What the far end of a memory stream saw: decoded messages, and how the stream ended. */
import type { Stream } from '@libp2p/interface'
import { FrameDecoder, decodeMessage } from '../../src/codec/index.ts'
import type { DecodeOptions, Message } from '../../src/codec/index.ts'

export interface Observed {
  messages: Message[]
  /** Resolves when the stream has ended: with the error unless it closed cleanly. */
  ended: Promise<Error | undefined>
  /** True once the remote closed its write side. */
  remoteEnded: () => boolean
}

/** Decode everything that arrives on a raw stream (kind/channel options for batches). */
export function observe (stream: Stream, options: DecodeOptions = {}): Observed {
  const messages: Message[] = []
  const decoder = new FrameDecoder()
  const ended = Promise.withResolvers<Error | undefined>()
  let remoteEnded = false
  stream.addEventListener('message', evt => {
    for (const body of decoder.push(evt.data)) messages.push(decodeMessage(body, options))
  })
  stream.addEventListener('remoteCloseWrite', () => { remoteEnded = true })
  stream.addEventListener('close', evt => { ended.resolve(evt.error) })
  return { messages, ended: ended.promise, remoteEnded: () => remoteEnded }
}
