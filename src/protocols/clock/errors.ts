/**
 * Errors of the clock-synchronisation code. Each has a stable `code`; tests and callers check the code,
 * never the message.
 */

/** A clock sample (four timestamps of one probe) that cannot be a real measurement. */
export class InvalidClockSampleError extends Error {
  static readonly code = 'invalid-clock-sample'
  readonly code = InvalidClockSampleError.code

  constructor (message: string) {
    super(message)
    this.name = 'InvalidClockSampleError'
  }
}

/** An option or argument outside its documented range. */
export class InvalidClockOptionError extends Error {
  static readonly code = 'invalid-clock-option'
  readonly code = InvalidClockOptionError.code

  constructor (message: string) {
    super(message)
    this.name = 'InvalidClockOptionError'
  }
}
