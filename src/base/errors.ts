/**
 * The root of every error spikewire throws. Each error class extends it, sets `name` to its own class name
 * and narrows `code` to the codes it can carry. The `code` is kebab-case and stable: callers and tests act
 * on the class and the code, never on the message, which names the broken rule for people.
 *
 * The README ("Errors an application can see") lists the classes and their codes.
 */
export abstract class SpikewireBaseError<Code extends string = string> extends Error {
  readonly code: Code

  constructor (code: Code, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}

/**
 * An argument outside its documented range or of the wrong shape: a bug in the caller, not a fault of the
 * network or of a peer (for example a clock told to go back, or a batch with no events).
 */
export class InvalidArgumentError extends SpikewireBaseError<'invalid-argument'> {
  override name = 'InvalidArgumentError'

  constructor (message: string, options?: ErrorOptions) {
    super('invalid-argument', message, options)
  }
}

/** The object was closed (or stopped) and accepts no more calls or events; `what` names it in the message. */
export class ClosedError extends SpikewireBaseError<'closed'> {
  static readonly code = 'closed'
  override name = 'ClosedError'

  constructor (what: string, options?: ErrorOptions) {
    super(ClosedError.code, `${what} is closed`, options)
  }
}
