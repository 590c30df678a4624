/**
 * The client side of /spikewire/clock/1.0.0 (spec §9.3) for one peer: bursts of probes on an adaptive
 * schedule, each answer turned into a four-timestamp sample and fed to a ClockEstimator. Timestamps are
 * taken as close to the wire as the runtime allows: t1 just before the send, t4 when the answer's bytes
 * arrive, before decoding. The link is kept up like a subscription (reconnect with backoff).
 *
 * Events: 'estimate' (ClockEstimate, after every burst), 'status' (LinkStatus).
 */
import type { Libp2p } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { CLOCK_PROTOCOL, MAX_CLOCK_ID, StreamError, remoteCloseError } from '../../codec/index.ts'
import type { Message } from '../../codec/index.ts'
import { dialFramed } from '../../wire/dial.ts'
import { LinkClosedError } from '../../wire/errors.ts'
import { ReconnectingLink } from '../../wire/link.ts'
import type { LinkStatus, ReconnectOptions, Session } from '../../wire/reconnect.ts'
import type { Target } from '../../wire/target.ts'
import { raceAbort, sleepUntil } from '../../base/abort.ts'
import { wireTime } from '../../base/clock.ts'
import type { Clock } from '../../base/clock.ts'
import { ClockEstimator } from './estimator.ts'
import type { ClockEstimate, ClockEstimatorOptions } from './estimator.ts'
import { clockSample } from './sample.ts'
import { ProbeSchedule } from './schedule.ts'
import type { ProbeScheduleOptions } from './schedule.ts'

const log = logger('spikewire:clock-client')

export interface PeerClockOptions {
  estimator?: ClockEstimatorOptions
  schedule?: ProbeScheduleOptions
  reconnect?: ReconnectOptions | false
  signal?: AbortSignal
}

export interface PeerClockStats {
  probes: number
  answers: number
  /** Probes without an answer within the probe timeout. */
  timeouts: number
  /** Answers that came after their probe had timed out (matched, then discarded). */
  late: number
  /** Answers refused by the sample checks (negative delay, mismatched echo). */
  rejected: number
  bursts: number
}

export interface PeerClockEvents {
  estimate: CustomEvent<ClockEstimate>
  status: CustomEvent<LinkStatus>
}

interface Pending { id: number, t1: number, wireT1: number, burst: number, timer: ReturnType<typeof setTimeout>, timedOut: boolean }

/** Requests left unanswered after which the stream is given up as dead (it is then reopened). */
const MAX_OUTSTANDING = 32

export class PeerClock extends ReconnectingLink<PeerClockEvents> {
  readonly estimator: ClockEstimator
  readonly stats: PeerClockStats = { probes: 0, answers: 0, timeouts: 0, late: 0, rejected: 0, bursts: 0 }
  readonly #libp2p: Libp2p
  readonly #target: Target
  readonly #clock: Clock
  readonly #maxDriftPpm: number
  readonly #schedule: ProbeSchedule
  readonly #converged = Promise.withResolvers<void>()
  #nextId = 1

  constructor (libp2p: Libp2p, target: Target, clock: Clock, options: PeerClockOptions = {}) {
    super({ name: 'clock sync', reconnect: options.reconnect, signal: options.signal })
    this.#libp2p = libp2p
    this.#target = target
    this.#clock = clock
    this.estimator = new ClockEstimator(options.estimator)
    this.#maxDriftPpm = options.estimator?.maxDriftPpm ?? 200
    this.#schedule = new ProbeSchedule(options.schedule)
    this.#converged.promise.catch(() => {})
    this.start()
  }

