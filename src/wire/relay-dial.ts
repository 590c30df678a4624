/**
 * Dialling a peer, with circuit relay v2 as the fallback (spec §4.1.2). A node configured with relays
 * (NodeInit.relays) registers them here; every spikewire stream is then opened over `dialPeer`: the direct
 * dial first, and when it fails — or has not succeeded within a short head start — a dial through each
 * configured relay (`RELAY/p2p-circuit/p2p/PEER`). The first connection that opens wins. A target that is
 * itself a relayed address (it contains /p2p-circuit) is dialled as given.
 */
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { parseTarget } from './target.ts'
import type { Target } from './target.ts'

const log = logger('spikewire:relay-dial')

/** How long the direct dial runs alone before the relays are tried beside it, ms. */
export const RELAY_HEAD_START_MS = 1500

const relayLists = new WeakMap<Libp2p, readonly Multiaddr[]>()

/** Register the relays `libp2p` may dial through (each a multiaddr ending in /p2p/RELAY). */
export function setRelays (libp2p: Libp2p, relays: readonly string[]): void {
  relayLists.set(libp2p, relays.map(r => multiaddr(r)))
}

/** The relays registered for `libp2p` (none by default). */
export function relaysOf (libp2p: Libp2p): readonly Multiaddr[] {
  return relayLists.get(libp2p) ?? []
}

/** True when the address goes through a relay. */
export function isRelayed (ma: Multiaddr): boolean {
  return ma.getComponents().some(c => c.name === 'p2p-circuit')
}

/** The PeerId a target names (its last /p2p/ component), or undefined. */
export function targetPeer (target: Multiaddr | PeerId): PeerId | undefined {
  if (!('getComponents' in target)) return target
  const p2p = target.getComponents().filter(c => c.name === 'p2p').at(-1)
  return p2p?.value === undefined ? undefined : peerIdFromString(p2p.value)
}

/** The address of `peer` through `relay` (a relay multiaddr ending in /p2p/RELAY). */
export function circuitAddress (relay: Multiaddr, peer: PeerId): Multiaddr {
  return relay.encapsulate(`/p2p-circuit/p2p/${peer.toString()}`)
}

/** Every attempt failed: the direct dial's error and each relay's. */
export class DialFailedError extends AggregateError {
  override name = 'DialFailedError'
  readonly code = 'dial-failed'
}

/**
 * Open a connection to `target`: directly, and through each registered relay when the direct dial fails or
 * is slow. Without registered relays this is `libp2p.dial`.
 */
export async function dialPeer (libp2p: Libp2p, target: Target, options: { signal?: AbortSignal, headStartMs?: number } = {}): Promise<Connection> {
  const parsed = parseTarget(target)
  const relays = relaysOf(libp2p)
  const peer = targetPeer(parsed)
  if (relays.length === 0 || peer === undefined || ('getComponents' in parsed && isRelayed(parsed)) || peer.equals(libp2p.peerId)) {
    return await libp2p.dial(parsed, { signal: options.signal })
  }
  // Relays that are the target itself cannot relay to it.
  const via = relays.filter(r => targetPeer(r)?.equals(peer) !== true)
  const controller = new AbortController()
  const signal = options.signal === undefined ? controller.signal : AbortSignal.any([options.signal, controller.signal])
  const errors: Error[] = []
  let relaysStarted = false
  return await new Promise<Connection>((resolve, reject) => {
    let pending = 0
    let done = false
    const attempt = (what: string, addr: Multiaddr | PeerId): void => {
      pending++
      libp2p.dial(addr, { signal }).then(conn => {
        pending--
        if (done) return
        done = true
        clearTimeout(timer)
        log('connected to %s %s', peer.toString(), what)
        controller.abort(new Error('another attempt connected first'))
        resolve(conn)
      }, (err: Error) => {
        pending--
        if (done) return
        log('dial to %s %s failed: %s', peer.toString(), what, err.message)
        errors.push(new Error(`${what}: ${err.message}`, { cause: err }))
        if (what === 'directly') startRelays()
        if (pending === 0 && relaysStarted) {
          done = true
          clearTimeout(timer)
          reject(options.signal?.aborted === true ? options.signal.reason : new DialFailedError(errors, `cannot reach ${peer.toString()}: ${errors.map(e => e.message).join('; ')}`))
        }
      })
    }
    const startRelays = (): void => {
      if (relaysStarted || done) return
      relaysStarted = true
      for (const r of via) attempt(`through relay ${r.toString()}`, circuitAddress(r, peer))
    }
    const timer = setTimeout(startRelays, options.headStartMs ?? RELAY_HEAD_START_MS)
    attempt('directly', parsed)
  })
}
