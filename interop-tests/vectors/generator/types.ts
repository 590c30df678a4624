/** Shapes of a vector definition (what the defs/ files write) and of a vector file. */
import type { Json, Message } from './mapping.ts'

/** [channel, time] for spike ports, [channel, time, value] for weighted ports. */
export type Event = [number, number] | [number, number, number]

/** What the receiver knows besides the bytes. */
export interface Context {
  kind?: 'spike' | 'weighted'
  channels?: number
  max_events?: number
  max_frame?: number
  filter?: number[]
  /** clocksync vectors: ε of spec §9.3.3, µs. */
  negative_delay_tolerance_us?: number
}

export interface VectorDef {
  id: string
  title: string
  why: string
  context?: Context
  /** Valid vectors: the JSON mapping of the message. */
  message?: Message
  /** Batch vectors: the events the columns must decode to (checked, then written). */
  events?: Event[]
  /** Hex of the CBOR item: the hostile bytes of a failure, or bytes a valid vector must encode to. */
  cbor?: string
  /** Framing vectors: the whole frame as hex, or true to build it from the CBOR item. */
  frame?: string | true
  decodeOnly?: boolean
  code?: string
  /** Stream vectors: the messages the event receiver gets, in order. */
  messages?: Message[]
  failAt?: number
  gap?: number
  /**
   * Batch failures that break other rules as well, on purpose: the order of checks (spec §7.5) makes `code`
   * win over these. The generator checks that the bytes break exactly `code` and these.
   */
  alsoBreaks?: string[]
  /** invalid-cbor vectors whose fault cborg itself does not detect (so the generator cannot check it). */
  cborgBlind?: boolean
  /**
   * Vectors whose bytes hold a float with an integral value: deterministic CBOR, but cborg reads the
   * float back as an integer and re-encodes it as one, so the generator checks them with cborg's strict
   * decoder only.
   */
  integralFloat?: boolean
}

export type VectorFile = { [key: string]: Json }
