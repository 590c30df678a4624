/**
 * Dialling a peer, with circuit relay v2 as the fallback (spec §4.1.3). A node configured with relays
 * (NodeInit.relays) registers them here; every spikewire stream is then opened over `dialPeer`: the direct
 * dial first, and when it fails — or has not connected within a head start — a dial through each configured
 * relay in turn (`RELAY/p2p-circuit/p2p/PEER`). A target that is itself a relayed address (it contains
 * /p2p-circuit) is dialled as given.
 */
import { SpikewireBaseError } from '../base/errors.ts'
import { withDeadline } from '../base/abort.ts'
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { DEFAULTS } from './defaults.ts'
import { parseTarget } from './target.ts'
import type { Target } from './target.ts'

const log = logger('spikewire:relay-dial')

const relayLists = new WeakMap<Libp2p, readonly Multiaddr[]>()

/** Register the relays `libp2p` may dial through (each a multiaddr ending in /p2p/RELAY). */
export function setRelays (libp2p: Libp2p, relays: readonly string[]): void {
  relayLists.set(libp2p, relays.map(r => multiaddr(r)))
}

/** The relays registered for `libp2p` (none by default). */
export function relaysOf (libp2p: Libp2p): readonly Multiaddr[] {
  return relayLists.get(libp2p) ?? []
}

/** A relay's multiaddr as a config writes it: ends in /p2p/<relay PeerId> (base58btc), and is not itself relayed. */
export const RELAY_ADDRESS = /^\/(?!.*\/p2p-circuit).*\/p2p\/[1-9A-HJ-NP-Za-km-z]{40,60}$/

/** True when `s` is a relay's multiaddr (RELAY_ADDRESS): what NodeInit.relays and config.relays hold. */
export function isRelayAddress (s: string): boolean {
  return RELAY_ADDRESS.test(s)
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
export class DialFailedError extends SpikewireBaseError<'dial-failed'> {
  override name = 'DialFailedError'
  /** Each attempt's error, in the order tried (directly first, then each relay). */
  readonly errors: Error[]

  constructor (errors: Error[], message: string) {
    super('dial-failed', message, { cause: errors[0] })
    this.errors = errors
  }
}

/**
 * Open a connection to `target`: directly, and when the direct dial fails or has not connected within
 * DEFAULTS.relayHeadStartMs, through each registered relay in turn. The attempts run one after the other, never side by
 * side: libp2p joins a dial to a peer that is already being dialled to that dial, so a relayed attempt
 * started beside a hanging direct one would wait for it and fail with it. Without registered relays this is
 * `libp2p.dial`.
 */
export async function dialPeer (libp2p: Libp2p, target: Target, options: { signal?: AbortSignal } = {}): Promise<Connection> {
  const parsed = parseTarget(target)
  const relays = relaysOf(libp2p)
  const peer = targetPeer(parsed)
  if (relays.length === 0 || peer === undefined || ('getComponents' in parsed && isRelayed(parsed)) || peer.equals(libp2p.peerId)) {
    return await libp2p.dial(parsed, { signal: options.signal })
  }
  const errors: Error[] = []
  const failed = (what: string, err: unknown): void => {
    options.signal?.throwIfAborted()
    const e = err instanceof Error ? err : new Error(String(err))
    log('dial to %s %s failed: %s', peer.toString(), what, e.message)
    errors.push(new Error(`${what}: ${e.message}`, { cause: e }))
  }
  const headStartMs = DEFAULTS.relayHeadStartMs
  const direct = withDeadline(headStartMs, options.signal)
  try {
    return await libp2p.dial(parsed, { signal: direct })
  } catch (err) {
    failed('directly', direct.aborted && options.signal?.aborted !== true ? new Error(`no connection within ${headStartMs} ms`, { cause: err }) : err)
  }
  // Relays that are the target itself cannot relay to it.
  for (const r of relays.filter(r => targetPeer(r)?.equals(peer) !== true)) {
    try {
      const conn = await libp2p.dial(circuitAddress(r, peer), { signal: options.signal })
      log('connected to %s through relay %a', peer.toString(), r)
      return conn
    } catch (err) {
      failed(`through relay ${r.toString()}`, err)
    }
  }
  throw new DialFailedError(errors, `cannot reach ${peer.toString()}: ${errors.map(e => e.message).join('; ')}`)
}
