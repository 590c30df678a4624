/**
 * Playout benchmark (npm run bench:playout -- --json): how well inter-spike intervals (ISIs) survive a
 * jittery path, without compensation (arrival times) and with real-time playout at a fixed or an adaptive
 * delay D.
 *
 * Three processes: the publisher (bench/timing-peer.ts, a child) runs a node whose clock is a SkewedClock
 * over SystemClock (default +1.5 s, +100 ppm) and emits a spike train on real timers, gaps uniform in
 * [--min-gap-ms, --max-gap-ms) (default 5–10 ms: ≈130 Hz, irregular), each spike stamped with its emit
 * time; a delay proxy (another child) adds 20 ± 5 ms (uniform) each way (its busy-wait timer is off by
 * default, --proxy-spin-ms 0: its releases are then up to ≈1–2 ms late, which only widens the emulated
 * jitter, while a spinning proxy competes for the 2 cores with the subscriber's own spinning timers and
 * tripled the subscriber's timer-lateness p99 in our runs). Both children run at nice --helpers-nice
 * (default −20, when permitted): they stand for another site and the network, which have hardware of
 * their own in a real experiment. At ordinary priority, or at the delivery thread's own −20, the
 * subscriber's busy waits delayed the proxy's releases by up to 10–14 ms now and then, and each such stall
 * made late spikes; with the children one step above the thread (−20 against −19) the proxy's worst
 * lateness stayed under 5 ms. The subscriber (this process)
 * runs a node on SystemClock with default clock sync, subscribes through the proxy and waits for the clock
 * estimate to converge. Then, per mode, a train of --warmup + --seconds s; the first --warmup s are not
 * counted:
 * - raw: received times are arrival times (the subscription's batch callback);
 * - fixed: Playout with D = --fixed-ms (default 40 ms); received times are the delivery times (atUs);
 * - adaptive: Playout with the adaptive D defaults (or the AdaptiveDelay fields given as JSON in --adaptive).
 * Each playout mode runs once per delivery in --delivery (default both):
 * - loop: on the event loop, a RealTimeScheduler over the node's clock with each spin window in --spins
 *   (default 2000 µs, its default; 0 shows plain setTimeout);
 * - thread: a DeliveryThread (worker thread, --thread-spin µs of busy wait, default 500, nice
 *   --thread-priority, default −19, when permitted) with no driver module: atUs is the time the worker
 *   would call the driver.
 *
 * Sent ISIs are the intervals of the emit times mapped to the subscriber's clock with the true offset and
 * drift (bench/timing-peer.ts explains the truth across processes; the mapping changes a 7.5 ms interval by
 * 0.75 µs at 100 ppm). isiErr = |received ISI − sent ISI| over consecutive measured spikes.
 *
 * One JSON line per run: isiErrP50Us, isiErrP99Us, isiErrMaxUs, lateFraction (playout: spikes flagged
 * late / delivered), events, delayUs (D at the end), and for diagnosis: mapIsiErrP99Us (the same on the
 * mapped times e.localUs: what clock re-estimates contribute), dueIsiErrP99Us/MaxUs (the same on the due
 * times: what changes of D contribute), deliveryLateP50Us/P99Us/MaxUs (delivery − due time of events not
 * late), timersLate100Us/timersLateWithGc (loop: timers more than 0.1 ms late, and how many of them
 * overlap a garbage collection of this process), gcCount/gcMaxMs, threadPriority/threadLateHandoffs
 * (thread), isiErrWithin200Us (fraction of intervals within 0.2 ms), latencyP50Us/P99Us
 * (arrival − true emit time), subCpu (this process's CPU, fraction of one core, during the run),
 * loopDelayP99Ms/MaxMs (this process's event-loop delay, 10 ms resolution: stalls), proxyLateP99Ms and
 * proxyLateMaxMs, proxyCpu (the emulator's own release lateness and CPU), pubLoopDelayMaxMs (the
 * publisher's longest event-loop stall during the train), helpersNice (the children's nice value, or why
 * it was not set), machinePauseMs (the time during which all three processes were stalled together for
 * more than 5 ms: a pause of the whole virtual machine, bench/stall-watch.ts), load1 (os.loadavg()[0] at the end of the run).
 * PLAYOUT_DEBUG=1 prints each late spike (time into the run, true latency, D) to stderr.
 */
