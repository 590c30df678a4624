/**
 * The node as a client of circuit relays (spec §4.1.3): for each relay of NodeInit.relays it holds a
 * reservation, so that peers reach it at RELAY/p2p-circuit/p2p/NODE; it advertises those addresses (they are
 * among node.multiaddrs), checks every few seconds that the reservation still stands and reserves again,
 * with backoff, when the relay went away (a restart ends the reservation with the connection).
 *
 * libp2p's circuit relay transport makes the reservation when it is asked to listen on RELAY/p2p-circuit.
 * It keeps a configured relay's reservation only while the connection to the relay lasts and never makes it
 * again by itself, so this client keeps one listener per relay and asks it to listen again. Two details of
 * the transport it works around (checked by test/relay/relay.test.ts, "a node reserves again when its relay
 * restarts", and test/relay/through-relay.test.ts): listening is done through the
 * transport manager, which keeps a listener whose listen() failed, so the client creates one listener per
 * relay and reuses it; and the transport's reservation store stops trying a relay for good after a failed
 * dial to it, so the client dials the relay itself first and clears that mark before each attempt.
 */
import { ClosedError, InvalidArgumentError } from '../base/errors.ts'
import { SpikewireError } from '../codec/index.ts'
import { logger } from '@libp2p/logger'
import type { Connection, Libp2p, Listener, Transport } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { raceAbort, withDeadline } from '../base/abort.ts'
import { DEFAULTS } from '../wire/defaults.ts'
import { backoffDelay } from '../wire/reconnect.ts'
import { targetPeer } from '../wire/relay-dial.ts'

const log = logger('spikewire:relay-client')

/** What the client may reach inside libp2p: the circuit transport and the components it was made with. */
interface Captured {
  transport: Transport & { reservationStore?: { relayFilter?: { remove?: (b: Uint8Array) => unknown } } }
  components: { transportManager: { listen: (addrs: Multiaddr[]) => Promise<void>, getListeners: () => Listener[] } }
}

/** Filled by the wrapped factory when libp2p builds its transports. */
export interface RelayCapture {
  captured?: Captured
}

const captured = new WeakMap<Libp2p, Captured>()

/**
 * Wrap the circuit relay transport's factory so the client can reach the transport and the transport
 * manager of the libp2p peer it is part of (used by createPeer in libp2p.ts, with a fresh `into` per peer).
 */
export function captureRelayTransport<C, T extends Transport> (factory: (components: C) => T, into: RelayCapture): (components: C) => T {
  return (components: C) => {
    const transport = factory(components)
    into.captured = { transport, components: components as unknown as Captured['components'] }
    return transport
  }
}

/** Remember what captureRelayTransport caught for `libp2p` (called right after createLibp2p). */
export function claimRelayTransport (libp2p: Libp2p, from: RelayCapture): void {
  if (from.captured !== undefined) captured.set(libp2p, from.captured)
}

export type RelayState = 'reserving' | 'reserved' | 'retrying' | 'stopped'

/** One relay as the node sees it (node.stats().relays). */
export interface RelayStatus {
  relay: string
  state: RelayState
  /** The node's addresses through this relay while it holds the reservation. */
  addresses: string[]
  /** Reservations made (the first, and each one made again after the relay went away). */
  reservations: number
  /** Reservations that ended (the relay went away, refused a refresh). */
  lost: number
  /** Attempts that failed (relay unreachable, reservation refused). */
  failures: number
  lastError?: string
}

class RelaySlot {
  readonly addr: Multiaddr
  readonly circuit: Multiaddr
  state: RelayState = 'reserving'
  reservations = 0
  lost = 0
  failures = 0
  lastError: string | undefined
  listener: Listener | undefined
  wake: () => void = () => {}

  constructor (addr: string) {
    this.addr = multiaddr(addr)
    this.circuit = this.addr.encapsulate('/p2p-circuit')
  }

  get addresses (): string[] {
    return (this.listener?.getAddrs() ?? []).map(a => a.toString())
  }
}

export class RelayClient {
  readonly #libp2p: Libp2p
  readonly #slots: RelaySlot[]
  readonly #controller = new AbortController()
  /** transportManager.listen calls run one at a time, so the listener each creates is known. */
  #queue: Promise<unknown> = Promise.resolve()
  readonly #loops: Array<Promise<void>> = []
  /** Callers of reserved(), woken when a relay's state changes and when the client stops. */
  readonly #waiting = new Set<() => void>()
  readonly #onClose = (e: CustomEvent<Connection>): void => {
    const peer = e.detail.remotePeer.toString()
    for (const s of this.#slots) if (targetPeer(s.addr)?.toString() === peer) s.wake()
  }

  readonly #onChange: (s: RelayStatus) => void

  /** `onChange` is called when a relay's state changes (reserved, retrying after a failure or a loss). */
  constructor (libp2p: Libp2p, relays: readonly string[], onChange: (s: RelayStatus) => void = () => {}) {
    this.#libp2p = libp2p
    this.#slots = relays.map(r => new RelaySlot(r))
    this.#onChange = onChange
  }

