/**
 * Named errors of the models. Each carries a stable `code`; tests and callers check the code, not the message.
 */

export class ModelError extends Error {
  readonly code: string

  constructor (code: string, message: string) {
    super(message)
    this.name = 'ModelError'
    this.code = code
  }
}

/** A model was built with a parameter outside its documented range. */
export class ModelParamError extends ModelError {
  readonly param: string

  constructor (param: string, message: string) {
    super('invalid-param', `${param}: ${message}`)
    this.name = 'ModelParamError'
    this.param = param
  }
}

/** A model was driven incorrectly (for example `advanceTo` with a non-finite time). Data errors are counted instead. */
export class ModelUsageError extends ModelError {
  constructor (code: string, message: string) {
    super(code, message)
    this.name = 'ModelUsageError'
  }
}

/** Codes of {@link ReplayFormatError}; REPLAY-FORMAT.md lists the rule each one stands for. */
export type ReplayErrorCode =
  | 'file-too-large'
  | 'bad-encoding'
  | 'unknown-format'
  | 'line-too-long'
  | 'bad-header'
  | 'bad-field-count'
  | 'bad-json'
  | 'bad-record'
  | 'bad-channel'
  | 'bad-time'
  | 'time-regression'
  | 'too-many-events'
  | 'empty-file'

/** A spike-train file broke a rule of REPLAY-FORMAT.md. `line` is 1-based, 0 when the error concerns the whole file. */
export class ReplayFormatError extends ModelError {
  readonly line: number

  constructor (code: ReplayErrorCode, line: number, message: string) {
    super(code, line > 0 ? `line ${line}: ${message}` : message)
    this.name = 'ReplayFormatError'
    this.line = line
  }
}
