/**
 * The 2020 UDP datagram format (docs/gateway-udp2020.md): 8 bytes, two big-endian uint32 words.
 * Word 1: bits 31..24 a sender code (ASCII), bits 23..0 a neuron id. Word 2 from an `A`/`D` sender: bits
 * 31..24 an event type, bits 23..0 the time since that sender's previous event in ticks of 50 µs; from the
 * hub `S`: bits 31..24 a synaptic weight 0..255, bits 23..0 the hub's time in ticks. `R` says "ready".
 * Pure functions: decoding never throws, it names what is wrong.
 */
import { InvalidArgumentError } from '../../base/errors.ts'

/** Every datagram is exactly this long. */
export const DATAGRAM_BYTES = 8
/** One tick of the format's clocks, µs. */
export const TICK_US = 50
/** The 24-bit fields (neuron id, delta, hub time) hold values below this. */
export const FIELD_24 = 0x100_0000
/** The sender codes the 2020 programs used. */
export const CODE = { axon: 0x41, dendrite: 0x44, hub: 0x53, ready: 0x52 } as const
/** Event types of `A`/`D` datagrams: post-synaptic potential, stimulated and spontaneous action potential. */
export const EVENT_TYPES = ['psp', 'stimulated-ap', 'spontaneous-ap'] as const

/** Why a datagram was not turned into an event (the counted reasons, stable names). */
export type MalformedReason = 'wrong-length' | 'unknown-sender' | 'neuron-out-of-range' | 'delta-overflow' | 'unknown-event-type'
export const MALFORMED_REASONS: readonly MalformedReason[] = ['wrong-length', 'unknown-sender', 'neuron-out-of-range', 'delta-overflow', 'unknown-event-type']

/** A datagram's two words, split into their fields. */
export interface Datagram {
  /** Sender code (65 `A`, 68 `D`, 83 `S`, 82 `R`, or anything else a peer sent). */
  code: number
  /** Bits 23..0 of word 1. */
  neuron: number
  /** Bits 31..24 of word 2: event type (`A`/`D`) or weight (`S`). */
  high: number
  /** Bits 23..0 of word 2: delta ticks (`A`/`D`) or hub time ticks (`S`). */
  ticks: number
}

/** The fields of an 8-byte datagram, or undefined when it is not 8 bytes long. */
export function decodeDatagram (bytes: Uint8Array): Datagram | undefined {
  if (bytes.length !== DATAGRAM_BYTES) return undefined
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const w1 = v.getUint32(0, false)
  const w2 = v.getUint32(4, false)
  return { code: w1 >>> 24, neuron: w1 & 0xff_ffff, high: w2 >>> 24, ticks: w2 & 0xff_ffff }
}

/** Encode a datagram; every field must be in range (8 bits for code and high, 24 bits for neuron and ticks). */
export function encodeDatagram (d: Datagram): Uint8Array {
  for (const [name, value, limit] of [['code', d.code, 256], ['neuron', d.neuron, FIELD_24], ['high', d.high, 256], ['ticks', d.ticks, FIELD_24]] as const) {
    if (!Number.isInteger(value) || value < 0 || value >= limit) throw new InvalidArgumentError(`datagram field ${name} must be an integer from 0 to ${limit - 1} (got ${value})`)
  }
  const out = new Uint8Array(DATAGRAM_BYTES)
  const v = new DataView(out.buffer)
  v.setUint32(0, ((d.code << 24) | d.neuron) >>> 0, false)
  v.setUint32(4, ((d.high << 24) | d.ticks) >>> 0, false)
  return out
}

/** An `A`/`D` event datagram: `code` ('A' or 'D' or another letter), neuron, event type, delta in ticks. */
export function eventDatagram (code: string, neuron: number, type: number, deltaTicks: number): Uint8Array {
  return encodeDatagram({ code: code.charCodeAt(0), neuron, high: type, ticks: deltaTicks })
}

/** The hub's `S` datagram: neuron (channel), weight 0..255, hub time in ticks (taken modulo 2^24). */
export function hubDatagram (neuron: number, weight: number, ticks: number): Uint8Array {
  return encodeDatagram({ code: CODE.hub, neuron, high: weight, ticks: ((ticks % FIELD_24) + FIELD_24) % FIELD_24 })
}

/** A `R` (ready) datagram. */
export function readyDatagram (neuron = 0): Uint8Array {
  return encodeDatagram({ code: CODE.ready, neuron, high: 0, ticks: 0 })
}

/** Hex of a datagram as the docs write it: "41000007 01000014". */
export function datagramHex (bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex')
  return bytes.length === DATAGRAM_BYTES ? `${hex.slice(0, 8)} ${hex.slice(8)}` : hex
}
