/** Errors of a node's port table. The `code` is stable; tests and callers check it, not the message. */
export class PortError extends Error {
  override name = 'PortError'
  readonly code: 'unknown-port' | 'port-exists'

  constructor (code: PortError['code'], message: string) {
    super(message)
    this.code = code
  }
}
