/**
 * Small pieces of wiring the sites need on top of the library:
 * - PhasedPacemaker: a pacemaker whose rate follows the phase schedule exactly (each rate change happens
 *   at the phase boundary in model time, not whenever a timer fires);
 * - relabel: an event source that relabels the events of another source, e.g. onto one channel, so that
 *   a synapse sees all of the culture's spikes (spontaneous on channel 0, evoked on channel 1) as the
 *   spikes of one neuron;
 * - KeyframedSynapse: a synapse whose weight trace also repeats the current weight once a second, so
 *   that a subscriber that joins late (the recorder) knows the weight before the first pulse;
 * - subscribeTo: node.subscribe that also starts clock sync with the publisher at once.
 */
import { Inbox } from '../../src/index.ts'
import type { EventSource, SpikewireNode, SubscribeOptions, Subscription } from '../../src/index.ts'
import { Synapse } from '../../src/models/index.ts'
import type { EventSink, Pacemaker, SynapseInit } from '../../src/models/index.ts'

/** Rate changes at given times (µs, this node's clock), applied when the model time reaches them. */
export class PhasedPacemaker {
  readonly inner: Pacemaker
  #changes: Array<{ atUs: number, rateHz: number }> = []

  constructor (inner: Pacemaker) {
    this.inner = inner
  }

  get timeUs (): number { return this.inner.timeUs }
  get output (): Pacemaker['output'] { return this.inner.output }
  get inputs (): Pacemaker['inputs'] { return this.inner.inputs }
  describe (): ReturnType<Pacemaker['describe']> { return this.inner.describe() }
  stats (): ReturnType<Pacemaker['stats']> { return this.inner.stats() }
  nextEventUs (): number { return this.inner.nextEventUs() }

  /** Replace the pending rate changes; changes already in the model's past apply at once. */
  setSchedule (changes: Array<{ atUs: number, rateHz: number }>): void {
    this.#changes = [...changes].sort((a, b) => a.atUs - b.atUs)
  }

  advanceTo (tUs: number, emit: EventSink): void {
    while (this.#changes.length > 0 && this.#changes[0].atUs <= tUs) {
      const c = this.#changes.shift()!
      this.inner.advanceTo(c.atUs, emit)
      this.inner.setRate(c.rateHz)
    }
    this.inner.advanceTo(tUs, emit)
  }
}

/** A synapse whose weight trace gets a sample of every synapse's weight each `keyframeUs` of model time. */
export class KeyframedSynapse extends Synapse {
  readonly #everyUs: number
  #lastUs: number

  constructor (init: SynapseInit & { keyframeUs: number }) {
    super(init)
    this.#everyUs = init.keyframeUs
    this.#lastUs = init.startUs ?? 0
  }

  override advanceTo (tUs: number, emit: EventSink): void {
    super.advanceTo(tUs, emit)
    if (tUs - this.#lastUs < this.#everyUs) return
    this.#lastUs = tUs
    for (let i = 0; i < this.synapses; i++) this.trace.push({ synapse: i, timeUs: tUs, weight: this.weight(i), rKOhm: this.resistanceKOhm(i) })
  }
}

/**
 * Every event and watermark of `source` with its sender set to `peer` and, when given, its channel set to
 * `channel`.
 */
export function relabel (source: EventSource, to: { peer: string, channel?: number }): EventSource {
  const inbox = new Inbox()
  source.inbox.onDelivery(d => {
    const batch = to.channel === undefined ? d.batch : { ...d.batch, channels: new Uint32Array(d.batch.count).fill(to.channel) }
    inbox.push({ ...d, peer: to.peer, batch })
  })
  source.inbox.onWatermark(w => { inbox.watermark({ ...w, peer: to.peer }) })
  return { inbox }
}

/**
 * Subscribe to `port` at `multiaddr` and start clock sync with its node at once (the node would start it
 * when the stream opens; starting it with the subscription lets the estimate converge sooner).
 */
export function subscribeTo (node: SpikewireNode, multiaddr: string, port: string, options: SubscribeOptions = {}): { sub: Subscription, source: EventSource } {
  const sub = node.subscribe(multiaddr, port, options)
  node.clockFor(multiaddr)
  return { sub, source: sub }
}
