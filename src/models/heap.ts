/**
 * Priority queues keyed by time. Ties are broken deterministically (by key, or by insertion order), so
 * models that merge many channels emit equal-time events in a reproducible order.
 */

/**
 * A min-heap over the fixed keys 0..size−1, each with a priority (a time; `Infinity` means "none").
 * `set` changes a key's priority in O(log n). Equal priorities come out lowest key first.
 */
export class IndexedMinHeap {
  readonly #prio: Float64Array
  readonly #heap: Int32Array
  readonly #pos: Int32Array

  constructor (size: number) {
    this.#prio = new Float64Array(size).fill(Infinity)
    this.#heap = new Int32Array(size)
    this.#pos = new Int32Array(size)
    for (let i = 0; i < size; i++) {
      this.#heap[i] = i
      this.#pos[i] = i
    }
  }

  get size (): number {
    return this.#heap.length
  }

  /** The key with the smallest priority (any key if the heap is empty of finite priorities). */
  peekKey (): number {
    return this.#heap[0]
  }

  /** The smallest priority, `Infinity` if none is finite. */
  peekPriority (): number {
    return this.#heap.length === 0 ? Infinity : this.#prio[this.#heap[0]]
  }

  priority (key: number): number {
    return this.#prio[key]
  }

  set (key: number, priority: number): void {
    const old = this.#prio[key]
    this.#prio[key] = priority
    const i = this.#pos[key]
    if (priority < old) this.#up(i)
    else this.#down(i)
  }

  #less (pa: number, ka: number, pb: number, kb: number): boolean {
    return pa < pb || (pa === pb && ka < kb)
  }

  #swap (i: number, j: number): void {
    const h = this.#heap
    const a = h[i]
    const b = h[j]
    h[i] = b
    h[j] = a
    this.#pos[b] = i
    this.#pos[a] = j
  }

  #up (i: number): void {
    const h = this.#heap
    const p = this.#prio
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.#less(p[h[i]], h[i], p[h[parent]], h[parent])) break
      this.#swap(i, parent)
      i = parent
    }
  }

  #down (i: number): void {
    const h = this.#heap
    const p = this.#prio
    const n = h.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      let m = l
      const r = l + 1
      if (r < n && this.#less(p[h[r]], h[r], p[h[l]], h[l])) m = r
      if (!this.#less(p[h[m]], h[m], p[h[i]], h[i])) break
      this.#swap(i, m)
      i = m
    }
  }
}

/**
 * A growable min-heap of (time, channel) entries. Equal times come out in insertion order.
 */
export class TimeHeap {
  #time: number[] = []
  #seq: number[] = []
  #channel: number[] = []
  #nextSeq = 0

  get length (): number {
    return this.#time.length
  }

  /** Earliest time, `Infinity` when empty. */
  peekTime (): number {
    return this.#time.length === 0 ? Infinity : this.#time[0]
  }

  /** Channel of the earliest entry (undefined behaviour when empty). */
  peekChannel (): number {
    return this.#channel[0]
  }

  push (time: number, channel: number): void {
    this.#time.push(time)
    this.#seq.push(this.#nextSeq++)
    this.#channel.push(channel)
    let i = this.#time.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.#less(i, parent)) break
      this.#swap(i, parent)
      i = parent
    }
  }

  /** Remove the earliest entry. */
  pop (): void {
    const n = this.#time.length - 1
    if (n < 0) return
    this.#swap(0, n)
    this.#time.pop()
    this.#seq.pop()
    this.#channel.pop()
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      let m = l
      if (l + 1 < n && this.#less(l + 1, l)) m = l + 1
      if (!this.#less(m, i)) break
      this.#swap(i, m)
      i = m
    }
  }

  #less (i: number, j: number): boolean {
    const t = this.#time
    return t[i] < t[j] || (t[i] === t[j] && this.#seq[i] < this.#seq[j])
  }

  #swap (i: number, j: number): void {
    const t = this.#time
    const s = this.#seq
    const c = this.#channel
    const ti = t[i]
    t[i] = t[j]
    t[j] = ti
    const si = s[i]
    s[i] = s[j]
    s[j] = si
    const ci = c[i]
    c[i] = c[j]
    c[j] = ci
  }
}