import { getPriority, loadavg, setPriority } from 'node:os'
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { DeliveryThread, Playout, SystemClock, createNode } from '../src/index.ts'
import type { PeerClockOptions, PlayoutDelay, TimedEvent } from '../src/index.ts'
import type { DelayProxyStats } from '../src/netem/index.ts'
import { RealTimeScheduler } from '../src/timing/scheduler.ts'
import type { Scheduler, TimerHandle } from '../src/timing/scheduler.ts'
import { PeerProcess, clockBase, cpuSeconds, serverToClient } from './timing-peer.ts'
import { StallWatch, commonStallUs } from './stall-watch.ts'
import type { Stall } from './stall-watch.ts'
import type { ServerInfo, TrainResult } from './timing-peer.ts'
import { printer, round, sleep } from './report.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    /** Clock-sync options of the client node (PeerClockOptions as JSON); default: the node's defaults. */
    sync: { type: 'string', default: '' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    modes: { type: 'string', default: 'raw,fixed,adaptive' },
    spins: { type: 'string', default: '2000' },
    /** The scheduler's busy-wait window, µs (RealTimeSchedulerOptions.busyUs); default its default. */
    busy: { type: 'string', default: '' },
    /** Where playout delivers: 'loop' (RealTimeScheduler on the event loop) and/or 'thread' (DeliveryThread). */
    delivery: { type: 'string', default: 'loop,thread' },
    /** The DeliveryThread's busy-wait window, µs. */
    'thread-spin': { type: 'string', default: '500' },
    /**
     * The DeliveryThread's nice value ('' for its default, −20). −19: one step below the children, so
     * that the emulated network and remote site are never kept waiting by the subscriber's busy wait.
     */
    'thread-priority': { type: 'string', default: '-19' },
    'fixed-ms': { type: 'string', default: '40' },
    /** Options of the adaptive delay (AdaptiveDelay fields as JSON), e.g. '{"slewUp":0.02}'; default: its defaults. */
    adaptive: { type: 'string', default: '' },
    'min-gap-ms': { type: 'string', default: '5' },
    'max-gap-ms': { type: 'string', default: '10' },
    'offset-us': { type: 'string', default: '1500000' },
    'drift-ppm': { type: 'string', default: '100' },
    'delay-ms': { type: 'string', default: '20' },
    'jitter-ms': { type: 'string', default: '5' },
    /**
     * Nice value of the publisher and proxy processes ('' leaves them alone). They stand for another site
     * and the network between: hardware of their own in a real experiment, not something the subscriber's
     * busy waits should take CPU from.
     */
    'helpers-nice': { type: 'string', default: '-20' },
    /** Nice value of this process's main thread (the subscriber's network input); '' leaves it alone. */
    nice: { type: 'string', default: '' },
    /** The proxy's busy-wait before each release, ms. */
    'proxy-spin-ms': { type: 'string', default: '0' }
  }
})
const seconds = Number(args.seconds)
const warmup = Number(args.warmup)
const modes = args.modes.split(',')
const spins = args.spins.split(',').map(Number)
const deliveries = args.delivery.split(',')
/** The (delivery, spin) pairs of a playout mode: each loop spin, then the thread. */
function runsOf (): Array<{ delivery: string, spinUs: number }> {
  const r: Array<{ delivery: string, spinUs: number }> = []
  if (deliveries.includes('loop')) for (const spinUs of spins) r.push({ delivery: 'loop', spinUs })
  if (deliveries.includes('thread')) r.push({ delivery: 'thread', spinUs: Number(args['thread-spin']) })
  return r
}
type ProxyStats = DelayProxyStats & { cpuSeconds: number }
const TARGET_ISI_P99_US = 200
const TARGET_LATE = 0.001

const print = printer(args.json)


/** The q-quantile (nearest rank) of |values|. */
function absQ (values: readonly number[], q: number): number {
  if (values.length === 0) return NaN
  const s = values.map(Math.abs).sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]
}

/** A scheduler that records how late each timer fires (fire time − requested time, µs). */
class TimedScheduler implements Scheduler {
  readonly inner: Scheduler
  lateness: number[] = []
  /** Due time of each timer, µs, parallel to lateness. */
  due: number[] = []

