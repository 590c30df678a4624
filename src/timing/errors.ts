/**
 * Errors of the latency-compensation code (playout, merge). Each has a stable `code`; callers and tests
 * check the code, never the message.
 */

/** An option or argument outside its documented range. */
export class InvalidTimingOptionError extends Error {
  static readonly code = 'invalid-timing-option'
  readonly code = InvalidTimingOptionError.code

  constructor (message: string) {
    super(message)
    this.name = 'InvalidTimingOptionError'
  }
}

/** A merge input id that was never added or was removed. */
export class UnknownInputError extends Error {
  static readonly code = 'unknown-input'
  readonly code = UnknownInputError.code

  constructor (input: number) {
    super(`unknown merge input ${input}`)
    this.name = 'UnknownInputError'
  }
}

/** The object was closed; it accepts no more events. */
export class ClosedError extends Error {
  static readonly code = 'closed'
  readonly code = ClosedError.code

  constructor (what: string) {
    super(`${what} is closed`)
    this.name = 'ClosedError'
  }
}

/** A delivery thread's driver module did not load, or its worker stopped. */
export class DeliveryThreadError extends Error {
  static readonly code = 'delivery-thread-failed'
  readonly code = DeliveryThreadError.code

  constructor (message: string) {
    super(message)
    this.name = 'DeliveryThreadError'
  }
}
