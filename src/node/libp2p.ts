/** The libp2p peer under a node: TCP, Noise, Yamux, the allow list at the gate, and the connection limits. */
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { isAllowed } from '../ports/acl.ts'
import { DEFAULTS, LIMITS } from '../wire/defaults.ts'
import type { NodeInit } from './init.ts'

export interface PeerInit {
  privateKey?: PrivateKey
  /** Called for every peer refused at the gate (not in `allow`). */
  onRefused: (peer: string) => void
}

export async function createPeer (init: NodeInit, peer: PeerInit): Promise<Libp2p> {
  return await createLibp2p({
    privateKey: peer.privateKey,
    addresses: { listen: init.listen ?? [...DEFAULTS.listen] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({
      streamOptions: {
        maxStreamWindowSize: init.limits?.streamWindowBytes ?? LIMITS.streamWindowBytes.default,
        // Unset, a stream whose remote does not read would buffer without bound (every writer here honours
        // send()'s backpressure; this is the backstop for one that does not).
        maxWriteBufferLength: DEFAULTS.maxStreamWriteBufferBytes
      }
    })],
    connectionGater: {
      denyInboundEncryptedConnection: (peerId) => {
        const id = peerId.toString()
        if (isAllowed(init.allow, id, true)) return false
        peer.onRefused(id)
        return true
      }
    },
    connectionManager: {
      inboundConnectionThreshold: DEFAULTS.inboundConnectionThreshold,
      maxIncomingPendingConnections: DEFAULTS.maxIncomingPendingConnections,
      maxConnections: init.limits?.maxConnections ?? LIMITS.maxConnections.default
    }
  })
}