  constructor (inner: Scheduler) {
    this.inner = inner
  }

  nowUs (): number {
    return this.inner.nowUs()
  }

  setTimer (atUs: number, fn: () => void): TimerHandle {
    return this.inner.setTimer(atUs, () => {
      this.lateness.push(this.inner.nowUs() - atUs)
      this.due.push(atUs)
      fn()
    })
  }

  clearTimer (handle: TimerHandle): void {
    this.inner.clearTimer(handle)
  }
}

/** Timers later than 100 µs, and how many of them overlap a garbage collection of this process. */
function lateTimerCauses (s: TimedScheduler, gcs: ReadonlyArray<{ startUs: number, durUs: number }>): Record<string, number> {
  let late = 0
  let gc = 0
  for (let i = 0; i < s.lateness.length; i++) {
    if (s.lateness[i] <= 100) continue
    late++
    const from = s.due[i] - 2000
    const to = s.due[i] + s.lateness[i]
    if (gcs.some(g => g.startUs < to && g.startUs + g.durUs > from)) gc++
  }
  return { timersLate100Us: late, timersLateWithGc: gc }
}

const timeoutMs = (seconds + warmup + 60) * 1000
const server = new PeerProcess(timeoutMs)
const proxyProc = new PeerProcess(timeoutMs)
const base = new SystemClock()
const syncOptions = args.sync === '' ? undefined : JSON.parse(args.sync) as PeerClockOptions
const node = await createNode({ name: 'bench-sub', listen: [] }, { clock: base, clockSync: syncOptions })
// A watchdog: the whole run must not take much more than planned.
const runs = modes.reduce((n, m) => n + (m === 'raw' ? 1 : runsOf().length), 0)
const plannedS = runs * (seconds + warmup + 5) + 60
setTimeout(() => {
  console.error(`bench: gave up after ${plannedS} s`)
  process.exit(2)
}, plannedS * 1000).unref()

