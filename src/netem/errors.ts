/**
 * Errors of the user-space network emulator. They never travel on the wire; the `code` is stable and is
 * what tests act on, the message names the broken rule for people.
 */

/** A listen or target address that is not a loopback IP literal (127.0.0.0/8 or ::1). */
export class NetemAddressError extends Error {
  override name = 'NetemAddressError'
  readonly code = 'ERR_NETEM_ADDRESS'
}

/** A link parameter out of range (negative delay, zero rate, unknown jitter distribution, …). */
export class NetemParamsError extends Error {
  override name = 'NetemParamsError'
  readonly code = 'ERR_NETEM_PARAMS'
}

/** An operation on a proxy that has been closed. */
export class NetemClosedError extends Error {
  override name = 'NetemClosedError'
  readonly code = 'ERR_NETEM_CLOSED'
}
