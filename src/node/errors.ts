import { SpikewireBaseError } from '../base/errors.ts'

/** Codes of {@link ConfigError}. */
export type ConfigErrorCode = 'config-invalid' | 'config-unreadable' | 'key-invalid' | 'key-permissions' | 'key-exists'

/** Errors of node setup (not wire errors): a bad config file or key file. */
export class ConfigError extends SpikewireBaseError<ConfigErrorCode> {
  override name = 'ConfigError'

  constructor (code: ConfigErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
  }
}
