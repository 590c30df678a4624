import { SpikewireBaseError } from '../base/errors.ts'
import { ErrorCode } from './constants.ts'
import type { ErrorCodeName } from './constants.ts'

/**
 * An error that has a code in the spikewire error registry (spec §10). The `code` is stable and is what
 * tests and peers act on; the message names the broken rule for people.
 */
export class SpikewireError extends SpikewireBaseError<ErrorCodeName> {
  override name = 'SpikewireError'

  constructor (code: ErrorCodeName, message: string, options?: ErrorOptions) {
    super(code, message, options)
  }

  /** The registry number that travels in reject and close messages. */
  get wireCode (): number {
    return ErrorCode[this.code]
  }
}

/** Framing errors (spec §5): bad length prefix, oversize or truncated frame. */
export class FrameError extends SpikewireError {
  override name = 'FrameError'
}

/** The bytes of a frame are not well-formed deterministic CBOR (spec §7). */
export class CborError extends SpikewireError {
  override name = 'CborError'

  constructor (message: string) {
    super('invalid-cbor', message)
  }
}

/** A well-formed CBOR item that is not a valid spikewire message (spec §7, §8). */
export class MessageError extends SpikewireError {
  override name = 'MessageError'
}

/** A valid message that breaks the stream rules (spec §9): order, sequence, time, port, authorisation. */
export class StreamError extends SpikewireError {
  override name = 'StreamError'
}

const names = new Map<number, ErrorCodeName>(
  Object.entries(ErrorCode).map(([name, n]) => [n, name as ErrorCodeName])
)

/** The registry name of a wire error number, or undefined when it is not registered. */
export function errorCodeName (n: number): ErrorCodeName | undefined {
  return names.get(n)
}

/** Wrap anything thrown into a SpikewireError (unknown errors become internal-error). */
export function toSpikewireError (err: unknown): SpikewireError {
  if (err instanceof SpikewireError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new SpikewireError('internal-error', message, { cause: err })
}