  #set (s: RelaySlot, state: RelayState): void {
    if (s.state === state) return
    s.state = state
    this.#onChange(statusOf(s))
    this.#wakeWaiting()
  }

  #wakeWaiting (): void {
    for (const w of this.#waiting) w()
  }

  start (): void {
    if (this.#slots.length === 0) return
    if (captured.get(this.#libp2p) === undefined) throw new InvalidArgumentError('this libp2p peer has no circuit relay transport')
    this.#libp2p.addEventListener('connection:close', this.#onClose)
    for (const s of this.#slots) this.#loops.push(this.#run(s))
  }

  async stop (): Promise<void> {
    this.#controller.abort()
    this.#wakeWaiting()
    this.#libp2p.removeEventListener('connection:close', this.#onClose)
    for (const s of this.#slots) s.wake()
    await Promise.allSettled(this.#loops)
    for (const s of this.#slots) s.state = 'stopped'
  }

  /** Each relay's state, counts and the node's addresses through it. */
  status (): RelayStatus[] {
    return this.#slots.map(statusOf)
  }

  /**
   * Resolves when every relay holds a reservation (tests, the CLI's start line). Rejects with the signal's
   * reason when `signal` aborts first, and with ClosedError once the client is stopped.
   */
  async reserved (options: { signal?: AbortSignal } = {}): Promise<void> {
    for (;;) {
      if (this.#slots.every(s => s.state === 'reserved')) return
      options.signal?.throwIfAborted()
      if (this.#controller.signal.aborted) throw new ClosedError('the relay client')
      const changed = Promise.withResolvers<void>()
      this.#waiting.add(changed.resolve)
      try {
        await raceAbort(changed.promise, options.signal)
      } finally {
        this.#waiting.delete(changed.resolve)
      }
    }
  }

  #holds (s: RelaySlot): boolean {
    if (s.addresses.length === 0) return false
    const peer = targetPeer(s.addr)
    return peer !== undefined && this.#libp2p.getConnections(peer).some(c => c.status === 'open')
  }

  async #run (s: RelaySlot): Promise<void> {
    const signal = this.#controller.signal
    let attempt = 0
    while (!signal.aborted) {
      if (this.#holds(s)) {
        this.#set(s, 'reserved')
        attempt = 0
      } else {
        if (s.state === 'reserved') {
          s.lost++
          log('lost the reservation on %a', s.addr)
        }
        try {
          await this.#reserve(s, signal)
          s.reservations++
          attempt = 0
          this.#set(s, 'reserved')
          log('reserved on %a: %s', s.addr, s.addresses.join(', '))
        } catch (err) {
          if (signal.aborted) break
          attempt++
          s.failures++
          s.lastError = explain((err as Error).message)
          log('reserving on %a failed (attempt %d): %s', s.addr, attempt, s.lastError)
          this.#set(s, 'retrying')
        }
      }
      const waitMs = s.state === 'reserved' ? DEFAULTS.relayCheckMs : backoffDelay(attempt, { initialDelayMs: DEFAULTS.relayRetryInitialMs, maxDelayMs: DEFAULTS.relayRetryMaxMs })
      await new Promise<void>(resolve => {
        const timer = setTimeout(done, waitMs)
        function done (): void {
          clearTimeout(timer)
          resolve()
        }
        s.wake = done
      })
    }
  }

  async #reserve (s: RelaySlot, signal: AbortSignal): Promise<void> {
    const deadline = withDeadline(DEFAULTS.relayReserveTimeoutMs, signal)
    // Our own dial first: a relay that is down fails here, and the transport does not mark it as invalid.
    await this.#libp2p.dial(s.addr, { signal: deadline })
    const c = captured.get(this.#libp2p)!
    const peer = targetPeer(s.addr)
    if (peer !== undefined) c.transport.reservationStore?.relayFilter?.remove?.(peer.toMultihash().bytes)
    const run = this.#queue.then(async () => {
      if (s.listener !== undefined) {
        await s.listener.listen(s.circuit)
        return
      }
      const before = new Set(c.components.transportManager.getListeners())
      try {
        await c.components.transportManager.listen([s.circuit])
      } finally {
        s.listener = c.components.transportManager.getListeners().find(l => !before.has(l))
      }
    })
    this.#queue = run.catch(() => {})
    await run
    if (s.addresses.length === 0) throw new SpikewireError('unexpected-message', `the relay ${s.addr.toString()} gave no address`)
  }
}

function statusOf (s: RelaySlot): RelayStatus {
  return {
    relay: s.addr.toString(),
    state: s.state,
    addresses: s.state === 'reserved' ? s.addresses : [],
    reservations: s.reservations,
    lost: s.lost,
    failures: s.failures,
    ...(s.lastError === undefined ? {} : { lastError: s.lastError })
  }
}

/** The relay's refusals in words (libp2p reports the circuit relay status name only). */
function explain (message: string): string {
  if (message.includes('PERMISSION_DENIED')) return `the relay refused the reservation: this PeerId may not reserve on it (${message})`
  if (message.includes('RESERVATION_REFUSED')) return `the relay refused the reservation: it holds its maximum of reservations (${message})`
  return message
}
