/**
 * Running models inside a node in real time, wired to its ports:
 * - sources (Poisson, pacemaker, replay) drive an `out` port (RealTimeDriver);
 * - devices with inputs (silicon neurons, the culture) take their `in` port through real-time playout
 *   (each event applied at its time, mapped to the local clock, plus the synaptic delay) and drive an
 *   `out` port;
 * - synapses take `pre` and `post` through the time-ordered merge, so plasticity sees spikes in true time
 *   order whatever the link latencies, and run exactly as far as the merge has released: their outputs
 *   and weight trace carry event times, with watermarks set by the merge's progress.
 */
import { logger } from '@libp2p/logger'
import type { Model, NeuronModel } from '../models/index.ts'
import type { CultureModel } from '../models/culture.ts'
import type { Synapse } from '../models/synapse.ts'
import type { PlayoutDelay } from '../timing/playout.ts'
import type { Playout, Merge } from '../timing/compensate.ts'
import type { MergeStats } from '../timing/merge.ts'
import type { PlayoutStats } from '../timing/playout.ts'
import type { SpikewireNode } from '../node/node.ts'
import { RealTimeDriver } from './driver.ts'
import { InvalidArgumentError } from '../base/errors.ts'
import type { EventSource } from '../timing/compensate.ts'

const log = logger('spikewire:hosting')

export interface DeviceHostInit {
  /** The `in` port (or a subscription) feeding the model's input. */
  input: EventSource
  /** The `out` port the model's output goes to. */
  output: string
  /** How input events are timed (default: synaptic delay of 20 ms). */
  delay?: PlayoutDelay
}

/** A model with one input (neuron population, culture) hosted in real time. */
export class DeviceHost {
  readonly model: NeuronModel | CultureModel
  readonly playout: Playout
  readonly driver: RealTimeDriver
  inputsRefused = 0

  constructor (node: SpikewireNode, model: NeuronModel | CultureModel, init: DeviceHostInit) {
    this.model = model
    const out = node.outPort(init.output)
    checkPorts(model, out.channels, init.input)
    out.model ??= model.describe()
    this.driver = new RealTimeDriver(model, out, node.clock)
    this.playout = node.playout(init.input, {
      delay: init.delay ?? { mode: 'synaptic', us: 20_000 },
      onEvent: e => {
        // Run the model up to the input's due time, and apply it there: an event loop that was held up
        // for a while does not bunch the inputs it delivers late.
        this.driver.advanceTo(e.dueUs)
        if (!model.input(e.channel, Math.max(e.dueUs, model.timeUs), e.value ?? 1)) this.inputsRefused++
      }
    })
  }

  stats (): { model: Record<string, number>, playout: PlayoutStats, inputsRefused: number } {
    return { model: this.model.stats(), playout: this.playout.stats(), inputsRefused: this.inputsRefused }
  }

  stop (): void {
    this.driver.stop()
    this.playout.close()
  }
}

export interface SynapseHostInit {
  pre: EventSource
  post: EventSource
  /** Weighted `out` port: pre-synaptic spikes × weight, at pre time + delay. */
  output: string
  /** Optional weighted `out` port for the weight trace (channel = synapse, value = weight 0..255). */
  weight?: string
  /** An input silent this long stops holding the merge back, µs (default 2 s). */
  stallAfterUs?: number
}

export class SynapseHost {
  readonly model: Synapse
  readonly merge: Merge
  readonly #timer: ReturnType<typeof setInterval>
  #frontier = 0

  constructor (node: SpikewireNode, model: Synapse, init: SynapseHostInit) {
    this.model = model
    const out = node.outPort(init.output)
    const weight = init.weight === undefined ? undefined : node.outPort(init.weight)
    // Outputs carry event times and run behind the clock (behind the merge): only the merge moves the
    // ports' watermarks.
    out.manualWatermark()
    weight?.manualWatermark()
    out.model ??= model.describe()
    const emit = (ch: number, t: number, v?: number): void => { out.emit(ch, Math.round(t), v ?? 1) }
    const advance = (t: number): void => {
      if (t <= this.#frontier) return
      this.#frontier = t
      model.advanceTo(t, emit)
      out.advance(Math.floor(t))
      weight?.advance(Math.floor(t))
    }
    let traced = 0
    let lastWeightTime = 0
    const flushTrace = (): void => {
      if (weight === undefined) return
      const trace = model.trace
      for (; traced < trace.length; traced++) {
        const w = trace[traced]
        const t = Math.max(Math.round(w.timeUs), lastWeightTime, weight.watermark)
        lastWeightTime = t
        weight.emit(w.synapse, t, w.weight)
      }
    }
    flushTrace()
    this.merge = node.merge([{ name: 'pre', source: init.pre }, { name: 'post', source: init.post }], {
      stallAfterUs: init.stallAfterUs ?? 2_000_000,
      onEvent: e => {
        advance(e.localUs)
        if (e.input === 'pre') model.pre(e.channel, e.localUs, 1)
        else model.post(e.channel, e.localUs)
        flushTrace()
      },
      onStall: info => { log('synapse input %s stalled after %d µs', info.name, info.silentUs) }
    })
    // Between events, follow the merge's safe frontier so outputs due by then leave.
    this.#timer = setInterval(() => {
      try {
        const inputs = this.merge.stats().inputs.filter(i => !i.stalled && !i.closed)
        if (inputs.length === 0) return
        const safe = Math.min(...inputs.map(i => i.frontierUs))
        if (Number.isFinite(safe)) advance(safe)
      } catch (err) {
        log.error('synapse host tick failed: %e', err)
      }
    }, 5)
  }

  stats (): { model: Record<string, number>, merge: MergeStats } {
    return { model: this.model.stats(), merge: this.merge.stats() }
  }

  stop (): void {
    clearInterval(this.#timer)
    this.merge.close()
  }
}

function checkPorts (model: Model, outChannels: number, input?: EventSource): void {
  if (outChannels < model.output.channels) {
    throw new InvalidArgumentError(`the out port has ${outChannels} channels; model ${model.describe().name} emits on ${model.output.channels}`)
  }
  const inChannels = (input as { channels?: number } | undefined)?.channels
  const modelIn = model.inputs[0]?.channels
  if (inChannels !== undefined && modelIn !== undefined && inChannels > modelIn) {
    throw new InvalidArgumentError(`the in port has ${inChannels} channels; model ${model.describe().name} takes ${modelIn}`)
  }
}

/** Drive a source model into an `out` port. */
export function hostSource (node: SpikewireNode, model: Model, output: string): RealTimeDriver {
  const out = node.outPort(output)
  checkPorts(model, out.channels)
  return new RealTimeDriver(model, out, node.clock)
}
