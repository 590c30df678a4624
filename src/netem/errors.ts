/**
 * Errors of the user-space network emulator. They never travel on the wire; the `code` is stable and is
 * what tests act on, the message names the broken rule for people.
 */
import { SpikewireBaseError } from '../base/errors.ts'

/** A listen or target address that is not a loopback IP literal (127.0.0.0/8 or ::1), or a bad port. */
export class NetemAddressError extends SpikewireBaseError<'invalid-address'> {
  static readonly code = 'invalid-address'
  override name = 'NetemAddressError'

  constructor (message: string, options?: ErrorOptions) {
    super(NetemAddressError.code, message, options)
  }
}

/** A link parameter out of range (negative delay, zero rate, unknown jitter distribution, …). */
export class NetemParamsError extends SpikewireBaseError<'invalid-link-params'> {
  static readonly code = 'invalid-link-params'
  override name = 'NetemParamsError'

  constructor (message: string, options?: ErrorOptions) {
    super(NetemParamsError.code, message, options)
  }
}

/** An operation on a proxy that has been closed. */
export class NetemClosedError extends SpikewireBaseError<'closed'> {
  static readonly code = 'closed'
  override name = 'NetemClosedError'

  constructor (message: string, options?: ErrorOptions) {
    super(NetemClosedError.code, message, options)
  }
}
