/**
 * An adversarial peer for tests: a plain libp2p node that opens spikewire streams and writes whatever
 * bytes a test gives it, then reports what came back and how the stream ended.
 */
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { ExecutionContext } from 'ava'
import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { FrameDecoder, decodeMessage } from '../../src/codec/index.ts'
import type { Message } from '../../src/codec/index.ts'

export async function startAdversary (t: ExecutionContext): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxInboundStreams: 1024, maxOutboundStreams: 1024 })],
    connectionManager: { inboundConnectionThreshold: 1000 }
  })
  t.teardown(async () => { await node.stop() })
  return node
}

export interface Outcome {
  /** Messages the node sent back before the stream ended. */
  messages: Message[]
  /** How the stream ended: 'reset' (error) or 'closed'. */
  end: 'reset' | 'closed'
}

/** Collect what the remote sends on `stream` until it ends (or the timeout). */
export async function outcome (stream: Stream, timeoutMs = 5000): Promise<Outcome> {
  const messages: Message[] = []
  const decoder = new FrameDecoder()
  stream.addEventListener('message', e => {
    try {
      for (const f of decoder.push(e.data)) messages.push(decodeMessage(f))
    } catch {
      // the node under test must not send garbage; the test checks the messages it got
    }
  })
  return await new Promise<Outcome>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('the stream did not end in time')) }, timeoutMs)
    const done = (end: Outcome['end']): void => {
      clearTimeout(timer)
      resolve({ messages, end })
    }
    stream.addEventListener('close', e => { done(e.error === undefined ? 'closed' : 'reset') })
    stream.addEventListener('remoteCloseWrite', () => {
      void stream.close().catch(() => {})
    })
    // A remote that answers at once may have ended its write side before these listeners were added.
    if (stream.readStatus === 'closed') void stream.close().catch(() => {})
  })
}

export async function dialRaw (adversary: Libp2p, addr: string, protocol: string): Promise<Stream> {
  return await adversary.dialProtocol(multiaddr(addr), protocol)
}
