/**
 * Named errors of the models. Each carries a stable `code`; tests and callers check the code, not the message.
 */
import { SpikewireBaseError } from '../base/errors.ts'

/** Codes of {@link ModelUsageError}. */
export type ModelUsageErrorCode =
  | 'channel-out-of-range'
  | 'invalid-time'
  | 'invalid-pulse'
  | 'invalid-argument'
  | 'invalid-start'
  | 'already-started'

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

/** Every code a model error can carry. */
export type ModelErrorCode = 'invalid-param' | ModelUsageErrorCode | ReplayErrorCode

/** The common class of the model errors: catch it to catch any of them. */
export class ModelError<Code extends ModelErrorCode = ModelErrorCode> extends SpikewireBaseError<Code> {
  override name = 'ModelError'

  constructor (code: Code, message: string, options?: ErrorOptions) {
    super(code, message, options)
  }
}

/** A model was built with a parameter outside its documented range. */
export class ModelParamError extends ModelError<'invalid-param'> {
  override name = 'ModelParamError'
  readonly param: string

  constructor (param: string, message: string) {
    super('invalid-param', `${param}: ${message}`)
    this.param = param
  }
}

/** A model was driven incorrectly (for example `advanceTo` with a non-finite time). Data errors are counted instead. */
export class ModelUsageError extends ModelError<ModelUsageErrorCode> {
  override name = 'ModelUsageError'
}

/** A spike-train file broke a rule of REPLAY-FORMAT.md. `line` is 1-based, 0 when the error concerns the whole file. */
export class ReplayFormatError extends ModelError<ReplayErrorCode> {
  override name = 'ReplayFormatError'
  readonly line: number

  constructor (code: ReplayErrorCode, line: number, message: string) {
    super(code, line > 0 ? `line ${line}: ${message}` : message)
    this.line = line
  }
}
