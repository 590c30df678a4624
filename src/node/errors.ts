/** Errors of node setup (not wire errors): a bad config file or key file. */
export class ConfigError extends Error {
  override name = 'ConfigError'
  readonly code: 'config-invalid' | 'config-unreadable' | 'key-invalid' | 'key-permissions' | 'key-exists'

  constructor (code: ConfigError['code'], message: string) {
    super(message)
    this.code = code
  }
}
