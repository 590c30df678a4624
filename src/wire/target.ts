/** Peer targets given by people and configs: a multiaddr string (with /p2p/<peer-id>) or a PeerId string. */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export type Target = string | Multiaddr | PeerId

export function parseTarget (target: Target): Multiaddr | PeerId {
  if (typeof target !== 'string') return target
  if (target.startsWith('/')) return multiaddr(target)
  return peerIdFromString(target)
}
