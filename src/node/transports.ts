/**
 * The node's transports (spec §4.1): TCP, the mandatory profile, and WebSockets beside it, for peers that can
 * dial nothing else (browsers). A node that listens on WebSockets must listen on TCP as well (§4.1.1).
 */
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { ConfigError } from './errors.ts'

/** Both transports: each listens on the addresses in `listen` that are its own. */
export function transports (): [ReturnType<typeof tcp>, ReturnType<typeof webSockets>] {
  return [tcp(), webSockets()]
}

const WS = /\/(ws|wss)(\/|$)/
const TCP = /^\/(ip4|ip6|dns|dns4|dns6)\/[^/]+\/tcp\/\d+(\/p2p\/[^/]+)?$/

/** Throws ConfigError config-invalid when `listen` has a WebSockets address but no plain TCP one (§4.1.1). */
export function checkListen (listen: readonly string[]): void {
  const ws = listen.find(a => WS.test(a))
  if (ws !== undefined && !listen.some(a => TCP.test(a))) {
    throw new ConfigError('config-invalid', `listen has the WebSockets address ${ws} but no TCP address: a node that offers WebSockets must listen on TCP too (spec §4.1.1), e.g. add /ip4/0.0.0.0/tcp/4001`)
  }
}
