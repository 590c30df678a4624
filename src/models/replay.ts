/**
 * Replay source: emits a recorded spike train (see REPLAY-FORMAT.md and replay-parse.ts).
 *
 * Time base:
 * - 'relative' (default): the first event is placed at `startUs` and every other one keeps its distance
 *   from the first: t_out = startUs + (t_file − t_first).
 * - 'absolute': file times are used as they are (µs on the same scale as the caller's clock); events
 *   earlier than `startUs` are skipped and counted as `skipped`.
 *
 * Pacing is the caller's: a real-time node calls `advanceTo(clock.nowUs())`, a simulation any time it likes.
 *
 * Start: `start` says when a real-time driver starts the train (REPLAY-FORMAT.md, "Start"):
 * 'first-subscriber' (default) when its out port gets its first stream, 'now' at `startUs`. The model
 * itself only records the choice; the driver calls `startAt(now)` at the moment it starts.
 */
import { checkChannels, checkNumber } from './params.ts'
import { ModelParamError, ModelUsageError } from './errors.ts'
import type { SpikeTrain } from './replay-parse.ts'
import type { EventSink, ModelDescription, ModelStats, PortSpec, SourceModel } from './index.ts'

export interface ReplayInit {
  /** Output channel count (default maxChannel + 1 of the train); every id in the train must be below it. */
  channels?: number
  timeBase?: 'relative' | 'absolute'
  /** Start time, µs (default 0); `startAt` may move it before the first `advanceTo`. */
  startUs?: number
  /** When a real-time driver starts the train (default 'first-subscriber'). */
  start?: ReplayStart
}

/**
 * When a replay starts in real time: when its out port gets its first stream (a subscriber or a push
 * link), or as soon as it is driven.
 */
export type ReplayStart = 'first-subscriber' | 'now'

export class Replay implements SourceModel {
  readonly output: PortSpec
  readonly inputs: readonly PortSpec[] = []
  readonly channels: number
  readonly timeBase: 'relative' | 'absolute'
  readonly start: ReplayStart
  readonly #train: SpikeTrain
  #offsetUs = 0
  #next = 0
  #timeUs = 0
  #spikes = 0
  #skipped = 0
  #advanced = false

  constructor (train: SpikeTrain, init: ReplayInit = {}) {
    if (train.timeUs.length === 0 || train.channel.length !== train.timeUs.length) {
      throw new ModelParamError('train', 'must hold at least one event and columns of equal length')
    }
    this.#train = train
    this.channels = checkChannels('channels', init.channels ?? train.maxChannel + 1)
    if (train.maxChannel >= this.channels) throw new ModelParamError('channels', `the train uses channel ${train.maxChannel}`)
    this.timeBase = init.timeBase ?? 'relative'
    if (this.timeBase !== 'relative' && this.timeBase !== 'absolute') throw new ModelParamError('timeBase', 'must be relative or absolute')
    this.start = init.start ?? 'first-subscriber'
    if (this.start !== 'first-subscriber' && this.start !== 'now') throw new ModelParamError('start', 'must be first-subscriber or now')
    this.#place(checkNumber('startUs', init.startUs ?? 0))
    this.output = { name: 'spikes', kind: 'spike', channels: this.channels }
  }

  /**
   * Start the train at `startUs` instead of the `startUs` it was built with (relative: the first event is
   * placed there; absolute: events before it are skipped). Only before the first `advanceTo`.
   */
  startAt (startUs: number): void {
    if (this.#advanced) throw new ModelUsageError('already-started', 'startAt must come before the first advanceTo')
    this.#place(checkNumber('startUs', startUs))
  }

  get timeUs (): number {
    return this.#timeUs
  }

  /** Events still to be emitted. */
  get remaining (): number {
    return this.#train.timeUs.length - this.#next
  }

  describe (): ModelDescription {
    const t = this.#train.timeUs
    return {
      name: 'replay',
      params: [
        ['channels', this.channels, ''],
        ['events', t.length, ''],
        ['duration', (t[t.length - 1] - t[0]) / 1000, 'ms'],
        ['absolute_time', this.timeBase === 'absolute' ? 1 : 0, '']
      ]
    }
  }

  stats (): ModelStats {
    return { spikes: this.#spikes, skipped: this.#skipped, remaining: this.remaining }
  }

  nextEventUs (): number {
    return this.#next < this.#train.timeUs.length ? this.#train.timeUs[this.#next] + this.#offsetUs : Infinity
  }

  advanceTo (tUs: number, emit: EventSink): void {
    if (!Number.isFinite(tUs)) throw new ModelUsageError('invalid-time', `advanceTo needs a finite time, got ${tUs}`)
    this.#advanced = true
    const { channel, timeUs } = this.#train
    const n = timeUs.length
    while (this.#next < n) {
      const t = timeUs[this.#next] + this.#offsetUs
      if (t > tUs) break
      this.#spikes++
      emit(channel[this.#next], t)
      this.#next++
    }
    if (tUs > this.#timeUs) this.#timeUs = tUs
  }

  #place (startUs: number): void {
    const t = this.#train.timeUs
    this.#timeUs = startUs
    this.#offsetUs = this.timeBase === 'relative' ? startUs - t[0] : 0
    this.#next = 0
    this.#skipped = 0
    while (this.#next < t.length && t[this.#next] + this.#offsetUs < startUs) {
      this.#next++
      this.#skipped++
    }
  }
}
