/**
 * Errors of the clock-synchronisation code. Each has a stable `code`; tests and callers check the code,
 * never the message.
 */
import { SpikewireBaseError } from '../../base/errors.ts'

/** A clock sample (four timestamps of one probe) that cannot be a real measurement. */
export class InvalidClockSampleError extends SpikewireBaseError<'invalid-clock-sample'> {
  static readonly code = 'invalid-clock-sample'
  override name = 'InvalidClockSampleError'

  constructor (message: string, options?: ErrorOptions) {
    super(InvalidClockSampleError.code, message, options)
  }
}

/** An option or argument outside its documented range. */
export class InvalidClockOptionError extends SpikewireBaseError<'invalid-clock-option'> {
  static readonly code = 'invalid-clock-option'
  override name = 'InvalidClockOptionError'

  constructor (message: string, options?: ErrorOptions) {
    super(InvalidClockOptionError.code, message, options)
  }
}
