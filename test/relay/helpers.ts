/** Relays and nodes with keys known in advance, on loopback, stopped when the test ends. */
import type { ExecutionContext } from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { createRelay } from '../../src/relay/relay.ts'
import type { Relay } from '../../src/relay/relay.ts'
import type { RelayConfig } from '../../src/relay/config.ts'

export interface Key {
  key: PrivateKey
  id: string
}

export async function newKey (): Promise<Key> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: peerIdFromPrivateKey(key).toString() }
}

export async function startRelay (t: ExecutionContext, config: Partial<RelayConfig> = {}, key?: Key): Promise<Relay> {
  const relay = await createRelay({ listen: ['/ip4/127.0.0.1/tcp/0'], reservations: '*', ...config }, { privateKey: key?.key })
  t.teardown(async () => { await relay.stop() })
  return relay
}

/** The relay's TCP address (ending in /p2p/RELAY): what a node puts in `relays`. */
export function relayAddr (relay: Relay): string {
  const a = relay.multiaddrs.find(m => m.includes('/tcp/') && !m.includes('/ws'))
  if (a === undefined) throw new Error('the relay has no TCP address')
  return a
}

/** An address of `peer` that refuses connections: a TCP port nothing listens on. */
export function deadAddr (peer: string): string {
  return `/ip4/127.0.0.1/tcp/1/p2p/${peer}`
}
