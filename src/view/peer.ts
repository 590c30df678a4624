/**
 * The page's own libp2p peer: WebSockets, Noise and Yamux, listening nowhere, dialling only the node the view
 * was started for. Browser-safe: nothing here imports Node modules (the WebSockets transport's listener is
 * replaced by its browser version when bundled).
 *
 * libp2p refuses, in a browser, to dial private and loopback addresses unless the connection gater allows
 * it (its default `denyDialMultiaddr` there is "is this address private?"). A view of a node on the same
 * machine or LAN needs exactly those, so the gater here allows the one address the view was given — with or
 * without its /p2p part — and refuses every other.
 */
import { createLibp2p } from 'libp2p'
import { webSockets } from '@libp2p/websockets'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from '@libp2p/interface'

function transportPart (ma: Multiaddr): string {
  return ma.decapsulateCode(CODE_P2P).toString()
}

/** Whether the view's peer may dial `ma`: only the target's own transport address. */
export function dialAllowed (target: string): (ma: Multiaddr) => boolean {
  const allowed = transportPart(multiaddr(target))
  return ma => transportPart(ma) === allowed
}

export async function createViewPeer (target: string): Promise<Libp2p> {
  const allowed = dialAllowed(target)
  return await createLibp2p({
    addresses: { listen: [] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: {
      denyDialMultiaddr: ma => !allowed(ma)
    }
  })
}
