/**
 * spikewire codec: pure functions that encode and strictly decode every v1 message (spec §5–§8).
 *
 * ```ts
 * const frame = encodeFrame({ type: 'watermark', seq: 10, time: 1_700_000_000_000_000 })
 * const decoder = new FrameDecoder()
 * for (const body of decoder.push(frame)) console.log(decodeMessage(body))
 * ```
 */
export * from './constants.ts'
export * from './errors.ts'
export type * from './messages.ts'
export { encodeMessage, encodeFrame, frameBytes } from './encode.ts'
export { decodeMessage } from './decode.ts'
export type { DecodeOptions } from './decode.ts'
export { FrameDecoder, splitFrames } from './frame.ts'
export type { FrameDecoderInit } from './frame.ts'
export { BatchBuilder, ColumnScratch, SharedBatch, encodeBatchBytes, encodePackedBatch, packColumns, forEachEvent } from './batch.ts'
export type { PackedColumns } from './batch.ts'
export { messageToJson, messageFromJson, batchEventsToJson, batchColumns, toHex, fromHex } from './json.ts'
export type { JsonMessage } from './json.ts'
