/**
 * XDF 1.0 (the extensible data format of the Lab Streaming Layer world): a streaming writer and a strict,
 * bounded reader. A side library: it imports the base only and knows nothing of spikewire's wire or nodes;
 * hosting/recording.ts maps subscriptions onto it (docs/recording.md).
 */
export { Tag, BOUNDARY_UUID, XDF_LIMITS } from './constants.ts'
export type { ChannelFormat, NumericFormat } from './constants.ts'
export { XdfError } from './errors.ts'
export type { XdfErrorCode } from './errors.ts'
export { XdfWriter, xmlNumber } from './writer.ts'
export type { StreamInfo, ClockOffset, XdfWriterInit } from './writer.ts'
export { readXdf, readXdfFile } from './reader.ts'
export type { XdfFile, XdfStream, XdfStreamHeader } from './reader.ts'
export { child, parseXml, textAt, xmlString } from './xml.ts'
export type { XmlElement, XmlNode } from './xml.ts'
