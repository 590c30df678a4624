/**
 * Errors of the wire engine that never travel on the wire (those are SpikewireErrors with a registry code,
 * src/codec/errors.ts). Each has a stable `code`; callers and tests check the code, never the message.
 */
import { SpikewireBaseError } from '../base/errors.ts'

/** A link was closed before it was ever usable, so what waited for it will not happen. */
export class LinkClosedError extends SpikewireBaseError<'link-closed'> {
  static readonly code = 'link-closed'
  override name = 'LinkClosedError'

  constructor (what: string) {
    super(LinkClosedError.code, `${what} closed before it was ready`)
  }
}
