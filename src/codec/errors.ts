import { SpikewireBaseError } from '../base/errors.ts'
import { ErrorCode } from './constants.ts'
import type { ErrorCodeName } from './constants.ts'
import type { Close, WireErrorCode } from './messages.ts'

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

/**
 * An error the peer reported on the wire rather than one found here: `code` is the registry name it sent,
 * or 'internal-error' when the number it sent is not registered; `wireCode` is always the number it sent.
 */
export class PeerReportedError extends SpikewireError {
  override name = 'PeerReportedError'

  /** The peer's own explanation, if it gave one. */
  readonly reason: string | undefined
  readonly #wireCode: number

  constructor (code: WireErrorCode, message: string, reason?: string) {
    super(typeof code === 'number' ? (errorCodeName(code) ?? 'internal-error') : code, message)
    this.#wireCode = typeof code === 'number' ? code : ErrorCode[code]
    this.reason = reason
  }

  override get wireCode (): number {
    return this.#wireCode
  }
}

/** The acceptor refused an open with reject{code} (spec §9.2). */
export class RejectedError extends PeerReportedError {
  override name = 'RejectedError'

  constructor (code: WireErrorCode, reason?: string) {
    super(code, reason ?? `rejected: ${String(code)}`, reason)
  }
}

/**
 * The peer ended the stream with close{code} (spec §8.9) where the local side did not expect a clean end:
 * a code other than normal, or any close before the answer a request waits for.
 */
export class RemoteCloseError extends PeerReportedError {
  override name = 'RemoteCloseError'

  constructor (code: WireErrorCode, reason?: string) {
    super(code, `the peer closed the stream with ${String(code)}${reason === undefined ? '' : `: ${reason}`}`, reason)
  }
}

/**
 * How a session that was set up ends on the remote's close: cleanly (undefined) for close{normal},
 * otherwise with a RemoteCloseError carrying the remote's code.
 */
export function remoteCloseError (close: Close): RemoteCloseError | undefined {
  return close.code === 'normal' ? undefined : new RemoteCloseError(close.code, close.reason)
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
