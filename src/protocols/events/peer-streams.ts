/**
 * The events streams each peer holds on this node, all ports and connections together, bounded (spec §11.4:
 * per peer, for each protocol), so that one peer cannot take every slot of a port.
 */
export class PeerStreams {
  readonly max: number
  readonly #count = new Map<string, number>()

  constructor (max: number) {
    this.max = max
  }

  /** Streams `peer` holds now. */
  count (peer: string): number {
    return this.#count.get(peer) ?? 0
  }

  /** Take a slot for `peer`: the function that gives it back (once), or undefined when it has `max` already. */
  take (peer: string): (() => void) | undefined {
    const n = this.count(peer)
    if (n >= this.max) return undefined
    this.#count.set(peer, n + 1)
    let held = true
    return () => {
      if (!held) return
      held = false
      const m = this.count(peer) - 1
      if (m <= 0) this.#count.delete(peer)
      else this.#count.set(peer, m)
    }
  }
}