try {
  let subNice: number | string = 'unchanged'
  if (args.nice !== '') {
    try {
      setPriority(process.pid, Number(args.nice))
      subNice = getPriority(process.pid)
    } catch (err) {
      subNice = `not set: ${(err as Error).message}`
    }
  }
  let helpersNice: number | string = 'unchanged'
  if (args['helpers-nice'] !== '') {
    try {
      for (const p of [server, proxyProc]) helpersNice = (await p.call<{ nice: number }>('nice', { nice: Number(args['helpers-nice']) })).nice
    } catch (err) {
      helpersNice = `not set: ${(err as Error).message}`
    }
  }
  const info = await server.call<ServerInfo>('server.start', { offsetUs: Number(args['offset-us']), driftPpm: Number(args['drift-ppm']), spikes: true })
  const link = { delayMs: Number(args['delay-ms']), jitterMs: Number(args['jitter-ms']) }
  const { port } = await proxyProc.call<{ port: number }>('proxy.start', { target: info.port, up: link, down: link, seed: 7, spinMs: Number(args['proxy-spin-ms']) })
  const ourBase = clockBase()
  const trueLocal = (serverUs: number): number => serverToClient(info, ourBase, serverUs)

  const sub = node.subscribe(`/ip4/127.0.0.1/tcp/${port}/p2p/${info.peerId}`, 'spikes', { reconnect: false })
  await sub.ready()
  const pc = node.clockFor(info.peerId)
  const t0 = base.nowUs()
  while (!pc.estimator.estimate(base.nowUs()).converged) {
    if (base.nowUs() - t0 > 30e6) throw new Error('the clock estimate did not converge within 30 s')
    await sleep(5)
  }
  const convergeMs = (base.nowUs() - t0) / 1000

  // Arrival time of each spike (registered before any playout, so it runs first for each batch).
  let arrivals = new Map<number, number>()
  sub.onBatch(({ batch }) => {
    const at = base.nowUs()
    for (let i = 0; i < batch.count; i++) arrivals.set(batch.times[i], at)
  })

  let seed = 1
  for (const mode of modes) {
    for (const run of mode === 'raw' ? [{ delivery: 'none', spinUs: NaN }] : runsOf()) {
      const { delivery, spinUs } = run
      arrivals = new Map()
      const delivered = new Map<number, TimedEvent>()
      const scheduler = new TimedScheduler(new RealTimeScheduler(base, { spinUs: Number.isNaN(spinUs) || delivery === 'thread' ? 0 : spinUs, busyUs: args.busy === '' ? undefined : Number(args.busy) }))
      let thread: DeliveryThread | undefined
      let playout: Playout | undefined
      if (mode !== 'raw') {
        const delay: PlayoutDelay = mode === 'fixed'
          ? { mode: 'fixed', us: Number(args['fixed-ms']) * 1000 }
          : { ...(args.adaptive === '' ? {} : JSON.parse(args.adaptive) as object), mode: 'adaptive' }
        if (delivery === 'thread') {
          thread = new DeliveryThread({ clock: base, spinUs, priority: args['thread-priority'] === '' ? undefined : Number(args['thread-priority']) })
          await thread.ready()
        }
        playout = new Playout(sub, { scheduler, clockMap: peer => node.clockMap(peer), delay, thread, onEvent: e => { delivered.set(e.timeUs, e) } })
      }
      const proxyBefore = await proxyProc.call<ProxyStats>('proxy.stats')
      const gcs: Array<{ startUs: number, durUs: number }> = []
      const gcObs = new PerformanceObserver(list => {
        for (const e of list.getEntries()) gcs.push({ startUs: (performance.timeOrigin + e.startTime) * 1000, durUs: e.duration * 1000 })
      })
      gcObs.observe({ entryTypes: ['gc'] })
      const loop = monitorEventLoopDelay({ resolution: 10 })
      loop.enable()
      const stallWatch = new StallWatch()
      stallWatch.start()
      await Promise.all([server.call('stalls.start'), proxyProc.call('stalls.start')])
      const cpu0 = cpuSeconds()
      const wall0 = base.nowUs()
      const train = await server.call<TrainResult>('server.train', { seconds: warmup + seconds, minGapMs: Number(args['min-gap-ms']), maxGapMs: Number(args['max-gap-ms']), seed: seed++ })
      const got = (): number => mode === 'raw' ? arrivals.size : delivered.size
      const waitEnd = base.nowUs() + 3e6
      while (got() < train.times.length && base.nowUs() < waitEnd) await sleep(5)
      const cpu = (cpuSeconds() - cpu0) / ((base.nowUs() - wall0) / 1e6)
      const stallLists = [stallWatch.stop(), ...await Promise.all([server.call<Stall[]>('stalls.stop'), proxyProc.call<Stall[]>('stalls.stop')])]
      loop.disable()
      gcObs.disconnect()
      const stats = playout?.stats()
      playout?.close()
      const threadStats = thread?.stats()
      await thread?.close()
      const proxyAfter = await proxyProc.call<ProxyStats>('proxy.stats')

      const first = train.times[0] + warmup * 1e6
      const measured = train.times.filter(t => t >= first)
      const isiErr: number[] = []
      const mapIsiErr: number[] = []
      const dueIsiErr: number[] = []
      const latency: number[] = []
      let late = 0
      let events = 0
      let missing = 0
      for (let i = 0; i < measured.length; i++) {
        const t = measured[i]
        const arrival = arrivals.get(t)
        if (arrival !== undefined) latency.push(arrival - trueLocal(t))
        const at = mode === 'raw' ? arrival : delivered.get(t)?.atUs
        if (at === undefined) { missing++; continue }
        events++
        const e = delivered.get(t)
        if (e?.late === true) {
          late++
          if (process.env.PLAYOUT_DEBUG !== undefined) console.error(`late: ${((t - first) / 1e6).toFixed(2)} s, latency ${((arrival ?? NaN) - trueLocal(t)).toFixed(0)} µs, D ${(e.dueUs - e.localUs).toFixed(0)}`)
        }
        if (i === 0) continue
        const prev = measured[i - 1]
        const prevAt = mode === 'raw' ? arrivals.get(prev) : delivered.get(prev)?.atUs
        if (prevAt === undefined) continue
        const sentIsi = trueLocal(t) - trueLocal(prev)
        isiErr.push(at - prevAt - sentIsi)
        if (e !== undefined) {
          mapIsiErr.push(e.localUs - delivered.get(prev)!.localUs - sentIsi)
          dueIsiErr.push(e.dueUs - delivered.get(prev)!.dueUs - sentIsi)
        }
      }
      const isiP99 = absQ(isiErr, 0.99)
      // Delivery time − due time of the measured events that were not late.
      const deliveryLate = measured.map(t => delivered.get(t)).filter(e => e !== undefined && !e.late).map(e => e!.atUs - e!.dueUs)
      const line: Record<string, unknown> = {
        bench: 'playout',
        mode,
        isiErrP50Us: round(absQ(isiErr, 0.5), 1),
        isiErrP99Us: round(isiP99, 1),
        lateFraction: stats === undefined ? null : round(late / events, 5),
        events,
        delayUs: stats === undefined ? null : round(stats.delayUs),
        adaptive: mode === 'adaptive' && args.adaptive !== '' ? JSON.parse(args.adaptive) as object : undefined,
        delivery: mode === 'raw' ? null : delivery,
        spinUs: mode === 'raw' ? null : spinUs,
        isiErrMaxUs: round(absQ(isiErr, 1), 1),
        isiErrWithin200Us: round(isiErr.filter(x => Math.abs(x) <= 200).length / isiErr.length, 4),
        meanIsiUs: round(measured.length > 1 ? (trueLocal(measured[measured.length - 1]) - trueLocal(measured[0])) / (measured.length - 1) : NaN),
        missing,
        mapIsiErrP99Us: mode === 'raw' ? null : round(absQ(mapIsiErr, 0.99), 1),
        mapIsiErrMaxUs: mode === 'raw' ? null : round(absQ(mapIsiErr, 1), 1),
        dueIsiErrP99Us: mode === 'raw' ? null : round(absQ(dueIsiErr, 0.99), 1),
        dueIsiErrMaxUs: mode === 'raw' ? null : round(absQ(dueIsiErr, 1), 1),
        deliveryLateP50Us: mode === 'raw' ? null : round(absQ(deliveryLate, 0.5), 1),
        deliveryLateP99Us: mode === 'raw' ? null : round(absQ(deliveryLate, 0.99), 1),
        deliveryLateMaxUs: mode === 'raw' ? null : round(absQ(deliveryLate, 1), 1),
        ...(delivery === 'loop' ? lateTimerCauses(scheduler, gcs) : {}),
        ...(threadStats === undefined ? {} : { threadPriority: threadStats.priority?.applied, threadLateHandoffs: threadStats.lateHandoffs, threadOverflow: threadStats.overflow, threadFailed: threadStats.failed }),
        gcCount: gcs.length,
        gcMaxMs: round(gcs.reduce((m, g) => Math.max(m, g.durUs), 0) / 1000, 2),
        latencyP50Us: round(absQ(latency, 0.5)),
        latencyP99Us: round(absQ(latency, 0.99)),
        subCpu: round(cpu, 3),
        loopDelayP99Ms: round(loop.percentile(99) / 1e6 - 10, 2),
        loopDelayMaxMs: round(loop.max / 1e6 - 10, 2),
        proxyLateP99Ms: round(proxyAfter.down.lateMs.p99, 3),
        proxyLateMaxMs: round(proxyAfter.down.lateMs.max, 3),
        pubLoopDelayMaxMs: round(train.loopDelayMaxMs, 2),
        helpersNice,
        subNice,
        machinePauseMs: round(commonStallUs(stallLists) / 1000, 1),
        proxyCpu: round((proxyAfter.cpuSeconds - proxyBefore.cpuSeconds) / ((base.nowUs() - wall0) / 1e6), 3),
        clockBursts: pc.stats.bursts,
        convergeMs: round(convergeMs),
        sync: args.sync === '' ? 'default' : syncOptions,
        seconds
      }
      if (mode !== 'raw') {
        line.targetIsiErrP99Us = TARGET_ISI_P99_US
        let met = isiP99 <= TARGET_ISI_P99_US
        if (mode === 'adaptive') {
          line.targetLateFraction = TARGET_LATE
          met &&= late / events <= TARGET_LATE
        }
        line.met = met
      }
      line.load1 = round(loadavg()[0], 2)
      print(line)
    }
  }
  await sub.close()
} finally {
  await node.stop()
  await proxyProc.exit()
  await server.exit()
}
