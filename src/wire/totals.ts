/**
 * Counts summed over streams. Each stream's EventSender or EventReceiver keeps its own counts (the one
 * place they are kept); a push link, a subscription or an in port reports the sum over its streams: those
 * that ended (their final counts, added once when they end) and those live now (read when asked).
 */
export class StreamTotals<K extends string> {
  readonly #keys: readonly K[]
  readonly #ended: Record<K, number>
  readonly #live = new Set<{ readonly stats: Readonly<Record<K, number>> }>()

  constructor (keys: readonly K[]) {
    this.#keys = keys
    this.#ended = Object.fromEntries(keys.map(k => [k, 0])) as Record<K, number>
  }

  /** Streams live now. */
  get live (): number {
    return this.#live.size
  }

  /** Count a stream from now on; the returned function ends it (its counts then stay in the totals). */
  add (stream: { readonly stats: Readonly<Record<K, number>> }): () => void {
    this.#live.add(stream)
    return () => {
      if (!this.#live.delete(stream)) return
      for (const k of this.#keys) this.#ended[k] += stream.stats[k]
    }
  }

  /** The sums over the ended and the live streams. */
  totals (): Record<K, number> {
    const out = { ...this.#ended }
    for (const s of this.#live) for (const k of this.#keys) out[k] += s.stats[k]
    return out
  }
}