  /** The estimate now. */
  estimate (): ClockEstimate {
    return this.estimator.estimate(this.#clock.nowUs())
  }

  /** Map a timestamp of the peer's clock to the local clock, with the uncertainty of the mapping. */
  toLocal (remoteUs: number): { localUs: number, uncertaintyUs: number } {
    return this.estimator.toLocal(remoteUs)
  }

  /** Resolves after the first answered burst; rejects if the clock sync ends before. */
  override async ready (): Promise<void> {
    await super.ready()
  }

  /** Resolves once the estimator reports convergence. */
  async converged (options: { signal?: AbortSignal } = {}): Promise<void> {
    await raceAbort(this.#converged.promise, options.signal)
  }

  protected override onEnd (err: Error | undefined): void {
    this.#converged.reject(err ?? new LinkClosedError('clock sync'))
  }

  protected override async openSession (signal: AbortSignal): Promise<Session> {
    const ended = Promise.withResolvers<Error | undefined>()
    // Outstanding requests, oldest first: the server answers in order (spec §9.3.1).
    const pending: Pending[] = []
    let waiting = 0
    let t4 = 0
    const { framed } = await dialFramed(this.#libp2p, this.#target, CLOCK_PROTOCOL, {
      maxFrameBytes: 1024,
      onData: () => { t4 = this.#clock.nowUs() },
      onClose: err => {
        for (const p of pending) clearTimeout(p.timer)
        pending.length = 0
        ended.resolve(err)
      }
    }, { signal })
    let answeredInBurst = 0
    let consistentInBurst = false
    framed.onMessage = (msg: Message) => {
      if (msg.type === 'close') {
        ended.resolve(remoteCloseError(msg))
        void framed.stream.close().catch(() => {})
        return
      }
      if (msg.type !== 'clock-response') throw new StreamError('unexpected-message', `expected clock-response, got ${msg.type}`)
      const p = pending[0]
      if (p === undefined) throw new StreamError('unexpected-message', 'clock-response with no request outstanding')
      if (msg.id !== p.id || msg.t1 !== p.wireT1) {
        throw new StreamError('invalid-message', `clock-response (id ${msg.id}, t1 ${msg.t1}) does not answer the oldest request (id ${p.id}, t1 ${p.wireT1})`)
      }
      // t3 ≥ t2 is a field rule the decoder has checked (§8.10, §7.5 step 4): a response here satisfies it.
      pending.shift()
      clearTimeout(p.timer)
      if (p.timedOut) {
        this.stats.late++
        return
      }
      waiting--
      this.stats.answers++
      try {
        const verdict = this.estimator.addSample(clockSample(p.t1, msg.t2, msg.t3, t4), { burst: p.burst })
        answeredInBurst++
        if (verdict.consistent) consistentInBurst = true
      } catch (err) {
        this.stats.rejected++
        log('sample refused: %s', (err as Error).message)
      }
    }
    const loop = async (): Promise<void> => {
      let start = this.#clock.nowUs()
      this.#schedule.reset()
      while (framed.open && !signal.aborted) {
        const burst = ++this.stats.bursts
        answeredInBurst = 0
        consistentInBurst = false
        for (const at of this.#schedule.burstTimes(start)) {
          await sleepUntil(this.#clock, at, { signal })
          if (!framed.open || signal.aborted) return
          const id = this.#nextId
          this.#nextId = this.#nextId >= MAX_CLOCK_ID ? 1 : this.#nextId + 1
          const t1 = this.#clock.nowUs()
          const wireT1 = wireTime(t1)
          if (pending.length >= MAX_OUTSTANDING) {
            framed.fail(new StreamError('timeout', `${pending.length} clock requests unanswered`))
            return
          }
          const entry: Pending = { id, t1, wireT1, burst, timedOut: false, timer: setTimeout(() => {
            entry.timedOut = true
            waiting--
            this.stats.timeouts++
          }, this.#schedule.probeTimeoutUs / 1000) }
          pending.push(entry)
          waiting++
          this.stats.probes++
          framed.send({ type: 'clock-request', id, t1: wireT1 })
        }
        // Give the last probe of the burst time to come back before judging the burst.
        const settleUs = Math.min(this.#schedule.probeTimeoutUs, 4 * Math.max(1000, this.estimator.estimate(this.#clock.nowUs()).rttUs || 0))
        await sleepUntil(this.#clock, this.#clock.nowUs() + settleUs, { signal, until: () => waiting === 0 })
        const est = this.estimator.estimate(this.#clock.nowUs())
        if (answeredInBurst > 0) {
          this.markReady()
          if (est.converged) this.#converged.resolve()
          this.safeDispatchEvent('estimate', { detail: est })
        }
        // Until the drift has been measured at all (its uncertainty is still the prior), keep probing at the
        // fast period: backing off earlier leaves the drift unmodelled for tens of seconds on jittery paths.
        const driftKnown = est.driftUncertaintyPpm < 0.5 * this.#maxDriftPpm
        start = this.#schedule.next({ converged: est.converged && driftKnown, consistent: consistentInBurst, answered: answeredInBurst }, start)
        if (start < this.#clock.nowUs()) start = this.#clock.nowUs()
      }
    }
    loop().catch(err => { framed.fail(new StreamError('internal-error', (err as Error).message)) })
    return { ended: ended.promise, close: async () => { await framed.close('normal') } }
  }
}
