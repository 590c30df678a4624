import { SpikewireBaseError } from '../base/errors.ts'

/**
 * Why an XDF file could not be read. A file is hostile input: every broken rule has a stable code.
 * A file that merely ends inside a chunk is not an error: the reader returns what came before it and
 * reports the truncation (`XdfFile.truncated`).
 */
export type XdfErrorCode =
  /** The file does not start with "XDF:". */
  | 'xdf-bad-magic'
  /** NumLengthBytes is not 1, 4 or 8, or a length is shorter than its chunk needs. */
  | 'xdf-bad-length'
  /** A chunk, an XML text, a string value or a count is larger than the reader's limits. */
  | 'xdf-too-large'
  /** A chunk's content does not match its tag (wrong size, bad boundary bytes, samples that overrun it). */
  | 'xdf-bad-chunk'
  /** A header or footer is not well-formed XML, or lacks a required field. */
  | 'xdf-bad-xml'
  /** A Samples, ClockOffset or StreamFooter chunk names a stream without a header, or a header repeats. */
  | 'xdf-unknown-stream'
  /** A stream header names a channel format or channel count the reader does not know. */
  | 'xdf-bad-format'
  /** The file could not be opened or read (the cause says why). */
  | 'xdf-io'

export class XdfError extends SpikewireBaseError<XdfErrorCode> {
  override name = 'XdfError'
  /** Byte offset in the file where the broken chunk starts (undefined when not tied to one). */
  readonly offset: number | undefined

  constructor (code: XdfErrorCode, message: string, offset?: number, options?: ErrorOptions) {
    super(code, offset === undefined ? message : `${message} (chunk at byte ${offset})`, options)
    this.offset = offset
  }
}
