/**
 * The attack suite's legitimate peers, in their own process (the attacker's load does not slow them):
 * the witness, one subscriber to the target's `spikes` port for the whole run, whose largest gap between
 * arrivals (batches or watermarks) and lost events are measured per window; and newcomers, a fresh node
 * with a new identity for each probe (a describe, or a subscription that must deliver its first batch),
 * which show whether a legitimate peer still gets in. JSON-line commands (bench/child-rpc.ts): `watch
 * {addr}`, `window`, `probe {addr, kind, timeoutMs}`, `exit`.
 */
import { createNode } from '../../src/index.ts'
import type { SpikewireNode, Subscription } from '../../src/index.ts'
import { serveCommands } from '../child-rpc.ts'
import type { Command } from '../child-rpc.ts'

/** What the witness saw in one window. */
export interface WitnessWindow {
  /** Largest time without any arrival (batch or watermark), including the gap still open now, ms. */
  largestGapMs: number
  events: number
  /** Events missing without a loss notice, plus events the target reported dropped. */
  lostEvents: number
  reconnects: number
}

export interface ProbeResult {
  ok: boolean
  /** Time to the answer (describe) or to the first batch (subscribe), ms. */
  ms: number
  /** The error's code (or name) when it failed. */
  error?: string
}

class Witness {
  readonly node: SpikewireNode
  readonly sub: Subscription
  #last = performance.now()
  #largest = 0
  #base = { events: 0, lost: 0, reconnects: 0 }

  constructor (node: SpikewireNode, addr: string) {
    this.node = node
    this.sub = node.subscribe(addr, 'spikes')
    this.sub.onBatch(() => { this.#arrival() })
    this.sub.addEventListener('watermark', () => { this.#arrival() })
  }

  #arrival (): void {
    const now = performance.now()
    this.#largest = Math.max(this.#largest, now - this.#last)
    this.#last = now
  }

  #counts (): { events: number, lost: number, reconnects: number } {
    const s = this.sub.stats
    return { events: s.events, lost: s.gapEvents + s.lostEvents, reconnects: s.reconnectGaps }
  }

  /** The window since the previous call; starts the next. */
  window (): WitnessWindow {
    const now = performance.now()
    const c = this.#counts()
    const w = {
      largestGapMs: Math.round(Math.max(this.#largest, now - this.#last)),
      events: c.events - this.#base.events,
      lostEvents: c.lost - this.#base.lost,
      reconnects: c.reconnects - this.#base.reconnects
    }
    this.#largest = 0
    this.#base = c
    return w
  }
}

/** A newcomer: a new node (new identity) that describes the target or subscribes until its first batch. */
async function probe (addr: string, kind: 'describe' | 'subscribe', timeoutMs: number): Promise<ProbeResult> {
  const node = await createNode({ name: 'newcomer', listen: ['/ip4/127.0.0.1/tcp/0'] }, { clockSync: false })
  const t0 = performance.now()
  const signal = AbortSignal.timeout(Math.max(1, Math.round(timeoutMs)))
  try {
    if (kind === 'describe') {
      await node.describe(addr, { signal })
    } else {
      const sub = node.subscribe(addr, 'spikes', { reconnect: false, signal })
      const first = new Promise<void>(resolve => { sub.onBatch(() => { resolve() }) })
      const failed = sub.done().then(() => { throw sub.error ?? new Error('the subscription ended before its first batch') })
      const late = new Promise<never>((_resolve, reject) => {
        signal.addEventListener('abort', () => { reject(new Error('timeout')) }, { once: true })
      })
      await Promise.race([first, failed, late])
    }
    return { ok: true, ms: Math.round(performance.now() - t0) }
  } catch (err) {
    const e = err as Error & { code?: string }
    return { ok: false, ms: Math.round(performance.now() - t0), error: e.code ?? e.name ?? e.message }
  } finally {
    await node.stop().catch(() => {})
  }
}

async function serve (): Promise<void> {
  let witness: Witness | undefined
  await serveCommands({
    watch: async (c: Command) => {
      const node = await createNode({ name: 'witness', listen: ['/ip4/127.0.0.1/tcp/0'] })
      witness = new Witness(node, String(c.addr))
      await witness.sub.ready()
      return { peer: node.peerId }
    },
    window: async () => witness!.window(),
    probe: async (c: Command) => await probe(String(c.addr), c.kind as 'describe' | 'subscribe', Number(c.timeoutMs)),
    exit: async () => {
      await witness?.node.stop().catch(() => {})
      setImmediate(() => process.exit(0))
    }
  })
}

if (import.meta.main) await serve()
