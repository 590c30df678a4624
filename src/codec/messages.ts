/**
 * The spikewire v1 messages as TypeScript values (spec §8). Field names follow the spec; enumerated
 * fields use their registry names. Batches hold their events as columns (typed arrays), never as one
 * object per event.
 */
import type { DirectionName, ErrorCodeName, KindName, LossReasonName, ModeName } from './constants.ts'

/** [name, value, unit] — unit is "" when dimensionless (spec §8.2). */
export type Param = [name: string, value: number, unit: string]

export interface ModelInfo {
  name: string
  params?: Param[]
}

export interface PortInfo {
  name: string
  direction: DirectionName
  kind: KindName
  channels: number
  model?: ModelInfo
}

export interface DescribeRequest {
  type: 'describe-request'
}

export interface Description {
  type: 'description'
  name: string
  role: string
  ports: PortInfo[]
  software: string
  model?: ModelInfo
  protocols?: string[]
}

export interface Open {
  type: 'open'
  mode: ModeName
  port: string
  /** Strictly ascending channel ids; absent means every channel. */
  channels?: number[]
  /** Requested delivery delay, µs. */
  delay?: number
  /** The opener's per-batch receive limit (subscribe). */
  maxEvents?: number
  /** The opener's own port the events come from (push) or go to (subscribe), informative. */
  source?: string
}

export interface Accept {
  type: 'accept'
  port: string
  kind: KindName
  channels: number
  /** The acceptor's clock when it sent the accept, µs. */
  time: number
  /** The acceptor's per-batch receive limit (push). */
  maxEvents?: number
}

/** An error code: the registry name, or the number when it is not registered. */
export type WireErrorCode = ErrorCodeName | number

export interface Reject {
  type: 'reject'
  code: WireErrorCode
  reason?: string
}

export interface Batch {
  type: 'batch'
  /** Sequence number of the first event. */
  seq: number
  /** Base time, µs; event times are base plus cumulative deltas. */
  base: number
  count: number
  /** Channel id of each event. */
  channels: Uint32Array
  /** Absolute time of each event, µs, non-decreasing. */
  times: Float64Array
  /** One value per event on weighted ports. */
  values?: Float32Array
}

export interface Watermark {
  type: 'watermark'
  /** The next sequence number the sender will use. */
  seq: number
  /** No event with a time before this will follow, µs. */
  time: number
}

export interface Loss {
  type: 'loss'
  seq: number
  count: number
  reason: LossReasonName | number
}

export interface Close {
  type: 'close'
  code: WireErrorCode
  reason?: string
}

export interface ClockRequest {
  type: 'clock-request'
  id: number
  t1: number
}

export interface ClockResponse {
  type: 'clock-response'
  id: number
  t1: number
  t2: number
  t3: number
}

export type Message =
  | DescribeRequest
  | Description
  | Open
  | Accept
  | Reject
  | Batch
  | Watermark
  | Loss
  | Close
  | ClockRequest
  | ClockResponse

export type MessageOf<T extends Message['type']> = Extract<Message, { type: T }>
