/**
 * Errors of the latency-compensation code (playout, merge, delivery thread). Each has a stable `code`;
 * callers and tests check the code, never the message.
 */
import { SpikewireBaseError } from '../base/errors.ts'

/** An option or argument outside its documented range. */
export class InvalidTimingOptionError extends SpikewireBaseError<'invalid-timing-option'> {
  static readonly code = 'invalid-timing-option'
  override name = 'InvalidTimingOptionError'

  constructor (message: string, options?: ErrorOptions) {
    super(InvalidTimingOptionError.code, message, options)
  }
}

/** A merge input id that was never added or was removed. */
export class UnknownInputError extends SpikewireBaseError<'unknown-input'> {
  static readonly code = 'unknown-input'
  override name = 'UnknownInputError'

  constructor (input: number) {
    super(UnknownInputError.code, `unknown merge input ${input}`)
  }
}

/** A playout buffer, merge or delivery thread used after close(). Defined in the base layer, shared with other layers. */
export { ClosedError } from '../base/errors.ts'

/** A delivery thread's driver module did not load, or its worker stopped. */
export class DeliveryThreadError extends SpikewireBaseError<'delivery-thread-failed'> {
  static readonly code = 'delivery-thread-failed'
  override name = 'DeliveryThreadError'

  constructor (message: string, options?: ErrorOptions) {
    super(DeliveryThreadError.code, message, options)
  }
}
