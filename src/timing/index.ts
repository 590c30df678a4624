/**
 * Latency compensation for incoming spike streams.
 *
 * - LatencyTracker: one-way latency distribution of a stream (arrival − mapped send time).
 * - PlayoutBuffer: delivers each event at its mapped time + D (fixed, adaptive or synaptic delay).
 * - TimeMerge: merges several streams in timestamp order using watermarks, with a stall bound.
 * - DeliveryThread: delivers played-out events from a worker thread, away from the event loop's network
 *   input, for drivers that need sub-0.1 ms timing.
 * - Scheduler: timers at absolute local times; RealTimeScheduler on the event loop, SimulatedScheduler
 *   for tests and simulations.
 */
export { DelayController } from './delay.ts'
export { DeliveryThread } from './delivery-thread.ts'
export type { DeliveryThreadOptions, DeliveryThreadStats } from './delivery-thread.ts'
export type { AdaptiveDelay, FixedDelay, PlayoutDelay, SynapticDelay } from './delay.ts'
export { ClosedError, DeliveryThreadError, InvalidTimingOptionError, UnknownInputError } from './errors.ts'
export { DEFAULT_LATENCY_WINDOW, LatencyTracker } from './latency.ts'
export type { LatencySnapshot } from './latency.ts'
export { TimeMerge } from './merge.ts'
export type { InputStats, MergeDelivery, MergeOptions, MergeStats, StallInfo } from './merge.ts'
export { PlayoutBuffer } from './playout.ts'
export type { LatePolicy, PlayoutDelivery, PlayoutOptions, PlayoutStats } from './playout.ts'
export type { TimingErrorStats } from './timing-errors.ts'
export { RealTimeScheduler } from './scheduler.ts'
export type { RealTimeSchedulerOptions, Scheduler, TimerHandle } from './scheduler.ts'
export { SimulatedScheduler } from './sim-scheduler.ts'
