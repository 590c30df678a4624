/**
 * Errors of the wire engine that never travel on the wire (those are SpikewireErrors with a registry code,
 * src/codec/errors.ts). Each has a stable `code`; callers and tests check the code, never the message.
 */

/** A link was closed before it was ever usable, so what waited for it will not happen. */
export class LinkClosedError extends Error {
  static readonly code = 'link-closed'
  readonly code = LinkClosedError.code

  constructor (what: string) {
    super(`${what} closed`)
    this.name = 'LinkClosedError'
  }
}
